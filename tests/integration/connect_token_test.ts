// Connection tokens end to end: made in the test with jose, brought the ways a browser can, checked
// before the upgrade, and a live connection ended when its token expires.
import assert from "node:assert/strict";
import { TvsClient } from "../../lib/client/tvs-client.js";
import { withPage } from "../support/browser.ts";
import { closing } from "../support/disposable.ts";
import { startTestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { attemptHandshake } from "../support/raw_http.ts";
import { TestEventStream } from "../support/sse_client.ts";
import { hs256, signingKey, startJwksServer, TEST_SECRET, unsigned } from "../support/tokens.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const REQUIRED = { CONNECT_TOKEN: "required", CONNECT_TOKEN_SECRET: TEST_SECRET };

/** Publishes one message to `region` through `POST /publish` (loopback needs no token here). */
async function publish(http: string, region: string, videoId: string): Promise<void> {
  const response = await fetch(`${http}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event: "new_trending", region, video_id: videoId, title: videoId }),
  });
  assert.equal(response.status, 202, await response.text());
}

Deno.test("with CONNECT_TOKEN=required, a handshake without a valid token is refused before the upgrade, and said why", async () => {
  await using gateway = await startTestGateway(REQUIRED);
  const aeOnly = await hs256({ sub: "viewer-1", regions: ["AE"] });
  const cases: [string, string, Record<string, string>, number, string][] = [
    ["none", "?region=AE", {}, 401, "token_required"],
    ["expired", `?region=AE&token=${await hs256({ expIn: -120 })}`, {}, 401, "token_expired"],
    ["not yet", `?region=AE&token=${await hs256({ nbfIn: 300 })}`, {}, 401, "invalid_token"],
    ["alg none", `?region=AE&token=${unsigned({})}`, {}, 401, "invalid_token"],
    ["other region", `?region=AE,GB&token=${aeOnly}`, {}, 403, "region_not_allowed"],
    [
      "protocol",
      "?region=GB",
      { "sec-websocket-protocol": `tvs.v1, ${aeOnly}` },
      403,
      "region_not_allowed",
    ],
  ];
  for (const [name, query, headers, status, error] of cases) {
    const refused = await attemptHandshake(`${gateway.http}/${query}`, headers);
    assert.equal(refused.status, status, name);
    assert.equal((await refused.json()).error, error, name);
    const probe = await fetch(`${gateway.http}/ws${query}`);
    assert.equal(
      probe.status,
      name === "protocol" ? 401 : status,
      `${name}: the probe tells the same`,
    );
    await probe.body?.cancel();
  }
  const stream = await fetch(`${gateway.http}/events?region=AE`);
  assert.equal(stream.status, 401);
  assert.equal((await stream.json()).error, "token_required");
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_handshake_refusals_total{reason="token_required"}'), 4);
  assert.equal(
    metricValue(metrics, 'tvs_handshake_refusals_total{reason="region_not_allowed"}'),
    3,
  );
  const logs = JSON.stringify(gateway.logs);
  assert.ok(!logs.includes(aeOnly.split(".")[2]!), "no token reaches a log");
});

Deno.test("a token in the WebSocket protocols is taken, tvs.v1 is answered, and the claim's regions are heard", async () => {
  await using gateway = await startTestGateway(REQUIRED);
  const token = await hs256({ sub: "viewer-2", regions: ["AE", "GB"] });
  // since= asks for a subscribed frame: each is in its region once that arrives.
  const since = "&since=";
  await using socket = await TestClient.connect(`${gateway.ws}/?region=AE${since}`, [
    "tvs.v1",
    token,
  ]);
  assert.equal(socket.protocol, "tvs.v1", "the answer names tvs.v1, never the token");
  await using query = await TestClient.connect(`${gateway.ws}/?region=GB${since}&token=${token}`);
  await using stream = await TestEventStream.open(
    `${gateway.http}/events?region=AE${since}&token=${token}`,
  );
  await socket.waitForFrames(1);
  await query.waitForFrames(1);
  await stream.waitForFrames(1);
  await publish(gateway.http, "AE", "ae-1");
  await publish(gateway.http, "GB", "gb-1");
  await socket.waitForVideo("ae-1");
  await query.waitForVideo("gb-1");
  await waitFor(() => stream.messages.some((message) => message.video_id === "ae-1"), {
    what: "the stream's message",
  });
});

Deno.test("a live connection is closed with 4004 when its token expires, over either transport, its sub logged", async () => {
  await using gateway = await startTestGateway({ ...REQUIRED, CONNECT_TOKEN_LEEWAY_SECONDS: "0" });
  const token = await hs256({ sub: "viewer-3", expIn: 2 });
  await using socket = await TestClient.connect(`${gateway.ws}/?region=AE&token=${token}`);
  await using stream = await TestEventStream.open(
    `${gateway.http}/events?region=AE&token=${token}`,
  );
  await using lasting = await TestClient.connect(
    `${gateway.ws}/?region=AE&token=${await hs256({ sub: "viewer-4" })}`,
  );
  const closed = await Promise.race([
    socket.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("not closed")), 6000)),
  ]);
  assert.equal(closed.code, 4004);
  await waitFor(() => stream.events.some((event) => event.event === "close"), {
    what: "the stream's close event",
  });
  const close = JSON.parse(stream.events.find((event) => event.event === "close")!.data);
  assert.equal(close.code, 4004);
  await publish(gateway.http, "AE", "after");
  await lasting.waitForVideo("after");
  assert.equal(
    metricValue(await gateway.metricsText(), 'tvs_disconnects_total{code="4004"}'),
    2,
  );
  await gateway.close();
  const expired = gateway.logs.find((line) => line.reason === "token_expired");
  assert.equal(expired?.sub, "viewer-3");
  assert.ok(!JSON.stringify(gateway.logs).includes(token.split(".")[2]!), "no token in a log");
});

for (const transport of ["websocket", "sse"] as const) {
  Deno.test(`over ${transport}, the client library fetches a new token when one expires and resumes without loss`, async () => {
    await using gateway = await startTestGateway({
      ...REQUIRED,
      CONNECT_TOKEN_LEEWAY_SECONDS: "0",
    });
    let issued = 0;
    await using client = closing(
      new TvsClient({
        url: `${gateway.ws}/ws`,
        regions: ["AE"],
        transport,
        token: () => hs256({ sub: `page-${++issued}`, regions: ["AE"], expIn: 2 }),
      }),
    );
    const titles: string[] = [];
    client.addEventListener("trending", (event) => titles.push(event.detail.title));
    client.start();
    await waitFor(() => client.status === "live", { what: "live" });
    const sent: string[] = [];
    const until = Date.now() + 5000;
    for (let i = 0; Date.now() < until && i < 1000; i++) {
      sent.push(`m${i}`);
      await publish(gateway.http, "AE", `m${i}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor(() => titles.length >= sent.length, {
      timeoutMs: 5000,
      what: `${sent.length} messages, got ${titles.length}`,
    });
    assert.deepEqual(titles, sent, "every message exactly once, in order");
    assert.ok(issued >= 3, `a new token at each expiry (${issued} issued)`);
    assert.ok(
      metricValue(await gateway.metricsText(), 'tvs_disconnects_total{code="4004"}') >= 2,
    );
  });
}

