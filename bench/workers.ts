/**
 * What a second worker buys: tvs-realtime with `WORKERS=1` and `WORKERS=2`, both free to use both
 * cores (the load generator and Redis share core 1 with them), and `WORKERS=1` pinned to core 0 as
 * the reference of one core, in one run, alternating. S2 (saturation), memory per idle connection
 * (S3's 10,000 clients) and S1 latency; ratios are two workers ÷ one.
 *
 *   deno task bench:workers               quick sizes (one repeat)
 *   deno task bench:workers -- --full     full sizes (three repeats)
 *
 * The table is printed and written to bench/results/<date>-workers-<quick|full>.md.
 *
 * @module
 */

import { RedisServer } from "../tests/support/redis_server.ts";
import { freePort } from "../tests/support/wait.ts";
import {
  type Figures,
  hasTaskset,
  loadgen,
  machine,
  medians,
  pinned,
  REDIS_CORE,
  startTarget,
  type Target,
} from "./harness.ts";
import { s2Saturation, s2Sizes, writeResult } from "./report.ts";

const FLAGS = Deno.args.filter((arg) => arg !== "--");
const FULL = FLAGS.includes("--full");
const REPEATS = FULL ? 3 : 1;
const SIZES = {
  s1: { clients: 1000, perSecond: 50, seconds: FULL ? 10 : 5 },
  s2: s2Sizes(FULL),
  s3: { clients: 10_000, bursts: FULL ? 25 : 15 },
};

/** The three ways the gateway runs, in the order of each repeat. */
const SETUPS = [
  { name: "1 worker, core 0", cores: "0", workers: 1 },
  { name: "1 worker", cores: "0,1", workers: 1 },
  { name: "2 workers", cores: "0,1", workers: 2 },
] as const;
type SetupName = typeof SETUPS[number]["name"];

const started = Date.now();
const redis = await RedisServer.start({
  launch: (args) => pinned(REDIS_CORE, "redis-server", args),
});

/** `scenario`'s sizes with where the load generator finds the target. */
function params(sizes: Record<string, number>, target: Target): Record<string, number> {
  return { ...sizes, port: target.port, redisPort: redis.port, targetPid: target.pid };
}

/** One repeat of every scenario on one setup. */
async function measure(target: Target): Promise<Figures> {
  const [s1] = await loadgen("s1", params(SIZES.s1, target));
  const [s3] = await loadgen("s3", params(SIZES.s3, target));
  return {
    p99: (s1 as unknown as Figures).p99!,
    bytesPerConnection: (s3 as unknown as Figures).bytesPerConnection!,
    ...s2Saturation(await loadgen("s2", params(SIZES.s2, target))),
  };
}

const runs = new Map<SetupName, Figures[]>(SETUPS.map((setup) => [setup.name, []]));
try {
  console.error(`bench:workers: ${FULL ? "full" : "quick"} sizes`);
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const setup of SETUPS) {
      await redis.command("FLUSHALL");
      const target = await startTarget("gateway", await freePort(), redis.port, {
        cores: setup.cores,
        env: { WORKERS: String(setup.workers) },
      });
      try {
        const figures = await measure(target);
        runs.get(setup.name)!.push(figures);
        console.error(`  ${setup.name} #${repeat + 1}: ${JSON.stringify(figures)}`);
      } finally {
        await target.stop();
      }
    }
  }
} finally {
  await redis.stop();
}

const [pinnedOne, one, two] = SETUPS.map((setup) => medians(runs.get(setup.name)!));
const failures: string[] = [];
const rows: string[][] = [];
function row(
  figure: string,
  key: string,
  format: (value: number) => string,
  goal?: { readonly text: string; readonly met: (ratio: number) => boolean },
) {
  const ratio = two![key]! / one![key]!;
  const met = goal === undefined ? undefined : goal.met(ratio);
  if (met === false) failures.push(`${figure}: ${goal!.text}`);
  rows.push([
    figure,
    format(pinnedOne![key]!),
    format(one![key]!),
    format(two![key]!),
    `${ratio.toFixed(2)}×`,
    goal?.text ?? "",
    met === undefined ? "" : met ? "✅" : "❌",
  ]);
}
const count = (value: number) => Math.round(value).toLocaleString("en-US");
row("S2 saturation deliveries/s", "saturation", count, {
  text: "≥ 1.10×",
  met: (ratio) => ratio >= 1.1,
});
row("S2 target CPU per delivery", "cpuPerDelivery", (v) => `${v.toFixed(2)} µs`, {
  text: "≤ 1.1×",
  met: (ratio) => ratio <= 1.1,
});
row("S2 target CPU at saturation", "targetCpu", (v) => `${v.toFixed(0)} %`);
row("S2 load generator CPU at saturation", "loadgenCpu", (v) => `${v.toFixed(0)} %`);
row("RSS per idle connection", "bytesPerConnection", (v) => `${(v / 1024).toFixed(1)} KiB`, {
  text: "≤ 1.15×",
  met: (ratio) => ratio <= 1.15,
});
row("S1 p99", "p99", (v) => `${v.toFixed(2)} ms`, {
  text: "≤ 1.2×",
  met: (ratio) => ratio <= 1.2,
});

const perCore = pinnedOne!.saturation!;
const header = ["figure", "1 worker, core 0", "1 worker", "2 workers", "2 ÷ 1", "target", ""];
const date = new Date().toISOString().slice(0, 10);
const report = [
  `# tvs-realtime workers benchmark, ${date} (${FULL ? "full" : "quick"})`,
  "",
  `Machine: ${await machine()}. Here the "1 worker" and "2 workers" targets may use cores ${
    hasTaskset ? "0 and 1" : "any"
  }, sharing core 1 with the load generator and Redis.`,
  "",
  `Command: \`deno task bench:workers${FLAGS.length > 0 ? ` -- ${FLAGS.join(" ")}` : ""}\`; ${
    ((Date.now() - started) / 1000).toFixed(0)
  } s. ${REPEATS} repeat(s), alternating the three setups, medians.`,
  "",
  [header, header.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n"),
  "",
  `One core delivers ${count(perCore)} deliveries/s at saturation (S2, pinned); per delivery the ` +
  `second worker costs ${
    (two!.cpuPerDelivery! / one!.cpuPerDelivery!).toFixed(2)
  }× the CPU of one.`,
  "",
  failures.length === 0
    ? "All targets met."
    : `Targets missed:\n${failures.map((failure) => `- ${failure}`).join("\n")}`,
  "",
].join("\n");
console.log(report);
await writeResult(`${date}-workers-${FULL ? "full" : "quick"}`, report);
