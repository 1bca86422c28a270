import assert from "node:assert/strict";
import { metricValue } from "../support/metrics.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { RawWebSocket } from "../support/raw_ws.ts";
import { RedisServer } from "../support/redis_server.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const BUDGET = 256 * 1024;
const PHASE_BYTES = 20 * 1024 * 1024;
const MESSAGE_BYTES = 16_000;
/** Messages per pipelined write: each batch lands on the gateway as one burst. */
const BATCH = 32;

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

/**
 * The first tens of MB a fresh process carries grow its RSS by tens of MB whoever is connected:
 * V8 sizes its heap to the working set and malloc keeps its pools (measured: the same with and
 * without a stalled client). How many MB that takes depends on when the collector runs, which
 * depends on the machine's load (CI runs test files in parallel): one 20 MB control phase was
 * enough alone, not beside the other suites. So readers-only control phases repeat until two in a
 * row grow RSS by less than {@link SETTLED_GROWTH} (one quiet phase can fall just before the heap's
 * next step: a suite run once grew 16.7 MB in the phase after it, against 0.4-3.3 MB otherwise; at
 * most {@link MAX_CONTROL_PHASES}), then {@link STALLED_PHASES} phases more go out with a client
 * that never reads, and the growth over them is bounded.
 *
 * The bound is half of what the stalled client was sent: a queue that grew with the traffic would
 * hold all 60 MB, where the gateway holds at most twice the budget plus a frame (0.5 MB). It is not
 * the benchmark's 2 × budget + 16 MB: readers-only phases after quiet ones still grew RSS by 7.6,
 * 14.5 and 16.7 MB now and then (about one suite run in ten) as V8 and malloc took their next step,
 * which a bound that tight cannot tell from a leak. The benchmark's S4 holds the gateway to that
 * figure with warm-ups, medians and repeats.
 */
const SETTLED_GROWTH = 4 * 1024 * 1024;
const STALLED_PHASES = 3;
const SETTLED_PHASES = 2;
const MAX_CONTROL_PHASES = 6;

/** Two-byte padding that makes a publication {@link MESSAGE_BYTES} long. */
const PADDING = "ع".repeat((MESSAGE_BYTES - 200) / 2);

/** `PUBLISH` of the `index`-th bulk message to AE. */
function publishCommand(index: number): string[] {
  const message = {
    event: "new_trending",
    video_id: `v${index}`,
    title: `#${index}`,
    padding: PADDING,
  };
  return ["PUBLISH", "tvs:AE", JSON.stringify(message)];
}

/** A gateway process on its own Redis with three AE readers, torn down on dispose. */
async function startWithReaders(): Promise<
  { redis: RedisServer; gateway: GatewayProcess; readers: TestClient[] } & AsyncDisposable
> {
  const stack = new AsyncDisposableStack();
  const redis = stack.use(await RedisServer.start());
  const gateway = stack.use(
    await GatewayProcess.start({ REDIS_URL: redis.url, MAX_BUFFERED_BYTES: String(BUDGET) }),
  );
  await waitFor(() => gateway.ready(), { what: "gateway ready" });
  const readers = stack.use(
    await TestClient.connectAll([1, 2, 3].map(() => `${gateway.ws}/?region=AE`)),
  );
  return { redis, gateway, readers, [Symbol.asyncDispose]: () => stack.disposeAsync() };
}

/** Asserts that each reader got messages 0 to `count` - 1, in order, and nothing else. */
function assertEveryMessageInOrder(readers: readonly TestClient[], count: number): void {
  for (const reader of readers) {
    assert.deepEqual(
      reader.messages.map((message) => message.video_id),
      Array.from({ length: count }, (_, i) => `v${i}`),
      "every reader got every message, in order",
    );
  }
}

Deno.test("a client that never reads while 60 MB goes to AE: readers get everything, RSS stays bounded", async () => {
  await using setup = await startWithReaders();
  const { redis, gateway, readers } = setup;
  let published = 0;
  const publishPhase = async () => {
    const end = published + Math.ceil(PHASE_BYTES / MESSAGE_BYTES);
    while (published < end) {
      await redis.pipeline(Array.from({ length: BATCH }, () => publishCommand(published++)));
      // Readers keep up as browsers would; a stalled client never reads a byte.
      for (const reader of readers) await reader.waitForFrames(published, 10_000);
    }
    // Every message also goes to Redis's history after delivery; when Redis lags (beside other
    // suites), 20 MB of records can wait in the gateway. RSS is read once they are all in.
    await waitFor(async () => (await recorded()) === published, {
      timeoutMs: 10_000,
      what: `${published} records in Redis`,
    });
  };
  // The stream's top offset, as an integer reply: `command` reads only a reply's first line.
  const recorded = async () =>
    Number(
      (await redis.command(
        "EVAL",
        "return tonumber(redis.call('HGET', KEYS[1], 'top'))",
        "1",
        "tvs:{AE}:meta",
      )).slice(1),
    );
  const rss = async () => metricValue(await gateway.metricsText(), "process_resident_memory_bytes");

  const start = await rss();
  const controls: number[] = [];
  let afterControl = start;
  let quietPhases = 0;
  for (let phase = 0; phase < MAX_CONTROL_PHASES; phase++) {
    await publishPhase();
    const now = await rss();
    controls.push(now - afterControl);
    quietPhases = now - afterControl < SETTLED_GROWTH ? quietPhases + 1 : 0;
    afterControl = now;
    if (quietPhases === SETTLED_PHASES) break;
  }
  let afterStall;
  {
    using _stalled = await RawWebSocket.connect(gateway.port, "/?region=AE", { read: false });
    for (let phase = 0; phase < STALLED_PHASES; phase++) await publishPhase();
    afterStall = await rss();
  }

  const growth = afterStall - afterControl;
  const bound = (STALLED_PHASES * PHASE_BYTES) / 2;
  console.log(
    `slow consumer: RSS ${mb(start)} MB at start; readers-only phases of 20 MB grew it by ` +
      `${controls.map(mb).join(", ")} MB; ${mb(STALLED_PHASES * PHASE_BYTES)} MB more with ` +
      `a stalled client grew it by ${mb(growth)} MB (bound ${mb(bound)} MB)`,
  );
  assertEveryMessageInOrder(readers, published);
  const metrics = await gateway.metricsText();
  assert.equal(
    metricValue(metrics, "tvs_slow_consumer_closes_total"),
    1,
    "only the stalled one",
  );
  assert.equal(metricValue(metrics, 'tvs_subscriptions{region="AE"}'), 3);
  assert.ok(growth < bound, `RSS grew by ${mb(growth)} MB, bound ${mb(bound)} MB`);
});

Deno.test("a gateway catching up after a pause keeps its readers: a pile of publications is not a slow consumer", async () => {
  await using setup = await startWithReaders();
  const { redis, gateway, readers } = setup;
  // Four budgets' worth piles up while the process is stopped (a long GC pause, a VM descheduled)
  // and reaches it in a few reads once it runs again.
  const count = Math.ceil((4 * BUDGET) / MESSAGE_BYTES);
  gateway.signal("SIGSTOP");
  try {
    await redis.pipeline(Array.from({ length: count }, (_, i) => publishCommand(i)));
  } finally {
    gateway.signal("SIGCONT");
  }
  for (const reader of readers) await reader.waitForFrames(count, 10_000);
  assertEveryMessageInOrder(readers, count);
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, "tvs_slow_consumer_closes_total"), 0);
  assert.equal(metricValue(metrics, 'tvs_subscriptions{region="AE"}'), 3);
});
