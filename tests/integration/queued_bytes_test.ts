// MAX_QUEUED_BYTES: however many clients stop reading, what the process queues stays bounded; the
// clients with the most queued are closed first (4002), the ones that read keep everything.
import assert from "node:assert/strict";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { RawWebSocket } from "../support/raw_ws.ts";
import { RedisServer } from "../support/redis_server.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const MIB = 1_048_576;
/** The process's bound; each client's own budget is as large, so only the process's rule can act. */
const MAX_QUEUED = 8 * MIB;
const CLIENT_BUDGET = MAX_QUEUED;
const STALLED = 6;
const MESSAGE_BYTES = 16_000;
const TOTAL_BYTES = 48 * MIB;
const BATCH = 32;
const PADDING = "x".repeat(MESSAGE_BYTES - 120);

const mb = (bytes: number) => (bytes / MIB).toFixed(1);

for (const workers of [1, 2]) {
  Deno.test(`${STALLED} clients that never read, ${workers} worker(s): the process queues at most MAX_QUEUED_BYTES`, async () => {
    await using redis = await RedisServer.start();
    await using gateway = await GatewayProcess.start({
      REDIS_URL: redis.url,
      WORKERS: String(workers),
      MAX_BUFFERED_BYTES: String(CLIENT_BUDGET),
      MAX_QUEUED_BYTES: String(MAX_QUEUED),
    });
    await waitFor(() => gateway.ready(), { what: "ready" });
    await using readers = await TestClient.connectAll([1, 2].map(() => `${gateway.ws}/?region=AE`));
    const metrics = async () => await gateway.metricsText();
    // Queued frames live outside the JavaScript heap, whose own size moves with every worker's GC
    // (by tens of MB under the parallel suite): what the queues cost is RSS beside the heap.
    const outsideHeap = (text: string) =>
      metricValue(text, "process_resident_memory_bytes") -
      metricValue(text, "nodejs_heap_size_total_bytes");
    const rss = async () => outsideHeap(await metrics());
    let published = 0;
    let queuedPeak = 0;
    /** Sends {@link TOTAL_BYTES} to AE, as fast as the readers take it. */
    const publishPhase = async () => {
      const end = published + Math.ceil(TOTAL_BYTES / MESSAGE_BYTES);
      while (published < end) {
        const batch = Array.from({ length: BATCH }, () => {
          const message = {
            event: "new_trending",
            video_id: `q${published++}`,
            title: "t",
            p: PADDING,
          };
          return ["PUBLISH", "tvs:AE", JSON.stringify(message)];
        });
        await redis.pipeline(batch);
        for (const reader of readers) await reader.waitForFrames(published, 10_000);
        queuedPeak = Math.max(queuedPeak, metricValue(await metrics(), "tvs_queued_bytes"));
      }
    };
    // A fresh process's RSS grows with its first tens of MB of traffic whoever is connected (the
    // heap and malloc's pools settle): readers-only phases first, then the stalled clients.
    // Phases until one grows it by under 4 MB, at most 6.
    const start = await rss();
    let rssBefore = start;
    for (let phase = 0, grown = Infinity; phase < 6 && grown >= 4 * MIB; phase++) {
      await publishPhase();
      const now = await rss();
      grown = now - rssBefore;
      rssBefore = now;
    }
    await using stack = new AsyncDisposableStack();
    for (let i = 0; i < STALLED; i++) {
      stack.use(await RawWebSocket.connect(gateway.port, "/?region=AE", { read: false }));
    }
    queuedPeak = 0;
    await publishPhase();
    const after = await metrics();
    const growth = outsideHeap(after) - rssBefore;
    console.log(`readers-only phases grew RSS by ${mb(rssBefore - start)} MB`);
    const shed = metricValue(after, "tvs_overload_closes_total");
    console.log(
      `queued bytes, ${workers} worker(s): ${mb(TOTAL_BYTES)} MB to each of ` +
        `${STALLED} stalled clients; peak ${mb(queuedPeak)} MB queued (bound ${
          mb(MAX_QUEUED)
        } MB), ` +
        `${shed} closed with 4002, RSS beside the heap grew by ${mb(growth)} MB`,
    );
    assert.ok(shed >= 1 && shed <= STALLED, `${shed} shed`);
    assert.equal(metricValue(after, 'tvs_disconnects_total{code="4002"}'), shed);
    assert.equal(
      metricValue(after, "tvs_slow_consumer_closes_total"),
      0,
      "the process bound first",
    );
    // Between two checks of the bound a burst can pass it: by one check interval's traffic.
    assert.ok(queuedPeak <= 2 * MAX_QUEUED, `peak ${mb(queuedPeak)} MB`);
    for (const reader of readers) {
      assert.equal(reader.frames.length, published, "every reader got every message");
    }
    // Their own budgets alone would let the stalled clients hold 2 x 8 MiB each, 96 MiB in all (the
    // peak above is the bound's own figure; RSS beside the heap still moves by a few tens of MB
    // with malloc's arenas, one per worker thread).
    assert.ok(growth < 2 * STALLED * CLIENT_BUDGET, `RSS grew by ${mb(growth)} MB`);
  });
}
