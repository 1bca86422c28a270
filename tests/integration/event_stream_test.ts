// Server-Sent Events (`GET /events`): the same frames, resume, rules and limits as a WebSocket,
// over real connections to a real gateway.
import assert from "node:assert/strict";
import { startTestCluster, startTestGateway } from "../support/gateway.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { RedisServer } from "../support/redis_server.ts";
import { TestEventStream } from "../support/sse_client.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

/** Publishes `message` through the gateway's `POST /publish`; resolves to the answer's id. */
async function publish(http: string, message: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${http}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event: "new_trending", ...message }),
  });
  const answer = await response.json();
  assert.equal(response.status, 202, JSON.stringify(answer));
  return answer.id;
}

/** Waits until `/metrics` of `http` shows `count` clients over `transport`. */
async function waitForClients(http: string, transport: string, count: number): Promise<void> {
  await waitFor(async () => {
    const text = await (await fetch(`${http}/metrics`)).text();
    return metricValue(text, `tvs_clients{transport="${transport}"}`) === count;
  }, { what: `${count} ${transport} client(s) in /metrics` });
}

Deno.test("an event stream carries each publication as the WebSocket frame, byte for byte, with its id, retry advice and heartbeats", async () => {
  // Heartbeats at half the idle timeout, as WebSocket pings: every second here.
  await using gateway = await startTestGateway({ IDLE_TIMEOUT_SECONDS: "2" });
  await using socket = await TestClient.connect(`${gateway.ws}/?region=AE`);
  await using stream = await TestEventStream.open(`${gateway.http}/events?region=ae`);
  assert.equal(stream.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(stream.headers.get("tvs-heartbeat-ms"), "1000");
  await waitForClients(gateway.http, "sse", 1);
  await waitForClients(gateway.http, "websocket", 1);

  const titles = ["هدف رائع في الدقيقة 90", "Příliš žluťoučký kůň", "Rødgrød med fløde"];
  const ids = [];
  for (const [i, title] of titles.entries()) {
    ids.push(await publish(gateway.http, { region: "AE", video_id: `v${i}`, title }));
  }
  await socket.waitForFrames(3);
  await stream.waitForFrames(3);
  assert.deepEqual(stream.frames, socket.frames, "the same bytes as the WebSocket frames");
  assert.deepEqual(stream.events.map((event) => event.id), ids, "each event's id is its message's");
  assert.deepEqual(stream.messages.map((message) => message.title), titles);
  assert.equal(stream.retryMs, 1000, "retry: advice");
  await waitFor(() => stream.comments >= 2, { timeoutMs: 4000, what: "two heartbeat comments" });
  assert.equal(
    metricValue(await gateway.metricsText(), 'tvs_deliveries_total{region="AE"}'),
    6,
    "three deliveries per transport",
  );
});

Deno.test("Last-Event-ID resumes through the history: what was missed is replayed, a cursor it cannot cover is told", async () => {
  await using gateway = await startTestGateway();
  const url = `${gateway.http}/events?region=AE&since=`;
  const first = await TestEventStream.open(url);
  await first.waitForFrames(1);
  assert.equal(first.messages[0]!.event, "subscribed");
  assert.equal(first.events[0]!.id, first.messages[0]!.position, "a position before any message");
  const seen = await publish(gateway.http, { region: "AE", video_id: "a1", title: "one" });
  await first.waitForFrames(2);
  assert.equal(first.events[1]!.id, seen);
  await first.close();
  await waitForClients(gateway.http, "sse", 0);

  const missed = [
    await publish(gateway.http, { region: "AE", video_id: "a2", title: "two" }),
    await publish(gateway.http, { region: "AE", video_id: "a3", title: "three" }),
  ];
  // As EventSource reconnects: the URL it first used, and where it stands in the header.
  await using resumed = await TestEventStream.open(url, { "last-event-id": seen });
  await resumed.waitForFrames(3);
  assert.deepEqual(resumed.messages[0], {
    event: "recovery",
    region: "AE",
    recovered: true,
    replayed: 2,
    position: missed[1],
  });
  assert.deepEqual(resumed.events.slice(1).map((event) => event.id), missed);

  await using lost = await TestEventStream.open(url, { "last-event-id": "AE:0123456789abcdef" });
  await lost.waitForFrames(1);
  assert.equal(lost.messages[0]!.event, "recovery");
  assert.equal(lost.messages[0]!.recovered, false, "the same answer as over WebSocket");
});

Deno.test("a stream of several regions carries every region's cursor in its ids, and resumes them all from one", async () => {
  await using gateway = await startTestGateway();
  const url = `${gateway.http}/events?region=AE,GB&since=`;
  const first = await TestEventStream.open(url);
  await first.waitForFrames(2);
  const ae = await publish(gateway.http, { region: "AE", video_id: "a1", title: "AE one" });
  const gb = await publish(gateway.http, { region: "GB", video_id: "g1", title: "GB one" });
  await first.waitForFrames(4);
  const lastId = first.events.at(-1)!.id!;
  // In the order the regions' first frames came, which the catch-ups race for.
  assert.deepEqual(lastId.split(",").sort(), [ae, gb].sort());
  await first.close();

  const missed = [
    await publish(gateway.http, { region: "GB", video_id: "g2", title: "GB two" }),
    await publish(gateway.http, { region: "AE", video_id: "a2", title: "AE two" }),
  ];
  await using resumed = await TestEventStream.open(url, { "last-event-id": lastId });
  await resumed.waitForFrames(4);
  const recoveries = resumed.messages.filter((message) => message.event === "recovery");
  assert.deepEqual(
    recoveries.map(({ region, recovered, replayed }) => ({ region, recovered, replayed })),
    [
      { region: "AE", recovered: true, replayed: 1 },
      { region: "GB", recovered: true, replayed: 1 },
    ],
  );
  const replayed = resumed.messages.filter((message) => typeof message.id === "string");
  assert.deepEqual(replayed.map((message) => message.id).sort(), [...missed].sort());
  assert.equal(resumed.events.at(-1)!.id!.split(",").sort().join(), [...missed].sort().join());
});

Deno.test("an event stream meets the WebSocket's refusals before it starts, and one connection count for both", async () => {
  await using gateway = await startTestGateway({
    ALLOWED_ORIGINS: "https://trendvidstream.com",
    MAX_CONNECTIONS_PER_IP: "2",
  });
  const refusal = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${gateway.http}${path}`, { headers });
    return { status: response.status, body: await response.json() };
  };
  assert.deepEqual((await refusal("/events?region=ZZ")).body.error, "unknown_region");
  assert.equal((await refusal("/events?region=ZZ")).status, 400);
  assert.equal((await refusal("/events?region=AE&since=nonsense")).body.error, "invalid_since");
  const foreign = await refusal("/events?region=AE", { origin: "https://evil.example" });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.body.error, "origin_not_allowed");
  const head = await fetch(`${gateway.http}/events?region=AE`, { method: "HEAD" });
  assert.equal(head.status, 405);

  await using stream = await TestEventStream.open(`${gateway.http}/events?region=AE`, {
    origin: "https://trendvidstream.com",
  });
  assert.equal(stream.headers.get("access-control-allow-origin"), "https://trendvidstream.com");
  assert.match(stream.headers.get("access-control-expose-headers") ?? "", /tvs-heartbeat-ms/);
  await using _socket = await TestClient.connect(`${gateway.ws}/?region=AE`);
  const third = await refusal("/events?region=AE");
  assert.equal(third.status, 429, "a stream and a socket fill the address's two slots");
  assert.equal(third.body.error, "too_many_connections_per_ip");
  await assert.rejects(TestClient.connect(`${gateway.ws}/?region=AE`), "no third WebSocket either");
  await stream.close();
  await waitForClients(gateway.http, "sse", 0);
  await using again = await TestClient.connect(`${gateway.ws}/?region=AE`);
  assert.ok(again, "the stream's slot was given back when it ended");
});

Deno.test("with 2 workers, streams on both are served and counted for the process", async () => {
  await using cluster = await startTestCluster();
  await using streams = await TestEventStream.openAll(
    [1, 2, 3, 4].map(() => `${cluster.http}/events?region=DK`),
  );
  await waitForClients(cluster.http, "sse", 4);
  await publish(cluster.http, { region: "DK", video_id: "d1", title: "Rødgrød med fløde" });
  for (const stream of streams) {
    await stream.waitForFrames(1);
    assert.equal(stream.messages[0]!.title, "Rødgrød med fløde");
  }
});

/** Opens an event stream over a raw connection that never reads what it is sent. */
async function stalledStream(port: number, region: string): Promise<Deno.TcpConn> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  await connection.write(
    new TextEncoder().encode(`GET /events?region=${region} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`),
  );
  return connection;
}

/** A `PUBLISH` of about 16 kB to `region`, the `index`-th. */
function bulk(region: string, index: number): string[] {
  const message = { event: "new_trending", video_id: `v${index}`, title: `#${index}` };
  return ["PUBLISH", `tvs:${region}`, JSON.stringify({ ...message, padding: "ø".repeat(8000) })];
}

Deno.test("a stream that stops reading is closed as a slow consumer, readers get everything in order, and the queue stays bounded", async () => {
  await using redis = await RedisServer.start();
  await using gateway = await GatewayProcess.start({
    REDIS_URL: redis.url,
    MAX_BUFFERED_BYTES: String(256 * 1024),
  });
  await waitFor(() => gateway.ready(), { what: "gateway ready" });
  await using reader = await TestEventStream.open(`${gateway.http}/events?region=AE`);
  const stalled = await stalledStream(gateway.port, "AE");
  try {
    await waitForClients(gateway.http, "sse", 2);
    // 12 MB: past what the kernel's buffers take for a loopback peer, and past the budget.
    const count = 750;
    let peakQueued = 0;
    for (let i = 0; i < count; i += 50) {
      await redis.pipeline(Array.from({ length: 50 }, (_, j) => bulk("AE", i + j)));
      const text = await gateway.metricsText();
      peakQueued = Math.max(peakQueued, metricValue(text, "tvs_queued_bytes"));
    }
    await reader.waitForFrames(count, 20_000);
    assert.deepEqual(
      reader.messages.map((message) => message.video_id),
      Array.from({ length: count }, (_, i) => `v${i}`),
      "the reader got every message, in order",
    );
    const text = await gateway.metricsText();
    assert.equal(metricValue(text, "tvs_slow_consumer_closes_total"), 1);
    assert.equal(metricValue(text, 'tvs_clients{transport="sse"}'), 1);
    assert.ok(peakQueued < 2 * 1024 * 1024, `queued at most ${peakQueued} bytes`);
  } finally {
    stalled.close();
  }
});

Deno.test("SIGTERM ends every stream with a close event naming the restart, and a stalled one does not hold up the exit", async () => {
  await using redis = await RedisServer.start();
  await using gateway = await GatewayProcess.start({
    REDIS_URL: redis.url,
    DRAIN_SECONDS: "1",
    MAX_BUFFERED_BYTES: String(8 * 1024 * 1024),
  });
  await waitFor(() => gateway.ready(), { what: "gateway ready" });
  const stalled = await stalledStream(gateway.port, "CZ");
  try {
    await using reader = await TestEventStream.open(`${gateway.http}/events?region=AE`);
    await waitForClients(gateway.http, "sse", 2);
    // Enough that the stalled stream's close event cannot reach its peer.
    for (let i = 0; i < 400; i += 50) {
      await redis.pipeline(Array.from({ length: 50 }, (_, j) => bulk("CZ", i + j)));
    }
    await waitFor(
      async () => metricValue(await gateway.metricsText(), "tvs_queued_bytes") > 0,
      { what: "bytes queued for the stalled stream" },
    );
    const signalledAt = performance.now();
    gateway.signal("SIGTERM");
    await reader.ended;
    assert.deepEqual(reader.events.at(-1), {
      event: "close",
      id: undefined,
      data: JSON.stringify({ code: 1012, reason: "Gateway restarting, reconnect" }),
    });
    const status = await gateway.status();
    const exitedAfterMs = performance.now() - signalledAt;
    assert.equal(status.code, 0);
    // As for WebSockets: the drain window and its short wait for the close handshakes.
    assert.ok(exitedAfterMs < 4000, `exited after ${Math.round(exitedAfterMs)} ms`);
    const drained = gateway.logs.find((line) => line.msg === "drained");
    assert.ok(drained !== undefined, "a drained line");
    assert.equal(drained.unconfirmed, 1, "the stalled stream never took its close event");
  } finally {
    stalled.close();
  }
});
