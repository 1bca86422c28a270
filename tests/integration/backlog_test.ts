// When publications wait for room (the process's queues are near MAX_QUEUED_BYTES), how long they
// wait is not alone what tells an overload: a producer's batch that came at once shrinks while it
// is written, however long that takes, and nobody may be closed for it; publications that keep
// coming faster than the clients take them are an overload, and past OVERLOAD_LAG_SECONDS the
// clients with most queued go (4002); clients that read nothing stall every viewer, and go 2 s
// later. (Many clients that never read, holding the queues full: queued_bytes_test.ts.)
import assert from "node:assert/strict";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { RawWebSocket } from "../support/raw_ws.ts";
import { RedisServer } from "../support/redis_server.ts";
import { delay, waitFor } from "../support/wait.ts";

const MIB = 1_048_576;
const MESSAGE_BYTES = 60_000;
const PADDING = "x".repeat(MESSAGE_BYTES - 120);
const READERS = 2;

const publishCommand = (i: number) => [
  "PUBLISH",
  "tvs:AE",
  JSON.stringify({ event: "new_trending", video_id: `b${i}`, title: `t${i}`, p: PADDING }),
];

/** How late publications may go out under overload in these tests, in seconds. */
const OVERLOAD_LAG_SECONDS = 4;

/** A gateway whose queues hold 1 MiB before broadcasts wait, and readers that do not read yet. */
async function setUp() {
  const stack = new AsyncDisposableStack();
  try {
    const redis = stack.use(await RedisServer.start());
    const gateway = stack.use(
      await GatewayProcess.start({
        REDIS_URL: redis.url,
        WORKERS: "1",
        MAX_QUEUED_BYTES: String(4 * MIB),
        // Each client's own budget as large: only the process's rules can act.
        MAX_BUFFERED_BYTES: String(4 * MIB),
        MAX_MESSAGE_BYTES: String(2 * MESSAGE_BYTES),
        OVERLOAD_LAG_SECONDS: String(OVERLOAD_LAG_SECONDS),
      }),
    );
    await waitFor(() => gateway.ready(), { what: "ready" });
    const readers: RawWebSocket[] = [];
    for (let i = 0; i < READERS; i++) {
      readers.push(
        stack.use(await RawWebSocket.connect(gateway.port, "/?region=AE", { read: false })),
      );
    }
    return { redis, gateway, readers, [Symbol.asyncDispose]: () => stack.disposeAsync() };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

Deno.test("a producer's batch that waits seconds for room is no overload: every reader keeps its connection and gets all of it, in order", async () => {
  await using setup = await setUp();
  const { redis, gateway, readers } = setup;
  // 12 MB for each reader at once, read at 1.5 MB/s: beyond what the kernel's socket buffers
  // hold, it waits for room for seconds.
  const count = 200;
  for (const reader of readers) reader.startReading({ bytesPerSecond: 1_500_000 });
  await redis.pipeline(Array.from({ length: count }, (_, i) => publishCommand(i)));
  await waitFor(() => readers.every((reader) => reader.texts().length >= count), {
    timeoutMs: 20_000,
    what: `every reader's ${count} frames`,
  });
  for (const reader of readers) {
    assert.equal(reader.closeCode, undefined, "nobody closed");
    const titles = reader.texts().map((text) => JSON.parse(text).title);
    assert.deepEqual(titles, Array.from({ length: count }, (_, i) => `t${i}`));
  }
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, "tvs_overload_closes_total"), 0);
});

/** Publications that waited longer than `seconds` to go out, as `/metrics` counts them. */
function waitedLonger(metrics: string, seconds: number): number {
  const lag = 'tvs_delivery_lag_seconds_bucket{from="arrival",le="';
  return metricValue(metrics, 'tvs_delivery_lag_seconds_count{from="arrival"}') -
    metricValue(metrics, `${lag}${seconds}"}`);
}

Deno.test("publications that keep coming faster than the readers read them wait up to OVERLOAD_LAG_SECONDS with every reader served, then the most queued are closed (4002)", async () => {
  await using setup = await setUp();
  const { redis, gateway, readers } = setup;
  // 3 MB/s for each reader, who read 1.5 MB/s: the backlog ages by half a second every second.
  for (const reader of readers) reader.startReading({ bytesPerSecond: 1_500_000 });
  const started = Date.now();
  let metrics = "";
  let lateAndServed = false;
  let shedAfterMs = 0;
  for (let i = 0; i < 1500 && shedAfterMs === 0; i++) {
    await redis.pipeline([publishCommand(i)]);
    await delay(20);
    if (i % 25 !== 24) continue;
    metrics = await gateway.metricsText();
    const closes = metricValue(metrics, "tvs_overload_closes_total");
    if (closes === 0 && waitedLonger(metrics, 2.5) > 0) lateAndServed = true;
    if (closes > 0) shedAfterMs = Date.now() - started;
  }
  assert.ok(lateAndServed, "publications waited past 2.5 s to go out, and nobody was closed");
  assert.ok(shedAfterMs > OVERLOAD_LAG_SECONDS * 1000, `the overload sheds, at ${shedAfterMs} ms`);
  await waitFor(() => readers.some((reader) => reader.closeCode === 4002), {
    timeoutMs: 20_000,
    what: "a reader told 4002",
  });
});

Deno.test("publications to readers who read nothing stall every viewer: 2 s later the most queued are closed (4002)", async () => {
  await using setup = await setUp();
  const { redis, gateway, readers } = setup;
  // 3 MB/s for each reader, who read nothing: nothing goes out until someone is shed.
  let shed = 0;
  for (let i = 0; i < 500 && shed === 0; i++) {
    await redis.pipeline([publishCommand(i)]);
    await delay(20);
    if (i % 25 === 24) shed = metricValue(await gateway.metricsText(), "tvs_overload_closes_total");
  }
  assert.ok(shed >= 1, "an overload sheds");
  for (const reader of readers) reader.startReading();
  await waitFor(() => readers.some((reader) => reader.closeCode === 4002), {
    timeoutMs: 20_000,
    what: "a reader told 4002",
  });
});
