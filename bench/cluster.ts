/**
 * What a Redis Cluster costs the gateway: S2 (10,000 clients over 8 regions, the publish rate
 * raised until deliveries stop growing) against tvs-realtime on one Redis and on a Cluster of
 * three masters with a replica each, alternating, in one run; the gateway pinned to core 0, the
 * load generator and every Redis to core 1. Producers are unchanged: the load generator sends a
 * plain `PUBLISH` to one node, which the cluster bus broadcasts to every node, where the gateway
 * listens (and records to each region's shard).
 *
 *   deno task bench:cluster              quick: one run of each
 *   deno task bench:cluster -- --full    three runs of each, medians
 *
 * Writes bench/results/<date>-cluster-<quick|full>.md.
 *
 * @module
 */

import { ClusterSetup } from "../tests/support/redis_cluster.ts";
import { RedisServer } from "../tests/support/redis_server.ts";
import { freePort } from "../tests/support/wait.ts";
import {
  type Figures,
  gatewaySpec,
  loadgen,
  machine,
  medians,
  pinned,
  REDIS_CORE,
  ROOT,
  startTarget,
} from "./harness.ts";
import { Checks, count, s2Saturation, s2Sizes, table, us, writeResult } from "./report.ts";

const FULL = Deno.args.includes("--full");
const REPEATS = FULL ? 3 : 1;
const S2 = s2Sizes(FULL);

const started = Date.now();
const launch = (args: string[]) => pinned(REDIS_CORE, "redis-server", args);
await using single = await RedisServer.start({ launch });
await using cluster = await ClusterSetup.start({ launch });
const topologies = [
  {
    name: "one Redis",
    url: single.url,
    publishTo: single.port,
    flush: () => single.command("FLUSHALL"),
  },
  {
    name: "Cluster, 3 masters",
    url: cluster.url,
    publishTo: cluster.nodes[0]!.port,
    flush: () => cluster.flushAll(),
  },
] as const;

const runs = new Map<string, Figures[]>(topologies.map(({ name }) => [name, []]));
for (let repeat = 0; repeat < REPEATS; repeat++) {
  for (const topology of topologies) {
    await topology.flush();
    const target = await startTarget(
      gatewaySpec(ROOT, "tvs-1"),
      await freePort(),
      topology.publishTo,
      {
        env: { WORKERS: "1", REDIS_URL: topology.url },
      },
    );
    try {
      const events = await loadgen("s2", {
        ...S2,
        port: target.port,
        redisPort: topology.publishTo,
        targetPid: target.pid,
      });
      const figures = s2Saturation(events);
      runs.get(topology.name)!.push(figures);
      console.error(`  s2 ${topology.name} #${repeat + 1}: ${JSON.stringify(figures)}`);
    } finally {
      await target.stop();
    }
  }
}

const figures = new Map([...runs].map(([name, each]) => [name, medians(each)]));
const alone = figures.get("one Redis")!;
const onCluster = figures.get("Cluster, 3 masters")!;
const checks = new Checks();
const date = new Date().toISOString().slice(0, 10);
const report = [
  `# tvs-realtime on one Redis and on a Cluster, ${date} (${FULL ? "full" : "quick"})`,
  "",
  `Machine: ${await machine()}. Command: \`deno task bench:cluster${FULL ? " -- --full" : ""}\`; ` +
  `${
    ((Date.now() - started) / 1000).toFixed(0)
  } s; ${REPEATS} run(s) of each, alternating, medians.`,
  "",
  "### S2: saturation, 10,000 clients over 8 regions, per core",
  "",
  table(
    ["Redis", "saturation deliveries/s", "÷ one Redis", "CPU per delivery"],
    [...figures].map(([name, f]) => [
      name,
      count(f.saturation),
      `${(f.saturation! / alone.saturation!).toFixed(2)}×`,
      us(f.cpuPerDelivery),
    ]),
  ),
  "",
  checks.check(
    "on a Cluster the gateway keeps at least 90 % of its saturation on one Redis",
    onCluster.saturation! >= 0.9 * alone.saturation!,
  ),
  "",
  checks.summary(),
  "",
].join("\n");
console.log(report);
await writeResult(`${date}-cluster-${FULL ? "full" : "quick"}`, report);