Deno.test("in Chromium, the client library's token goes as a subprotocol and the handshake holds", async () => {
  await using gateway = await startTestGateway(REQUIRED);
  const token = await hs256({ sub: "chromium", regions: ["AE"] });
  await withPage(async ({ page, errors }) => {
    await page.goto(`${gateway.http}/status`);
    const result = await page.evaluate(async (token) => {
      const { TvsClient } = await import("/tvs-client.js");
      const client = new TvsClient({ regions: ["AE"], token: () => token });
      const live = new Promise((resolve) => {
        client.addEventListener("status", (event: CustomEvent) => {
          if (event.detail.status === "live" || event.detail.status === "stopped") {
            resolve(event.detail.status);
          }
        });
      });
      client.start();
      const status = await live;
      const bare = await new Promise((resolve) => {
        const socket = new WebSocket(`ws://${location.host}/ws?region=AE`, ["tvs.v1", token]);
        socket.onopen = () => resolve(socket.protocol);
        socket.onerror = () => resolve("failed");
      });
      const transport = client.transport;
      client.close();
      return { status, transport, bare };
    }, token);
    assert.deepEqual(result, { status: "live", transport: "websocket", bare: "tvs.v1" });
    assert.deepEqual(errors, []);
  });
});

Deno.test("with CONNECT_TOKEN_JWKS_URL, RS256 and ES256 tokens of the key set connect; an unknown kid, or keys out of reach, do not", async () => {
  const rsa = await signingKey("RS256", "site-2026");
  const ec = await signingKey("ES256", "site-ec");
  const stranger = await signingKey("RS256", "elsewhere");
  await using jwks = startJwksServer([rsa, ec]);
  await using gateway = await startTestGateway({
    CONNECT_TOKEN: "required",
    CONNECT_TOKEN_JWKS_URL: jwks.url,
    CONNECT_TOKEN_ISSUER: "https://trendvidstream.com",
  });
  const claims = { sub: "jwks-viewer", iss: "https://trendvidstream.com", regions: ["AE"] };
  for (const key of [rsa, ec]) {
    await using client = await TestClient.connect(`${gateway.ws}/?region=AE`, [
      "tvs.v1",
      await key.sign(claims),
    ]);
    assert.equal(client.protocol, "tvs.v1", key.alg);
  }
  const status = async (token: string) => {
    const response = await attemptHandshake(`${gateway.http}/?region=AE&token=${token}`);
    const body = await response.json();
    return `${response.status} ${body.error}`;
  };
  assert.equal(await status(await stranger.sign(claims)), "401 invalid_token");
  assert.equal(
    await status(await rsa.sign({ ...claims, iss: "https://evil.example" })),
    "401 invalid_token",
  );
  assert.equal(await status(await hs256(claims)), "401 invalid_token", "no HS256 without a secret");
  await jwks[Symbol.asyncDispose]();
  await using fresh = await startTestGateway({
    CONNECT_TOKEN: "required",
    CONNECT_TOKEN_JWKS_URL: jwks.url,
  });
  const unreachable = await attemptHandshake(
    `${fresh.http}/?region=AE&token=${await rsa.sign({})}`,
  );
  assert.equal(unreachable.status, 503);
  assert.equal((await unreachable.json()).error, "token_keys_unavailable");
});
