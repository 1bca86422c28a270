import assert from "node:assert/strict";
import { Admission } from "../lib/admission.ts";
import { startTestGateway } from "./support/gateway.ts";
import { metricValue } from "./support/metrics.ts";
import { TestClient } from "./support/ws_client.ts";

Deno.test("admission counts sockets in all and per address, and releases them", () => {
  const admission = new Admission({ maxConnections: 3, maxConnectionsPerIp: 2 });
  assert.equal(admission.admit("a"), undefined);
  assert.equal(admission.admit("a"), undefined);
  assert.equal(admission.admit("a")?.status, 429);
  assert.equal(admission.admit("b"), undefined);
  assert.equal(admission.admit("c")?.status, 503);
  assert.equal(admission.total, 3);
  admission.release("a");
  assert.equal(admission.check("c"), undefined);
  admission.release("unknown");
  assert.equal(admission.total, 2);
});

/** Attempts a WebSocket handshake with fetch, to read the refusal. */
async function handshake(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url, {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      ...headers,
    },
  });
}

Deno.test("over MAX_CONNECTIONS a handshake gets 503, over the per-address limit 429", async () => {
  const gateway = await startTestGateway({ MAX_CONNECTIONS: "3", MAX_CONNECTIONS_PER_IP: "2" });
  const clients: TestClient[] = [];
  try {
    clients.push(await TestClient.connect(`${gateway.ws}/?region=AE`));
    clients.push(await TestClient.connect(`${gateway.ws}/?region=AE`));
    const perIp = await handshake(`${gateway.http}/?region=AE`);
    assert.equal(perIp.status, 429);
    assert.equal((await perIp.json()).error, "too_many_connections_per_ip");
    await clients[1]!.close();
    clients.push(await TestClient.connect(`${gateway.ws}/?region=FI`));
    const probe = await fetch(`${gateway.http}/ws?region=AE`);
    assert.equal(probe.status, 429, "GET /ws tells the same refusal");
    await probe.body?.cancel();
    const metrics = await gateway.metricsText();
    assert.equal(
      metricValue(metrics, 'tvs_handshake_refusals_total{reason="too_many_connections_per_ip"}'),
      2,
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await gateway.close();
  }
  const full = await startTestGateway({ MAX_CONNECTIONS: "1" });
  const only = await TestClient.connect(`${full.ws}/?region=AE`);
  try {
    const refused = await handshake(`${full.http}/?region=AE`);
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error, "too_many_connections");
  } finally {
    await only.close();
    await full.close();
  }
});

Deno.test("the origin allow-list refuses cross-site pages with 403", async () => {
  const sameOrigin = await startTestGateway();
  try {
    const host = new URL(sameOrigin.http).host;
    const evil = await handshake(`${sameOrigin.http}/?region=AE`, {
      origin: "https://evil.example",
    });
    assert.equal(evil.status, 403);
    assert.equal((await evil.json()).error, "origin_not_allowed");
    const client = await TestClient.connect(`${sameOrigin.ws}/?region=AE`);
    await client.close();
    const same = await handshake(`${sameOrigin.http}/?region=AE`, { origin: `http://${host}` });
    assert.equal(same.status, 101);
    await same.body?.cancel();
    assert.equal(
      metricValue(
        await sameOrigin.metricsText(),
        'tvs_handshake_refusals_total{reason="origin_not_allowed"}',
      ),
      1,
    );
    assert.ok(
      sameOrigin.logs.some((line) =>
        line.msg === "listening" && String(line.allowedOrigins).includes("same origin")
      ),
      "the policy is logged at start-up",
    );
  } finally {
    await sameOrigin.close();
  }
  const listed = await startTestGateway({
    ALLOWED_ORIGINS: "https://trendvidstream.com,https://www.trendvidstream.com",
  });
  try {
    const allowed = await handshake(`${listed.http}/?region=AE`, {
      origin: "https://www.trendvidstream.com",
    });
    assert.equal(allowed.status, 101);
    await allowed.body?.cancel();
    const other = await handshake(`${listed.http}/?region=AE`, {
      origin: "https://trendvidstream.com.evil.example",
    });
    assert.equal(other.status, 403);
    await other.body?.cancel();
  } finally {
    await listed.close();
  }
});

Deno.test("a flood of refused handshakes is counted in full and logged once", async () => {
  const gateway = await startTestGateway();
  try {
    for (let i = 0; i < 100; i++) {
      const response = await handshake(`${gateway.http}/?region=ZZ${i}`);
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
  } finally {
    await gateway.close();
  }
});
