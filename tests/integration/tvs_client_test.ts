import assert from "node:assert/strict";
import { TvsClient } from "../../lib/client/tvs-client.js";
import { closing } from "../support/disposable.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { RedisServer } from "../support/redis_server.ts";
import { TcpProxy } from "../support/tcp_proxy.ts";
import { delay, freePort, waitFor } from "../support/wait.ts";

/** What a client library instance saw. */
interface Seen {
  readonly titles: string[];
  readonly statuses: string[];
  readonly recoveries: { region: string; recovered: boolean; replayed: number }[];
}

function observe(client: TvsClient): Seen {
  const seen: Seen = { titles: [], statuses: [], recoveries: [] };
  client.addEventListener("trending", (event) => {
    seen.titles.push(String((event as CustomEvent).detail.title));
  });
  client.addEventListener("status", (event) => {
    seen.statuses.push((event as CustomEvent).detail.status);
  });
  client.addEventListener("recovery", (event) => {
    seen.recoveries.push((event as CustomEvent).detail);
  });
  return seen;
}

async function ready(gateway: TestGateway): Promise<void> {
  await waitFor(() => gateway.ready(), { what: "gateway ready" });
}

/**
 * Publishes `count` messages to `region` on Redis at `perSecond`, titled by their index: a
 * producer's schedule, not a wait.
 */
async function publishPaced(
  redis: RedisServer,
  region: string,
  options: { readonly from: number; readonly count: number; readonly perSecond: number },
): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < options.count; i++) {
    const index = options.from + i;
    const due = started + (i * 1000) / options.perSecond;
    const wait = due - performance.now();
    if (wait > 0) await delay(wait);
    await redis.publish(
      `tvs:${region}`,
      JSON.stringify({ event: "new_trending", video_id: `c${index}`, title: String(index) }),
    );
  }
}

const range = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => String(from + i));

/** Both ways the library connects, each test run over each. */
const TRANSPORTS = ["websocket", "sse"] as const;

for (const transport of TRANSPORTS) {
  Deno.test(`over ${transport}, under a connection cut every 2 s, 1,000 messages at 50/s arrive exactly once, in order`, async () => {
    await using redis = await RedisServer.start();
    await using gateway = await startTestGateway({ REDIS_URL: redis.url });
    await using proxy = TcpProxy.start(gateway.port);
    await using client = closing(
      new TvsClient({ url: `ws://127.0.0.1:${proxy.port}/ws`, regions: ["AE"], transport }),
    );
    const seen = observe(client);
    let drops = 0;
    const dropper = setInterval(() => {
      proxy.dropAll();
      drops++;
    }, 2000);
    using _stopDropping = { [Symbol.dispose]: () => clearInterval(dropper) };
    await ready(gateway);
    client.start();
    await waitFor(() => client.status === "live", { what: "live" });
    await publishPaced(redis, "AE", { from: 0, count: 1000, perSecond: 50 });
    clearInterval(dropper);
    // A last message after the thousand: a duplicate of any would arrive before it.
    await publishPaced(redis, "AE", { from: 1000, count: 1, perSecond: 1 });
    await waitFor(() => seen.titles.at(-1) === "1000", { timeoutMs: 10_000, what: "all messages" });
    const recovered = seen.recoveries.filter((recovery) => recovery.recovered).length;
    console.log(
      `repeated drops: ${drops} cuts, ${recovered} recoveries replaying ` +
        `${seen.recoveries.reduce((sum, r) => sum + r.replayed, 0)} messages; ` +
        `received ${seen.titles.length} of 1000`,
    );
    assert.ok(drops >= 9, `${drops} cuts`);
    assert.deepEqual(seen.titles, range(0, 1001), "100%, exactly once, in order");
    assert.ok(seen.recoveries.every((recovery) => recovery.recovered), "every resume recovered");
  });

  Deno.test(`over ${transport}, a client that moves to another instance mid-stream still gets everything`, async () => {
    await using redis = await RedisServer.start();
    await using first = await startTestGateway({ REDIS_URL: redis.url });
    await using second = await startTestGateway({ REDIS_URL: redis.url });
    const gateways = [first, second];
    await using proxy = TcpProxy.start(first.port);
    await using client = closing(
      new TvsClient({ url: `ws://127.0.0.1:${proxy.port}/ws`, regions: ["GB"], transport }),
    );
    const seen = observe(client);
    for (const gateway of gateways) await ready(gateway);
    client.start();
    await waitFor(() => client.status === "live", { what: "live" });
    const publishing = publishPaced(redis, "GB", { from: 0, count: 300, perSecond: 50 });
    await waitFor(() => seen.titles.length >= 100, { what: "a third of the stream" });
    // The load balancer now sends the client to the other instance.
    proxy.upstream = second.port;
    proxy.dropAll();
    await publishing;
    await publishPaced(redis, "GB", { from: 300, count: 1, perSecond: 1 });
    await waitFor(() => seen.titles.at(-1) === "300", { timeoutMs: 10_000, what: "all messages" });
    assert.deepEqual(seen.titles, range(0, 301));
    assert.deepEqual(seen.recoveries.map((r) => r.recovered), [true]);
  });
}

