// One port, one gateway: a second start on a port a gateway serves is refused in one line, exit 78,
// whatever WORKERS says; so are the other reasons a listen fails. The first keeps every viewer.
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { TestClient } from "../support/ws_client.ts";

/** Runs `serve` with `env`; it must stop at once with exit 78 and exactly one line. */
async function refusedToListen(env: Record<string, string>, wrap?: readonly string[]) {
  const result = await runCli([], { HOST: "127.0.0.1", ...env }, {
    timeoutMs: 15_000,
    ...(wrap !== undefined && { wrap }),
  });
  assert.equal(result.code, 78, result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, no stack trace: ${result.stderr}`);
  assert.match(lines[0]!, /^tvs-realtime: cannot listen: /);
  return lines[0]!;
}

Deno.test("a second gateway on a port one serves stops at once, with any number of workers", async () => {
  await using first = await GatewayProcess.start({
    WORKERS: "2",
    PUBLISH_INSECURE_LOOPBACK: "true",
  });
  const port = String(first.port);
  for (const workers of ["2", "1", "auto"]) {
    const line = await refusedToListen({ PORT: port, WORKERS: workers });
    assert.match(line, new RegExp(`PORT ${port} on 127\\.0\\.0\\.1 is in use`), workers);
  }
  await using viewer = await TestClient.connect(`${first.ws}/?region=AE`);
  for (let n = 1; n <= 5; n++) {
    const answer = await fetch(`${first.http}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ event: "new_trending", region: "AE", video_id: `p${n}`, title: "x" }),
    });
    assert.equal(answer.status, 202);
    await answer.body?.cancel();
  }
  await viewer.waitForFrames(5);
  assert.deepEqual(viewer.messages.map((message) => message.video_id), [
    "p1",
    "p2",
    "p3",
    "p4",
    "p5",
  ]);
});

Deno.test("a single-worker gateway's port is refused to a second start as well", async () => {
  await using first = await GatewayProcess.start({ WORKERS: "1" });
  for (const workers of ["1", "2"]) {
    const line = await refusedToListen({ PORT: String(first.port), WORKERS: workers });
    assert.match(line, /is in use: another tvs-realtime, or another program, listens there$/);
  }
});

Deno.test("a HOST that is not this machine's, one that does not resolve, and a low port without the capability each say so", async () => {
  assert.match(
    await refusedToListen({ HOST: "10.255.255.1", PORT: "0" }),
    /HOST 10\.255\.255\.1 is not an address of this machine$/,
  );
  assert.match(
    await refusedToListen({ HOST: "gateway.invalid", PORT: "0", WORKERS: "2" }),
    /HOST gateway\.invalid does not resolve: /,
  );
  // Run as root here, the test drops the capability a low port needs, as an unprivileged unit has.
  assert.match(
    await refusedToListen({ PORT: "81" }, ["setpriv", "--bounding-set=-net_bind_service"]),
    /PORT 81 is below 1024 and needs the CAP_NET_BIND_SERVICE capability/,
  );
});
