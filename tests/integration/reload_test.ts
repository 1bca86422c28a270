// SIGHUP re-reads SETTINGS_FILE in a real gateway process: live settings change for the next
// handshake and request, no connection drops, a bad file changes nothing, and settings that need
// a restart are named.
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { attemptHandshake } from "../support/raw_http.ts";
import { hs256, TEST_SECRET } from "../support/tokens.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const OLD_TOKEN = "cron-old-token-0123456789";
const NEW_TOKEN = "cron-new-token-0123456789";

/** POST /publish of one message as the bearer of `token`, answered with its status. */
async function publishAs(http: string, token: string, videoId: string): Promise<number> {
  const response = await fetch(`${http}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ event: "new_trending", region: "AE", video_id: videoId, title: "t" }),
  });
  await response.body?.cancel();
  return response.status;
}

/** The status of a handshake from a page of `origin`, with `token` if given (101: accepted). */
async function handshakeStatus(ws: string, origin: string, token?: string): Promise<number> {
  const query = token === undefined ? "" : `&token=${token}`;
  const response = await attemptHandshake(`${ws.replace("ws:", "http:")}/?region=AE${query}`, {
    origin,
  });
  await response.body?.cancel();
  return response.status;
}

for (const workers of [1, 2]) {
  Deno.test(`SIGHUP with ${workers} worker(s): tokens, origins and limits change live, no client drops, a bad file changes nothing`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tvs-reload-" });
    const settings = `${dir}/settings.env`;
    const tokens = `${dir}/publish_tokens`;
    await Deno.writeTextFile(tokens, `cron:${OLD_TOKEN}\n`);
    await Deno.writeTextFile(
      settings,
      `# as an operator writes it\nALLOWED_ORIGINS=https://old.example\nPUBLISH_TOKENS_FILE=${tokens}\n`,
    );
    await using gateway = await GatewayProcess.start(
      { SETTINGS_FILE: settings, WORKERS: String(workers), PUBLISH_INSECURE_LOOPBACK: "false" },
      [],
      { readable: dir },
    );
    await waitFor(() => gateway.ready(), { what: "ready" });
    await using viewers = await TestClient.connectAll(
      Array.from({ length: 4 }, () => `${gateway.ws}/?region=AE`),
    );
    assert.equal(await handshakeStatus(gateway.ws, "https://old.example"), 101);
    assert.equal(await publishAs(gateway.http, OLD_TOKEN, "before"), 202);
    for (const viewer of viewers) await viewer.waitForVideo("before");

    await Deno.writeTextFile(tokens, `cron:${NEW_TOKEN}\n`);
    await Deno.writeTextFile(
      settings,
      [
        "ALLOWED_ORIGINS=https://new.example",
        `PUBLISH_TOKENS_FILE=${tokens}`,
        "CONNECT_TOKEN=required",
        `CONNECT_TOKEN_SECRET="${TEST_SECRET}"`,
        "MAX_CONNECTIONS_PER_IP=4",
        "HISTORY_SIZE=7",
      ].join("\n"),
    );
    gateway.signal("SIGHUP");
    await waitFor(() => gateway.logs.some((line) => line.msg === "settings reloaded"), {
      what: "settings reloaded",
    });
    const reloaded = gateway.logs.find((line) => line.msg === "settings reloaded")!;
    assert.deepEqual(
      new Set(reloaded.changed as string[]),
      new Set([
        "ALLOWED_ORIGINS",
        "CONNECT_TOKEN",
        "CONNECT_TOKEN_SECRET",
        "MAX_CONNECTIONS_PER_IP",
        "PUBLISH_TOKENS_FILE",
      ]),
    );
    const restart = gateway.logs.find((line) => line.msg?.toString().includes("only a restart"));
    assert.deepEqual(restart?.settings, ["HISTORY_SIZE"]);

    assert.equal(await publishAs(gateway.http, OLD_TOKEN, "old-token"), 401);
    assert.equal(await publishAs(gateway.http, NEW_TOKEN, "after"), 202);
    for (const viewer of viewers) await viewer.waitForVideo("after");
    const token = await hs256({ sub: "reloaded" });
    // Every worker takes the new rules (enough handshakes that each answers some): the origin,
    // the token, then the new per-address limit, which the 4 viewers already fill; they stay.
    for (let i = 0; i < 6; i++) {
      assert.equal(await handshakeStatus(gateway.ws, "https://old.example", token), 403);
      assert.equal(await handshakeStatus(gateway.ws, "https://new.example"), 401);
      assert.equal(await handshakeStatus(gateway.ws, "https://new.example", token), 429);
    }

    await Deno.writeTextFile(settings, "MAX_CONNECTIONS=lots\nCONNECT_TOKEN=off\n");
    gateway.signal("SIGHUP");
    const isRefusal = (line: Record<string, unknown>) =>
      String(line.msg).startsWith("settings reload refused");
    await waitFor(() => gateway.logs.some(isRefusal), { what: "reload refused" });
    const refused = gateway.logs.find(isRefusal)!;
    assert.match(String(refused.errors), /MAX_CONNECTIONS: /);
    assert.equal(await handshakeStatus(gateway.ws, "https://new.example"), 401, "still required");
    assert.equal(await publishAs(gateway.http, NEW_TOKEN, "still"), 202);
    for (const viewer of viewers) await viewer.waitForVideo("still");
    const metrics = await gateway.metricsText();
    for (const result of ["applied", "refused"]) {
      assert.equal(metricValue(metrics, `tvs_settings_reloads_total{result="${result}"}`), 1);
    }
    assert.equal(viewers.filter((viewer) => viewer.frames.length === 0).length, 0);
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a SETTINGS_FILE that cannot be used stops the start in one line, exit 78", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tvs-reload-" });
  await Deno.writeTextFile(`${dir}/typo.env`, "ALLOWED_ORIGIN=https://a.example\n");
  const typo = await runCli(["check-config"], { SETTINGS_FILE: `${dir}/typo.env` }, {
    flags: [`--allow-read=./lib,./static,./deno.json,${dir}`],
  });
  assert.equal(typo.code, 78);
  assert.match(typo.stderr, /SETTINGS_FILE: line 1: ALLOWED_ORIGIN is not a setting/);
  // The binary reads /etc/tvs-realtime only: elsewhere the permission says no, in one line.
  const elsewhere = await runCli(["check-config"], { SETTINGS_FILE: `${dir}/typo.env` });
  assert.equal(elsewhere.code, 78);
  assert.equal(elsewhere.stderr.trim().split("\n").length, 1, elsewhere.stderr);
  assert.match(elsewhere.stderr, /SETTINGS_FILE: cannot read .*typo\.env/);
  await Deno.remove(dir, { recursive: true });
});