Deno.test("setRegions mid-stream: the region kept loses nothing, the one added starts live, the one left goes quiet", async () => {
  await using redis = await RedisServer.start();
  await using gateway = await startTestGateway({ REDIS_URL: redis.url });
  await using client = closing(new TvsClient({ url: `${gateway.ws}/ws`, regions: ["AE", "CZ"] }));
  const byRegion: Record<string, string[]> = {};
  client.addEventListener("trending", (event) => {
    const { region, title } = (event as CustomEvent).detail;
    (byRegion[region] ??= []).push(String(title));
  });
  await ready(gateway);
  client.start();
  await waitFor(() => client.status === "live", { what: "live" });
  const publishing = publishPaced(redis, "AE", { from: 0, count: 200, perSecond: 50 });
  await waitFor(() => (byRegion.AE?.length ?? 0) >= 50, { what: "a quarter of AE" });
  client.setRegions(["ae", "FI"]);
  assert.deepEqual(Object.keys(client.lastIds), ["AE"], "the cursor of the region left is gone");
  await waitFor(() => client.status === "live", { what: "live again" });
  await redis.publish(
    "tvs:CZ",
    JSON.stringify({ event: "new_trending", video_id: "cz", title: "cz" }),
  );
  await redis.publish(
    "tvs:FI",
    JSON.stringify({ event: "new_trending", video_id: "fi", title: "fi" }),
  );
  await publishing;
  await waitFor(() => byRegion.AE?.at(-1) === "199" && byRegion.FI !== undefined, {
    timeoutMs: 10_000,
    what: "the rest of AE and FI's message",
  });
  assert.deepEqual(byRegion.AE, range(0, 200), "every AE message once, in order");
  assert.deepEqual(byRegion.FI, ["fi"]);
  assert.equal(byRegion.CZ, undefined, "nothing of the region left");
});

Deno.test("a client recovers what was published while its gateway was down", async () => {
  await using redis = await RedisServer.start();
  const port = await freePort();
  // This instance restarts on its port: the stack stops whichever runs at the end.
  await using running = new AsyncDisposableStack();
  let mine = running.use(await startTestGateway({ REDIS_URL: redis.url, PORT: String(port) }));
  // Another instance keeps listening to Redis while this one restarts: with plain PUBLISH, a
  // publication made while no gateway is subscribed reaches no one.
  await using other = await startTestGateway({ REDIS_URL: redis.url });
  await using client = closing(
    new TvsClient({
      url: `ws://127.0.0.1:${port}/ws`,
      regions: ["CH"],
      baseDelayMs: 100,
      maxDelayMs: 400,
    }),
  );
  const seen = observe(client);
  await ready(mine);
  await ready(other);
  client.start();
  await waitFor(() => client.status === "live", { what: "live" });
  await publishPaced(redis, "CH", { from: 0, count: 20, perSecond: 100 });
  await waitFor(() => seen.titles.length === 20, { what: "first 20" });
  await mine.close();
  await waitFor(() => client.status === "reconnecting", { what: "reconnecting" });
  await publishPaced(redis, "CH", { from: 20, count: 30, perSecond: 100 });
  mine = running.use(await startTestGateway({ REDIS_URL: redis.url, PORT: String(port) }));
  await ready(mine);
  await waitFor(() => seen.titles.length === 50, {
    timeoutMs: 5000,
    what: "the 30 published while down",
  });
  await publishPaced(redis, "CH", { from: 50, count: 10, perSecond: 100 });
  await waitFor(() => seen.titles.length === 60, { what: "live again" });
  assert.deepEqual(seen.titles, range(0, 60));
  assert.deepEqual(seen.recoveries, [{ region: "CH", recovered: true, replayed: 30 }]);
  assert.ok(seen.statuses.includes("reconnecting") && seen.statuses.at(-1) === "live");
});

Deno.test("when the history no longer covers a client it reports recovered: false, then goes on", async () => {
  await using gateway = await startTestGateway({ HISTORY_SIZE: "10" });
  await using proxy = TcpProxy.start(gateway.port);
  await using client = closing(
    new TvsClient({
      url: `ws://127.0.0.1:${proxy.port}/ws`,
      regions: ["BE"],
      baseDelayMs: 50,
      maxDelayMs: 100,
    }),
  );
  const seen = observe(client);
  const publish = async (index: number) => {
    const response = await fetch(`${gateway.http}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        event: "new_trending",
        region: "BE",
        video_id: `o${index}`,
        title: String(index),
      }),
    });
    await response.body?.cancel();
  };
  client.start();
  await waitFor(() => client.status === "live", { what: "live" });
  await publish(0);
  await waitFor(() => seen.titles.length === 1, { what: "first" });
  proxy.refusing = true;
  proxy.dropAll();
  for (let i = 1; i <= 30; i++) await publish(i);
  proxy.refusing = false;
  await waitFor(() => seen.recoveries.length === 1, { timeoutMs: 5000, what: "recovery" });
  assert.deepEqual(seen.recoveries, [{ region: "BE", recovered: false, replayed: 0 }]);
  await publish(31);
  await waitFor(() => seen.titles.length === 2, { what: "next live message" });
  assert.deepEqual(seen.titles, ["0", "31"]);
});

Deno.test("the client backs off exponentially with full jitter while the gateway is unreachable", async () => {
  await using proxy = TcpProxy.start(await freePort());
  proxy.refusing = true;
  await using client = closing(
    new TvsClient({
      url: `ws://127.0.0.1:${proxy.port}/ws`,
      regions: ["US"],
      baseDelayMs: 10,
      maxDelayMs: 80,
      random: () => 0.999,
    }),
  );
  const delays: number[] = [];
  client.addEventListener("status", (event) => {
    const { detail } = event as CustomEvent;
    if (typeof detail.delayMs === "number") delays.push(detail.delayMs);
  });
  client.start();
  await waitFor(() => delays.length >= 6, { timeoutMs: 5000, what: "six retries" });
  assert.deepEqual(delays.slice(0, 6), [10, 20, 40, 80, 80, 80]);
});

