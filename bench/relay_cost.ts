/**
 * What a relay that parses inbound frame headers in front of `Deno.serve` would cost
 * (`bench/inbound_relay.ts`): S1 (1,000 clients over 8 regions, 50 publications a second) on the
 * gateway directly, through a bare relay, and through the checking one, alternating, the gateway
 * and the relay pinned to core 0 together (what one core does), the load generator and Redis on
 * core 1. The figure is CPU per delivery, the gateway's and the relay's together.
 *
 *   deno task bench:relay [-- --repeats=3]
 *
 * Prints the table and writes it to bench/results/<date>-relay-cost.md.
 *
 * @module
 */

import { RedisServer } from "../tests/support/redis_server.ts";
import { freePort } from "../tests/support/wait.ts";
import { loadgen, machine, median, pinned, REDIS_CORE, ROOT, startTarget } from "./harness.ts";
import { writeResult } from "./report.ts";

const FLAGS = Deno.args.filter((arg) => arg !== "--");
const REPEATS = Number(FLAGS.find((arg) => arg.startsWith("--repeats="))?.split("=")[1] ?? 3);
const S1 = { clients: 1000, perSecond: 50, seconds: 10 };
const MODES = ["direct", "bare", "checked"] as const;
type Mode = typeof MODES[number];

/** CPU time (user + system) of `pid`, in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Starts the relay on core 0 in front of `gatewayPort`; resolves once it listens. */
async function startRelay(mode: Exclude<Mode, "direct">, gatewayPort: number) {
  const port = await freePort();
  const [command, args] = pinned(0, Deno.execPath(), [
    "run",
    "-q",
    "-A",
    "bench/inbound_relay.ts",
    String(port),
    String(gatewayPort),
    mode,
  ]);
  const child = new Deno.Command(command, { args, cwd: ROOT, stdout: "piped" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes('"listening"')) {
    const { value, done } = await reader.read();
    if (done) throw new Error("relay exited before listening");
    text += value;
  }
  return {
    port,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

const redis = await RedisServer.start({
  launch: (args) => pinned(REDIS_CORE, "redis-server", args),
});
const perDelivery: Record<Mode, number[]> = { direct: [], bare: [], checked: [] };
try {
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const mode of MODES) {
      await redis.command("FLUSHALL");
      const gateway = await startTarget("gateway", await freePort(), redis.port);
      const relay = mode === "direct" ? undefined : await startRelay(mode, gateway.port);
      try {
        const pids = [gateway.pid, ...(relay === undefined ? [] : [relay.pid])];
        const before = await Promise.all(pids.map(cpuMs));
        const [result] = await loadgen("s1", {
          ...S1,
          port: relay?.port ?? gateway.port,
          redisPort: redis.port,
          targetPid: gateway.pid,
        });
        const after = await Promise.all(pids.map(cpuMs));
        const cpu = after.reduce((sum, value, i) => sum + value - before[i]!, 0);
        const received = Number(result?.received);
        perDelivery[mode].push((cpu * 1000) / received);
        console.error(`  ${mode} #${repeat + 1}: ${cpu} ms CPU for ${received} deliveries`);
      } finally {
        await relay?.stop();
        await gateway.stop();
      }
    }
  }
} finally {
  await redis.stop();
}

const direct = median(perDelivery.direct);
const rows = MODES.map((mode) => {
  const value = median(perDelivery[mode]);
  return `| ${mode} | ${value.toFixed(1)} µs | ${(value / direct).toFixed(2)}× |`;
});
const table = [
  `Relay cost, ${new Date().toISOString().slice(0, 10)}: S1, ${REPEATS} alternating runs each, ` +
  "medians. Machine: " + await machine() + ".",
  "",
  "| gateway reached | CPU per delivery (gateway + relay) | ÷ direct |",
  "| --- | --- | --- |",
  ...rows,
  "",
].join("\n");
console.log(table);
await writeResult(`${new Date().toISOString().slice(0, 10)}-relay-cost`, table);
