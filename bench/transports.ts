/**
 * What a Server-Sent Events subscriber costs beside a WebSocket one, in one run, alternating, on
 * the same gateway build: tvs-realtime (`WORKERS=1`) pinned to core 0, the load generator and
 * Redis on core 1. Per transport, on a fresh gateway: memory per idle subscriber (10,000 clients
 * of one region) with the time from `PUBLISH` to each of them, then S2 (10,000 clients over 8
 * regions, the rate raised until deliveries stop growing).
 *
 *   deno task bench:transports              quick: one run of each
 *   deno task bench:transports -- --full    three runs of each, medians
 *
 * Writes bench/results/<date>-transports-<quick|full>.md.
 *
 * @module
 */

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
import { count, ms, s2Saturation, s2Sizes, table, us, writeResult } from "./report.ts";

const FULL = Deno.args.includes("--full");
const REPEATS = FULL ? 3 : 1;
const S2 = s2Sizes(FULL);
const IDLE = { clients: 10_000, bursts: FULL ? 25 : 10 };
/** The load generator's switch: raw WebSocket clients, or raw event-stream clients. */
const TRANSPORTS = [{ name: "WebSocket", sse: 0 }, { name: "Server-Sent Events", sse: 1 }];

const started = Date.now();
await using redis = await RedisServer.start({
  launch: (args) => pinned(REDIS_CORE, "redis-server", args),
});

const runs = new Map<string, Figures[]>(TRANSPORTS.map(({ name }) => [name, []]));
for (let repeat = 0; repeat < REPEATS; repeat++) {
  for (const transport of TRANSPORTS) {
    await redis.command("FLUSHALL");
    const target = await startTarget(gatewaySpec(ROOT, "tvs-1"), await freePort(), redis.port, {
      env: { WORKERS: "1" },
    });
    try {
      const where = { port: target.port, redisPort: redis.port, targetPid: target.pid };
      const [idle] = await loadgen("s3", { ...IDLE, ...where, sse: transport.sse });
      const figures: Figures = {
        ...idle as unknown as Figures,
        ...s2Saturation(await loadgen("s2", { ...S2, ...where, sse: transport.sse })),
      };
      runs.get(transport.name)!.push(figures);
      console.error(`  ${transport.name} #${repeat + 1}: ${JSON.stringify(figures)}`);
    } finally {
      await target.stop();
    }
  }
}

const figures = new Map([...runs].map(([name, each]) => [name, medians(each)]));
const socket = figures.get("WebSocket")!;
const ratio = (value: number | undefined, base: number | undefined) =>
  `${(value! / base!).toFixed(2)}×`;
const date = new Date().toISOString().slice(0, 10);
const report = [
  `# tvs-realtime over WebSocket and over Server-Sent Events, ${date} (${FULL ? "full" : "quick"})`,
  "",
  `Machine: ${await machine()}. Command: \`deno task bench:transports${
    FULL ? " -- --full" : ""
  }\`; ${((Date.now() - started) / 1000).toFixed(0)} s; ${REPEATS} run(s) of each, alternating, ` +
  "medians. The gateway (`WORKERS=1`) on core 0, the load generator and Redis on core 1.",
  "",
  `### ${count(IDLE.clients)} idle subscribers of one region, then single publications to it`,
  "",
  table(
    ["transport", "KB per idle subscriber", "÷ WebSocket", "first", "median", "p99", "last"],
    [...figures].map(([name, f]) => [
      name,
      (f.bytesPerConnection! / 1024).toFixed(1),
      ratio(f.bytesPerConnection, socket.bytesPerConnection),
      ms(f.first),
      ms(f.p50),
      ms(f.p99),
      ms(f.last),
    ]),
  ),
  "",
  "### S2: saturation, 10,000 clients over 8 regions, one core",
  "",
  table(
    ["transport", "saturation deliveries/s", "÷ WebSocket", "CPU per delivery", "÷ WebSocket"],
    [...figures].map(([name, f]) => [
      name,
      count(f.saturation),
      ratio(f.saturation, socket.saturation),
      us(f.cpuPerDelivery),
      ratio(f.cpuPerDelivery, socket.cpuPerDelivery),
    ]),
  ),
  "",
].join("\n");
console.log(report);
await writeResult(`${date}-transports-${FULL ? "full" : "quick"}`, report);