Deno.test("the client stops for good after a refusal or a do-not-reconnect code", async () => {
  await using gateway = await startTestGateway();
  await using refused = closing(
    new TvsClient({ url: `${gateway.ws}/ws`, regions: ["ZZ"], baseDelayMs: 10 }),
  );
  const refusedSeen = observe(refused);
  refused.start();
  await waitFor(() => refused.status === "stopped", { what: "stopped after 400" });
  assert.ok(!refusedSeen.statuses.includes("reconnecting"), "no retry after 400");

  // A socket that floods the gateway once open: the gateway closes it with 1008.
  class FloodingWebSocket extends WebSocket {
    constructor(url: string | URL) {
      super(url);
      this.addEventListener("open", () => {
        for (let i = 0; i < 40; i++) this.send("{}");
      });
    }
  }
  await using flooding = closing(
    new TvsClient({
      url: `${gateway.ws}/ws`,
      regions: ["US"],
      baseDelayMs: 10,
      WebSocket: FloodingWebSocket,
    }),
  );
  const stopped = new Promise<Record<string, unknown>>((resolve) =>
    flooding.addEventListener("status", (event) => {
      const { detail } = event as CustomEvent;
      if (detail.status === "stopped") resolve(detail);
    })
  );
  flooding.start();
  const detail = await stopped;
  assert.equal(detail.code, 1008);
  // A reconnect would be scheduled with the close: none is, and none follows.
  assert.equal(flooding.status, "stopped", "it did not come back");
});

for (const transport of TRANSPORTS) {
  Deno.test(`over ${transport}, after a restart code the client reconnects and resumes`, async () => {
    const port = await freePort();
    // The gateway restarts on its port: the stack stops whichever runs at the end.
    await using running = new AsyncDisposableStack();
    let gateway = running.use(await startTestGateway({ PORT: String(port) }));
    await using client = closing(
      new TvsClient({
        url: `ws://127.0.0.1:${port}/ws`,
        regions: ["US"],
        baseDelayMs: 50,
        transport,
      }),
    );
    const transports: string[] = [];
    client.addEventListener("status", (event) => transports.push(event.detail.transport));
    const seen = observe(client);
    client.start();
    await waitFor(() => client.status === "live", { what: "live" });
    await gateway.close();
    await waitFor(() => client.status === "reconnecting", { what: "reconnecting" });
    gateway = running.use(await startTestGateway({ PORT: String(port) }));
    await waitFor(() => client.status === "live", { timeoutMs: 5000, what: "live again" });
    // An embedded broker's history dies with the process: a new epoch, so not recovered.
    assert.deepEqual(seen.recoveries.map((r) => r.recovered), [false]);
    assert.deepEqual([...new Set(transports)], [transport], "it kept to its transport");
  });
}

Deno.test("over sse, a refusal stops the client and a full gateway is retried, as over WebSocket", async () => {
  await using gateway = await startTestGateway({ MAX_CONNECTIONS_PER_IP: "1" });
  await using refused = closing(
    new TvsClient({ url: `${gateway.ws}/ws`, regions: ["ZZ"], baseDelayMs: 10, transport: "sse" }),
  );
  const refusedSeen = observe(refused);
  refused.start();
  await waitFor(() => refused.status === "stopped", { what: "stopped after 400" });
  assert.ok(!refusedSeen.statuses.includes("reconnecting"), "no retry after 400");

  await using first = closing(
    new TvsClient({ url: `${gateway.ws}/ws`, regions: ["FI"], transport: "sse" }),
  );
  first.start();
  await waitFor(() => first.status === "live", { what: "first live" });
  await using second = closing(
    new TvsClient({ url: `${gateway.ws}/ws`, regions: ["FI"], baseDelayMs: 20, transport: "sse" }),
  );
  const secondSeen = observe(second);
  second.start();
  await waitFor(() => secondSeen.statuses.filter((s) => s === "reconnecting").length >= 2, {
    what: "429 retried",
  });
  first.close();
  await waitFor(() => second.status === "live", { what: "second live once a slot is free" });
});
