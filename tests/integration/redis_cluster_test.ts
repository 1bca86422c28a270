// A Redis Cluster, as operators run one: six nodes on loopback, three masters with a replica each.
// The gateway listens with SUBSCRIBE and SSUBSCRIBE, so producers that PUBLISH to any node and
// producers that SPUBLISH both reach viewers; it follows a planned failover of the shard that owns
// the channel, then of the shard that owns the region's history keys (usually another), then a
// master killed with SIGKILL, while publications go out every 100 ms.
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { ClusterSetup } from "../support/redis_cluster.ts";
import type { RedisServer } from "../support/redis_server.ts";
import { delay, waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

Deno.test("on a Cluster the gateway hears PUBLISH and SPUBLISH and follows planned failovers of the channel's and the history's shards and a killed master: every publication to every viewer once, none closed", async () => {
  await using setup = await ClusterSetup.start();
  await using gateway = await GatewayProcess.start({ REDIS_URL: setup.url });
  await waitFor(() => gateway.ready(), { timeoutMs: 10_000, what: "ready on the Cluster" });
  await using viewers = await TestClient.connectAll(
    [1, 2, 3].map(() => `${gateway.ws}/?region=AE`),
  );
  let closed = 0;
  for (const viewer of viewers) void viewer.closed.then(() => closed++);
  const first = viewers[0]!;
  let producer = setup.client();
  await producer.connect();
  await using _closeProducer = {
    [Symbol.asyncDispose]: () => producer.close().catch(() => {}),
  };

  // Even publications go out with SPUBLISH, sent again while they reach nobody, on a client that
  // reads the slots afresh (a replica passes SPUBLISH on to its shard but answers 0: the producer
  // cannot tell); odd ones with a plain PUBLISH, whose reply counts only the node it went to, sent
  // again only on an error.
  let published = 0;
  let publishing = true;
  const publishOne = async (index: number) => {
    const payload = JSON.stringify({
      event: "new_trending",
      video_id: `k${index}`,
      title: `${index}`,
    });
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      const sharded = index % 2 === 0;
      const receivers = await (sharded
        ? producer.sPublish("tvs:AE", payload)
        : producer.publish("tvs:AE", payload).then(() =>
          1
        )).catch(() => 0);
      if (receivers > 0) return;
      await producer.close().catch(() => {});
      producer = setup.client();
      await producer.connect().catch(() => {});
      await delay(100);
    }
    throw new Error(`Nobody received ${index} for 15 s`);
  };
  const producing = (async () => {
    while (publishing) {
      await publishOne(published);
      published++;
      await delay(100);
    }
  })();
  const arrivals: number[] = [];
  const readiness: boolean[] = [];
  const watcher = setInterval(() => {
    void gateway.ready().then((ready) => readiness.push(ready));
    while (arrivals.length < first.frames.length) arrivals.push(performance.now());
  }, 50);
  using _stopWatching = { [Symbol.dispose]: () => clearInterval(watcher) };
  const longestGap = (from: number) => {
    const times = [from, ...arrivals.filter((time) => time > from)];
    return Math.max(...times.slice(1).map((time, i) => time - times[i]!));
  };
  const moreDeliveries = async (count: number) => {
    const target = first.frames.length + count;
    for (const viewer of viewers) await viewer.waitForFrames(target, 20_000);
  };
  /** `CLUSTER FAILOVER` on the replica of `key`'s shard; resolves once it is the master. */
  const plannedFailover = async (key: string): Promise<number> => {
    const { replica } = await setup.shardOf(key, { replica: true });
    const started = performance.now();
    assert.equal(await replica!.command("CLUSTER", "FAILOVER"), "+OK");
    await waitFor(async () => (await setup.shardOf(key)).master === replica, {
      timeoutMs: 15_000,
      what: `${key}'s replica promoted`,
    });
    await moreDeliveries(10);
    return longestGap(started);
  };

  await moreDeliveries(10);
  console.log(
    "PHASE",
    "const channelGap = await plann",
    Math.round(performance.now()),
    published,
    first.frames.length,
  );
  const channelGap = await plannedFailover("tvs:AE");
  console.log(
    "PHASE",
    "const historyGap = await plann",
    Math.round(performance.now()),
    published,
    first.frames.length,
  );
  const historyGap = await plannedFailover("{AE}");
  // The channel's old master must be a replica of the new one before that can be killed.
  const { master }: { master: RedisServer } = await setup.shardOf("tvs:AE", { replica: true });
  await setup.waitForSync(master);
  const readinessBefore = readiness.length;
  const killed = performance.now();
  console.log(
    "PHASE",
    "await master.kill();",
    Math.round(performance.now()),
    published,
    first.frames.length,
  );
  await master.kill();
  await waitFor(async () => (await setup.shardOf("tvs:AE")).master !== master, {
    timeoutMs: 20_000,
    what: "the killed master replaced",
  });
  console.log(
    "PHASE",
    "await moreDeliveries(10);\n  co",
    Math.round(performance.now()),
    published,
    first.frames.length,
  );
  await moreDeliveries(10);
  const killedGap = longestGap(killed);
  await waitFor(() => gateway.ready(), { timeoutMs: 15_000, what: "ready again" });

  console.log(
    "PHASE",
    "publishing = false;",
    Math.round(performance.now()),
    published,
    first.frames.length,
  );
  publishing = false;
  await producing;
  for (const viewer of viewers) await viewer.waitForFrames(published, 10_000);
  const expected = Array.from({ length: published }, (_, i) => String(i));
  for (const viewer of viewers) {
    assert.deepEqual(viewer.frames.map((frame) => JSON.parse(frame).title), expected);
  }
  console.log(
    `cluster: ${published} publications; longest gap after CLUSTER FAILOVER of the channel's ` +
      `shard ${Math.round(channelGap)} ms, of the history's ${Math.round(historyGap)} ms, ` +
      `after kill -9 ${Math.round(killedGap)} ms`,
  );
  assert.ok(channelGap < 5000 && historyGap < 5000, "planned failovers: delivery within 5 s");
  assert.ok(killedGap < 10_000, `killed master: ${Math.round(killedGap)} ms without delivery`);
  assert.equal(closed, 0, "no viewer was closed because Redis failed over");
  assert.ok(readiness.slice(readinessBefore).includes(false), "/readyz 503 while a master is down");
  const metrics = await gateway.metricsText();
  assert.ok(metricValue(metrics, "tvs_broker_failovers_total") >= 3);

  // The reference publisher goes to the Cluster with SPUBLISH (once node-redis has settled on the
  // new topology: it may read the slots again after the last failover it noticed).
  await waitFor(() => gateway.ready(), { timeoutMs: 15_000, what: "ready" });
  const cli = await runCli(
    ["publish", "--region", "AE", "--video-id", "after", "--title", "after the failovers"],
    { REDIS_URL: setup.url },
  );
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^PUBLISH tvs:AE \(1 subscribers\)/);
  await first.waitForFrames(published + 1, 15_000);
});
