import assert from "node:assert/strict";
import { startTestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { attemptHandshake, rawRequest, upgradeHeaders } from "../support/raw_http.ts";
import { TestClient } from "../support/ws_client.ts";

Deno.test("over MAX_CONNECTIONS a handshake gets 503, over the per-address limit 429", async () => {
  {
    await using gateway = await startTestGateway({
      MAX_CONNECTIONS: "3",
      MAX_CONNECTIONS_PER_IP: "2",
    });
    await using _first = await TestClient.connect(`${gateway.ws}/?region=AE`);
    await using second = await TestClient.connect(`${gateway.ws}/?region=AE`);
    const perIp = await attemptHandshake(`${gateway.http}/?region=AE`);
    assert.equal(perIp.status, 429);
    assert.equal((await perIp.json()).error, "too_many_connections_per_ip");
    await second.close();
    await using _third = await TestClient.connect(`${gateway.ws}/?region=FI`);
    const probe = await fetch(`${gateway.http}/ws?region=AE`);
    assert.equal(probe.status, 429, "GET /ws tells the same refusal");
    await probe.body?.cancel();
    const metrics = await gateway.metricsText();
    assert.equal(
      metricValue(metrics, 'tvs_handshake_refusals_total{reason="too_many_connections_per_ip"}'),
      2,
    );
  }
  await using full = await startTestGateway({ MAX_CONNECTIONS: "1" });
  await using _only = await TestClient.connect(`${full.ws}/?region=AE`);
  const refused = await attemptHandshake(`${full.http}/?region=AE`);
  assert.equal(refused.status, 503);
  assert.equal((await refused.json()).error, "too_many_connections");
});

Deno.test("the origin allow-list refuses cross-site pages with 403", async () => {
  await using sameOrigin = await startTestGateway();
  const host = new URL(sameOrigin.http).host;
  const evil = await attemptHandshake(`${sameOrigin.http}/?region=AE`, {
    origin: "https://evil.example",
  });
  assert.equal(evil.status, 403);
  assert.equal((await evil.json()).error, "origin_not_allowed");
  const client = await TestClient.connect(`${sameOrigin.ws}/?region=AE`);
  await client.close();
  const same = await attemptHandshake(`${sameOrigin.http}/?region=AE`, {
    origin: `http://${host}`,
  });
  assert.equal(same.status, 101);
  await same.body?.cancel();
  const otherScheme = await attemptHandshake(`${sameOrigin.http}/?region=AE`, {
    origin: `ftp://${host}`,
  });
  assert.equal(otherScheme.status, 403, "its own host over another scheme is another origin");
  await otherScheme.body?.cancel();
  assert.equal(
    metricValue(
      await sameOrigin.metricsText(),
      'tvs_handshake_refusals_total{reason="origin_not_allowed"}',
    ),
    2,
  );
  assert.ok(
    sameOrigin.logs.some((line) =>
      line.msg === "listening" && String(line.allowedOrigins).includes("same origin")
    ),
    "the policy is logged at start-up",
  );
  await using listed = await startTestGateway({
    ALLOWED_ORIGINS: "https://trendvidstream.com,https://www.trendvidstream.com",
  });
  const allowed = await attemptHandshake(`${listed.http}/?region=AE`, {
    origin: "https://www.trendvidstream.com",
  });
  assert.equal(allowed.status, 101);
  await allowed.body?.cancel();
  const other = await attemptHandshake(`${listed.http}/?region=AE`, {
    origin: "https://trendvidstream.com.evil.example",
  });
  assert.equal(other.status, 403);
  await other.body?.cancel();
  const own = await attemptHandshake(`${listed.http}/?region=AE`, { origin: listed.http });
  assert.equal(own.status, 101, "the gateway's own page is always let in");
  await own.body?.cancel();
  await using wildcard = await startTestGateway({
    ALLOWED_ORIGINS: "https://*.trendvidstream.com",
  });
  for (
    const [origin, status] of [
      ["https://www.trendvidstream.com", 101],
      ["https://m.eu.trendvidstream.com", 101],
      ["https://trendvidstream.com", 403],
      ["https://www.trendvidstream.com.evil.example", 403],
    ] as const
  ) {
    const answer = await attemptHandshake(`${wildcard.http}/?region=AE`, { origin });
    assert.equal(answer.status, status, origin);
    await answer.body?.cancel();
  }
});

Deno.test("a flood of refused handshakes is counted in full and logged once", async () => {
  await using gateway = await startTestGateway();
  for (let i = 0; i < 100; i++) {
    const response = await attemptHandshake(`${gateway.http}/?region=ZZ${i}`);
    await response.body?.cancel();
  }
  assert.equal(
    metricValue(
      await gateway.metricsText(),
      'tvs_handshake_refusals_total{reason="unknown_region"}',
    ),
    100,
  );
  assert.equal(gateway.logs.filter((line) => line.msg === "handshake refused").length, 1);
});

Deno.test("behind a trusted proxy limits count the client it names; a header from anyone else is ignored", async () => {
  await using gateway = await startTestGateway({
    TRUSTED_PROXIES: "127.0.0.1",
    MAX_CONNECTIONS_PER_IP: "1",
  });
  const port = Number(new URL(gateway.http).port);
  const connect = (localAddress: string, forwardedFor: string) =>
    rawRequest({
      port,
      localAddress,
      path: "/?region=AE",
      headers: { ...upgradeHeaders(), "x-forwarded-for": forwardedFor },
    });
  {
    // Through the proxy (127.0.0.1): two visitors, one connection each.
    await using visitor1 = await connect("127.0.0.1", "127.0.0.1, 198.51.100.1");
    await using visitor2 = await connect("127.0.0.1", "127.0.0.1, 198.51.100.2");
    assert.deepEqual([visitor1.status, visitor2.status], [101, 101]);
    // Straight to the port from 127.0.0.2, claiming to be the proxy's visitors: still 127.0.0.2.
    await using first = await connect("127.0.0.2", "198.51.100.3");
    assert.equal(first.status, 101);
    await using second = await connect("127.0.0.2", "198.51.100.4");
    assert.equal(second.status, 429, "a spoofed X-Forwarded-For does not escape the limit");
    assert.equal(JSON.parse(second.body).error, "too_many_connections_per_ip");
    const refusal = gateway.logs.find((line) => line.msg === "handshake refused");
    assert.equal(refusal?.address, "127.0.0.2");
  }
});

Deno.test("a handshake of another WebSocket version gets 426 naming version 13", async () => {
  await using gateway = await startTestGateway();
  const port = Number(new URL(gateway.http).port);
  const old = await rawRequest({ port, path: "/?region=AE", headers: upgradeHeaders("8") });
  assert.equal(old.status, 426);
  assert.equal(old.headers.get("sec-websocket-version"), "13");
  assert.equal(JSON.parse(old.body).error, "unsupported_version");
  await using current = await rawRequest({
    port,
    path: "/?region=AE",
    headers: upgradeHeaders(),
  });
  assert.equal(current.status, 101);
});

Deno.test("behind a proxy, ten addresses of one IPv6 /64 share one client's slots", async () => {
  await using gateway = await startTestGateway({
    TRUSTED_PROXIES: "127.0.0.1",
    MAX_CONNECTIONS_PER_IP: "5",
  });
  const port = Number(new URL(gateway.http).port);
  const upgradeFrom = (address: string) =>
    rawRequest({
      port,
      path: "/?region=AE",
      headers: { ...upgradeHeaders(), "x-forwarded-for": address },
    });
  await using stack = new AsyncDisposableStack();
  const statuses: number[] = [];
  for (let i = 1; i <= 10; i++) {
    const answer = stack.use(await upgradeFrom(`2001:db8:1:2::${i.toString(16)}`));
    statuses.push(answer.status);
  }
  assert.deepEqual(statuses, [101, 101, 101, 101, 101, 429, 429, 429, 429, 429]);
  const neighbour = stack.use(await upgradeFrom("2001:db8:1:3::1"));
  assert.equal(neighbour.status, 101, "the next /64 is another client");
});
