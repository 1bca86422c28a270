import assert from "node:assert/strict";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { RawWebSocket } from "../support/raw_ws.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

async function publish(gateway: TestGateway, region: string, fields: Record<string, unknown>) {
  const response = await fetch(`${gateway.http}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event: "new_trending", region, title: "t", ...fields }),
  });
  assert.equal(response.status, 202, await response.text());
}

async function metric(gateway: TestGateway, sample: string): Promise<number> {
  return metricValue(await gateway.metricsText(), sample);
}

Deno.test("a client that never reads is closed as a slow consumer; readers get every message", async () => {
  await using gateway = await startTestGateway({ MAX_BUFFERED_BYTES: "65536" });
  using _stalled = await RawWebSocket.connect(gateway.port, "/?region=AE", { read: false });
  await using reader = await TestClient.connect(`${gateway.ws}/?region=AE`);
  const padding = "x".repeat(8000);
  let sent = 0;
  // Enough to fill the stalled socket's kernel buffers and then its budget.
  while ((await metric(gateway, "tvs_slow_consumer_closes_total")) === 0) {
    assert.ok(sent < 5000, "the stalled client was never closed");
    for (let i = 0; i < 50; i++) {
      await publish(gateway, "AE", { video_id: `v${sent++}`, padding });
    }
    await reader.waitForFrames(sent, 10_000);
  }
  assert.equal(reader.frames.length, sent, "the reading client got every message");
  assert.deepEqual(
    reader.messages.map((m) => m.video_id),
    Array.from({ length: sent }, (_, i) => `v${i}`),
  );
  const metrics = await gateway.metricsText();
  assert.equal(
    metricValue(metrics, 'tvs_subscriptions{region="AE"}'),
    1,
    "only the reader is left",
  );
  assert.equal(metricValue(metrics, 'tvs_disconnects_total{code="4001"}'), 1);
  assert.equal(metricValue(metrics, 'tvs_sockets{state="open"}'), 1);
});

Deno.test("an inbound frame over 4 KiB closes the connection with 1009", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=FI`);
  client.send("é".repeat(2100)); // 4,200 bytes in UTF-8, 2,100 UTF-16 units
  const closed = await client.closed;
  assert.equal(closed.code, 1009);
  assert.equal(await metric(gateway, 'tvs_inbound_violations_total{kind="too_big"}'), 1);
});

Deno.test("a flood of inbound frames closes the connection with 1008, seen by the client", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=FI`);
  for (let i = 0; i < 100; i++) client.send(`{"type":"noise","i":${i}}`);
  const closed = await client.closed;
  assert.equal(closed.code, 1008);
  assert.equal(closed.reason, "Too many inbound messages");
  assert.equal(await metric(gateway, 'tvs_inbound_violations_total{kind="flood"}'), 1);
  assert.equal(await metric(gateway, 'tvs_disconnects_total{code="1008"}'), 1);
});

Deno.test("an oversized frame followed by more frames still ends with 1009 for the client", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=FI`);
  client.send("x".repeat(5000));
  for (let i = 0; i < 5; i++) client.send("after");
  const closed = await client.closed;
  assert.equal(closed.code, 1009);
});

Deno.test("a ping gets a pong, and a few control messages are fine", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=FI`);
  for (let i = 0; i < 5; i++) client.send('{"type":"ping"}');
  await client.waitForFrames(5);
  assert.deepEqual(client.messages, Array(5).fill({ event: "pong" }));
});

Deno.test("a peer that never answers pings is removed after the idle timeout, with 1001", async () => {
  await using gateway = await startTestGateway({ IDLE_TIMEOUT_SECONDS: "2" });
  using silent = await RawWebSocket.connect(gateway.port, "/?region=DK", { read: true });
  assert.equal(await metric(gateway, 'tvs_subscriptions{region="DK"}'), 1);
  const started = performance.now();
  await silent.ended;
  const elapsed = performance.now() - started;
  assert.ok(elapsed > 1500 && elapsed < 4000, `removed after ${elapsed} ms`);
  assert.ok(silent.frames.some((frame) => frame.opcode === 9), "it was pinged");
  assert.equal(silent.closeCode, 1001);
  await waitFor(async () => (await metric(gateway, 'tvs_subscriptions{region="DK"}')) === 0, {
    what: "registry empty",
  });
  assert.equal(await metric(gateway, 'tvs_disconnects_total{code="1001"}'), 1);
  assert.equal(await metric(gateway, 'tvs_sockets{state="pending"}'), 0);
});

Deno.test("whichever clients leave, each one still connected gets every message exactly once", async () => {
  await using gateway = await startTestGateway({ MAX_CONNECTIONS_PER_IP: "100" });
  // Every third client also listens to GB, so leaving touches two regions' lists.
  await using clients = await TestClient.connectAll(
    Array.from({ length: 30 }, (_, i) => `${gateway.ws}/?region=${i % 3 === 0 ? "AE,GB" : "AE"}`),
  );
  const leaving = new Set([0, 29, 1, 28, 15, 14, 3, 9, 21]);
  await Promise.all([...leaving].map((i) => clients[i]!.close()));
  await waitFor(async () => (await metric(gateway, 'tvs_subscriptions{region="AE"}')) === 21, {
    what: "21 AE clients left",
  });
  await publish(gateway, "AE", { video_id: "first" });
  await publish(gateway, "GB", { video_id: "gb" });
  await publish(gateway, "AE", { video_id: "second" });
  // Markers after everything: a duplicate would arrive before them.
  await publish(gateway, "AE", { video_id: "ae_end" });
  await publish(gateway, "GB", { video_id: "gb_end" });
  for (const [i, client] of clients.entries()) {
    if (leaving.has(i)) continue;
    const both = i % 3 === 0;
    // Handled in the order published: the last marker of a client's regions comes last.
    const messages = await client.waitForVideo(both ? "gb_end" : "ae_end");
    const expected = both
      ? ["first", "gb", "second", "ae_end", "gb_end"]
      : ["first", "second", "ae_end"];
    assert.deepEqual(messages.map((m) => m.video_id), expected, `client ${i}`);
  }
});

Deno.test("after many connect/disconnect cycles the registry and gauges are exactly what is connected", async () => {
  await using gateway = await startTestGateway({ MAX_CONNECTIONS_PER_IP: "1000" });
  await using keep = await TestClient.connect(`${gateway.ws}/?region=GB,US`);
  for (let round = 0; round < 10; round++) {
    // Half close cleanly, half vanish by dropping their TCP connection.
    const clean = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => TestClient.connect(`${gateway.ws}/?region=${i % 2 ? "GB" : "CH"}`),
      ),
    );
    const dropped = await Promise.all(
      Array.from(
        { length: 10 },
        () => RawWebSocket.connect(gateway.port, "/?region=CH", { read: true }),
      ),
    );
    await Promise.all(clean.map((client) => client.close()));
    for (const socket of dropped) socket.close();
  }
  const stalled = await RawWebSocket.connect(gateway.port, "/?region=CH", { read: true });
  stalled.close();
  await waitFor(async () => (await metric(gateway, 'tvs_sockets{state="open"}')) === 1, {
    what: "one open socket",
  });
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_subscriptions{region="GB"}'), 1);
  assert.equal(metricValue(metrics, 'tvs_subscriptions{region="US"}'), 1);
  assert.equal(metricValue(metrics, 'tvs_subscriptions{region="CH"}'), 0);
  assert.equal(metricValue(metrics, 'tvs_sockets{state="pending"}'), 0);
  // The one remaining client still receives.
  await publish(gateway, "GB", { video_id: "after_cycles" });
  await keep.waitForFrames(1);
});
