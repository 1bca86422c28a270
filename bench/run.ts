/**
 * The benchmark: tvs-realtime against the naive baseline (`bench/baseline.ts`), scenario by
 * scenario, in one run. Each scenario alternates the two targets (A B A B), each run on a fresh
 * process pinned to core 0 while the load generator (and Redis) run on core 1; figures are medians
 * of the repeats, and the table gives the ratio and whether each target is met.
 *
 *   deno task bench                   quick sizes (under 3 minutes)
 *   deno task bench -- --full         full sizes
 *   deno task bench -- --only=s1,s3   some scenarios only (s1, s2, s3, s4, s5)
 *
 * The table is printed and written to bench/results/<date>-<quick|full>.md (with `--only`,
 * <date>-<quick|full>-<scenarios>.md, so a partial run never replaces a whole one).
 *
 * Environment: BENCH_REDIS_CORE (default 1) pins Redis elsewhere ("0", or "0,1" for either core):
 * on core 1 the target's core is its own, as in production where Redis runs on another host.
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each target to <dir>/<gateway|baseline>
 * (summarise one with bench/profile_summary.ts).
 *
 * @module
 */

import { fetchMetrics, metricValue } from "../tests/support/metrics.ts";
import { RedisServer } from "../tests/support/redis_server.ts";
import { freePort } from "../tests/support/wait.ts";
import {
  type Figures,
  loadgen,
  machine,
  median,
  medians,
  pinned,
  REDIS_CORE,
  startTarget,
  type Target,
  type TargetName,
} from "./harness.ts";
import { s2Saturation, writeResult } from "./report.ts";

/** The command-line flags; `deno task` may pass on its `--` separator. */
const FLAGS = Deno.args.filter((arg) => arg !== "--");
const FULL = FLAGS.includes("--full");
const ONLY = FLAGS.find((arg) => arg.startsWith("--only="))?.slice("--only=".length).split(",");
const wanted = (scenario: string) => ONLY === undefined || ONLY.includes(scenario);

/** Sizes of each scenario, quick and full. */
const SIZES = FULL
  ? {
    s1: { clients: 1000, perSecond: 50, seconds: 10, repeats: 3 },
    s2: {
      clients: 10_000,
      startRate: 40,
      factor: 1.4,
      maxRate: 2000,
      secondsPerStep: 5,
      // Saturation swings most between runs on a shared VM: more pairs for a steadier median.
      repeats: 5,
    },
    s3: { clients: 10_000, bursts: 25, repeats: 3 },
    s4: {
      clients: 1000,
      perSecond: 50,
      seconds: 10,
      bulkBytes: 20 * 1048576,
      messageBytes: 16_000,
      maxWarmups: 5,
      repeats: 3,
    },
    s5: { clients: 5000, repeats: 3 },
  }
  : {
    s1: { clients: 1000, perSecond: 50, seconds: 5, repeats: 2 },
    s2: {
      clients: 10_000,
      startRate: 40,
      factor: 1.6,
      maxRate: 2000,
      secondsPerStep: 2,
      repeats: 1,
    },
    s3: { clients: 10_000, bursts: 15, repeats: 1 },
    // Phases of 6 s at the full run's 2 MB/s keep the quick run under 3 minutes on a slow host (10 s
    // phases took it to 189-192 s).
    s4: {
      clients: 1000,
      perSecond: 50,
      seconds: 6,
      bulkBytes: 12 * 1048576,
      messageBytes: 16_000,
      maxWarmups: 0,
      repeats: 1,
    },
    s5: { clients: 5000, repeats: 1 },
  };

const BUDGET = 262_144;

/** Runs `scenario` for both targets, alternating, and returns the figures of each repeat. */
async function compare(
  scenario: string,
  repeats: number,
  once: (target: Target, name: TargetName) => Promise<Figures>,
): Promise<Record<TargetName, Figures[]>> {
  const results: Record<TargetName, Figures[]> = { gateway: [], baseline: [] };
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const name of ["gateway", "baseline"] as const) {
      await redis.command("FLUSHALL");
      const target = await startTarget(name, await freePort(), redis.port);
      try {
        const figures = await once(target, name);
        results[name].push(figures);
        console.error(`  ${scenario} ${name} #${repeat + 1}: ${JSON.stringify(figures)}`);
      } finally {
        await target.stop();
      }
    }
  }
  return results;
}

const started = Date.now();
const redis = await RedisServer.start({
  launch: (args) => pinned(REDIS_CORE, "redis-server", args),
});
const rows: string[][] = [];
const failures: string[] = [];

/** A scenario's sizes with where its load generator finds the target and the Redis. */
function scenarioParams(sizes: Record<string, number>, target: Target): Record<string, number> {
  return { ...sizes, port: target.port, redisPort: redis.port, targetPid: target.pid };
}

/** Adds a table row; `goal` checks the gateway's figure (and ratio), if there is a target. */
function row(
  scenario: string,
  metric: string,
  gateway: number,
  baseline: number,
  format: (value: number) => string,
  goal?: { text: string; met: boolean },
) {
  const ratio = Number.isFinite(baseline) && baseline > 0
    ? (gateway / baseline).toFixed(2) + "×"
    : "—";
  const verdict = goal === undefined ? "" : goal.met ? "✅" : "❌";
  if (goal !== undefined && !goal.met) failures.push(`${scenario} ${metric}: ${goal.text}`);
  rows.push([
    scenario,
    metric,
    format(gateway),
    Number.isFinite(baseline) ? format(baseline) : "—",
    ratio,
    goal?.text ?? "",
    verdict,
  ]);
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");
const percent = (value: number) => `${value.toFixed(0)} %`;

try {
  console.error(`bench: ${FULL ? "full" : "quick"} sizes`);

  // S1 latency.
  if (wanted("s1")) {
    const s1 = await compare("S1", SIZES.s1.repeats, async (target) => {
      const [result] = await loadgen("s1", scenarioParams(SIZES.s1, target));
      const r = result as unknown as Figures;
      return {
        p50: r.p50!,
        p90: r.p90!,
        p99: r.p99!,
        max: r.max!,
        loss: r.lossTimed!,
        cpuPerDelivery: (r.targetCpuMs! * 1000) / r.received!,
        loadgenCpu: r.loadgenCpuMs! / (r.seconds! * 10),
      };
    });
    const s1g = medians(s1.gateway), s1b = medians(s1.baseline);
    for (const key of ["p50", "p90"] as const) row("S1 latency", key, s1g[key]!, s1b[key]!, ms);
    row("S1 latency", "p99", s1g.p99!, s1b.p99!, ms, {
      text: "≤ 5 ms and ≤ 1.2×",
      met: s1g.p99! <= 5 && s1g.p99! <= 1.2 * s1b.p99!,
    });
    row("S1 latency", "max", s1g.max!, s1b.max!, ms);
    row("S1 latency", "lost deliveries", s1g.loss!, s1b.loss!, count, {
      text: "0",
      met: s1g.loss === 0,
    });
    row(
      "S1 latency",
      "target CPU per delivery",
      s1g.cpuPerDelivery!,
      s1b.cpuPerDelivery!,
      (v) => `${v.toFixed(2)} µs`,
      { text: "≤ 1.15×", met: s1g.cpuPerDelivery! <= 1.15 * s1b.cpuPerDelivery! },
    );
  }

  // S3 burst and memory per idle connection (10,000 clients of one region).
  if (wanted("s3")) {
    const s3 = await compare("S3", SIZES.s3.repeats, async (target) => {
      const [result] = await loadgen("s3", scenarioParams(SIZES.s3, target));
      const r = result as unknown as { bytesPerConnection: number; bursts: number[] };
      return { burst: median(r.bursts), bytesPerConnection: r.bytesPerConnection };
    });
    const s3g = medians(s3.gateway), s3b = medians(s3.baseline);
    row("S3 burst", "1 message to 10,000 clients", s3g.burst!, s3b.burst!, ms, {
      text: "≤ 1.1×",
      met: s3g.burst! <= 1.1 * s3b.burst!,
    });
    row(
      "Memory",
      "RSS per idle connection",
      s3g.bytesPerConnection!,
      s3b.bytesPerConnection!,
      (v) => `${(v / 1024).toFixed(1)} KiB`,
      {
        text: "≤ 1.1×",
        met: s3g.bytesPerConnection! <= 1.1 * s3b.bytesPerConnection!,
      },
    );
  }

  // S2 throughput.
  if (wanted("s2")) {
    const s2 = await compare(
      "S2",
      SIZES.s2.repeats,
      async (target) => s2Saturation(await loadgen("s2", scenarioParams(SIZES.s2, target))),
    );
    const s2g = medians(s2.gateway), s2b = medians(s2.baseline);
    row("S2 throughput", "saturation deliveries/s", s2g.saturation!, s2b.saturation!, count, {
      text: "≥ 1.0×",
      met: s2g.saturation! >= s2b.saturation!,
    });
    row(
      "S2 throughput",
      "target CPU per delivery",
      s2g.cpuPerDelivery!,
      s2b.cpuPerDelivery!,
      (v) => `${v.toFixed(2)} µs`,
    );
    row(
      "S2 throughput",
      "target CPU at saturation",
      s2g.targetCpu!,
      s2b.targetCpu!,
      percent,
    );
    row(
      "S2 throughput",
      "load generator CPU at saturation",
      s2g.loadgenCpu!,
      s2b.loadgenCpu!,
      percent,
    );
  }

  // S4 slow consumer.
  if (wanted("s4")) {
    const s4 = await compare("S4", SIZES.s4.repeats, async (target, name) => {
      const [result] = await loadgen("s4", scenarioParams(SIZES.s4, target));
      const r = result as unknown as {
        control: Figures;
        stalled: Figures;
        rssGrowth: number;
        warmups: number[];
      };
      const slowCloses = name === "gateway"
        ? metricValue(
          await fetchMetrics(`http://127.0.0.1:${target.port}`),
          "tvs_slow_consumer_closes_total",
        )
        : NaN;
      const cpu = (phase: Figures, key: string) => phase[key]! / (phase.seconds! * 10);
      return {
        controlP99: r.control.p99!,
        stalledP99: r.stalled.p99!,
        p99Ratio: r.stalled.p99! / r.control.p99!,
        targetCpu: cpu(r.stalled, "targetCpuMs"),
        loadgenCpu: cpu(r.stalled, "loadgenCpuMs"),
        loss: r.stalled.lossTimed! + (r.stalled.expectedBulk! - r.stalled.receivedBulk!),
        rssGrowth: r.rssGrowth,
        slowCloses,
        warmups: r.warmups.length + 1,
      };
    });
    const s4g = medians(s4.gateway), s4b = medians(s4.baseline);
    row(
      "S4 slow consumer",
      "warm-up phases until the RSS level moved < 4 MB",
      s4g.warmups!,
      s4b.warmups!,
      count,
    );
    row("S4 slow consumer", "others' p99, control phase", s4g.controlP99!, s4b.controlP99!, ms);
    row("S4 slow consumer", "clients closed as slow consumers", s4g.slowCloses!, NaN, count, {
      text: "1 (the stalled one)",
      met: s4g.slowCloses === 1,
    });
    row(
      "S4 slow consumer",
      "others' p99, with the stalled client",
      s4g.stalledP99!,
      s4b.stalledP99!,
      ms,
    );
    row(
      "S4 slow consumer",
      "others' p99: with the stalled client ÷ control",
      s4g.p99Ratio!,
      s4b.p99Ratio!,
      (v) => `${v.toFixed(2)}×`,
      { text: "≤ 1.5×", met: s4g.p99Ratio! <= 1.5 },
    );
    row("S4 slow consumer", "others' lost deliveries", s4g.loss!, s4b.loss!, count, {
      text: "0",
      met: s4g.loss === 0,
    });
    row("S4 slow consumer", "target CPU, stalled phase", s4g.targetCpu!, s4b.targetCpu!, percent);
    row(
      "S4 slow consumer",
      "load generator CPU, stalled phase",
      s4g.loadgenCpu!,
      s4b.loadgenCpu!,
      percent,
    );
    const bound = 2 * BUDGET + 16 * 1048576;
    row(
      "S4 slow consumer",
      "RSS level: with the stalled client − control",
      s4g.rssGrowth!,
      s4b.rssGrowth!,
      (v) => `${(v / 1048576).toFixed(1)} MB`,
      {
        text: `≤ ${(bound / 1048576).toFixed(1)} MB`,
        met: s4g.rssGrowth! <= bound,
      },
    );
  }

  // S5 reconnect storm.
  if (wanted("s5")) {
    const s5 = await compare("S5", SIZES.s5.repeats, async (first, name) => {
      let target = first;
      let refusals = NaN;
      let downtime = NaN;
      const events = await loadgen("s5", scenarioParams(SIZES.s5, first), async (event) => {
        if (event.scenario !== "s5-ready") return;
        const stopping = performance.now();
        await target.stop("SIGTERM");
        target = await startTarget(name, first.port, redis.port);
        downtime = (performance.now() - stopping) / 1000;
      });
      if (name === "gateway") {
        const metrics = await fetchMetrics(`http://127.0.0.1:${target.port}`);
        refusals = [
          ...metrics.matchAll(
            /^tvs_handshake_refusals_total\{reason="too_many_connections(?:_per_ip)?"\} (\d+)/gm,
          ),
        ]
          .reduce((sum, match) => sum + Number(match[1]), 0);
      }
      await target.stop();
      const result = events.find((event) => event.scenario === "s5") as unknown as Figures;
      return {
        seconds: result.seconds!,
        reconnected: result.reconnected!,
        failedAttempts: result.failedAttempts!,
        refusals,
        downtime,
      };
    });
    const s5g = medians(s5.gateway), s5b = medians(s5.baseline);
    row(
      "S5 reconnect storm",
      `all ${SIZES.s5.clients.toLocaleString("en-US")} back after a restart`,
      s5g.seconds!,
      s5b.seconds!,
      (v) => `${v.toFixed(2)} s`,
      {
        text: "≤ 10 s",
        met: s5g.seconds! <= 10 && s5g.reconnected === SIZES.s5.clients,
      },
    );
    row(
      "S5 reconnect storm",
      "restart: SIGTERM until the new process is ready",
      s5g.downtime!,
      s5b.downtime!,
      (v) => `${v.toFixed(2)} s`,
    );
    row(
      "S5 reconnect storm",
      "failed handshake attempts (server down)",
      s5g.failedAttempts!,
      s5b.failedAttempts!,
      count,
    );
    row("S5 reconnect storm", "refused for lack of capacity", s5g.refusals!, NaN, count, {
      text: "0",
      met: s5g.refusals === 0,
    });
  }
} finally {
  await redis.stop();
}

const header = ["scenario", "figure", "tvs-realtime", "baseline", "ratio", "target", ""];
const table = [header, header.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`)
  .join("\n");
const description = await machine();
const date = new Date().toISOString().slice(0, 10);
const report = [
  `# tvs-realtime benchmark, ${date} (${FULL ? "full" : "quick"})`,
  "",
  `Machine: ${description}.`,
  "",
  `Command: \`deno task bench${FLAGS.length > 0 ? ` -- ${FLAGS.join(" ")}` : ""}\`; ${
    ((Date.now() - started) / 1000).toFixed(0)
  } s. ` +
  `Alternating runs (A B A B), medians of the repeats (${
    Object.entries(SIZES).map(([scenario, size]) => `${scenario.toUpperCase()} ${size.repeats}`)
      .join(", ")
  }); ratio = tvs-realtime / baseline.`,
  "",
  table,
  "",
  failures.length === 0
    ? "All targets met."
    : `Targets missed:\n${failures.map((f) => `- ${f}`).join("\n")}`,
  "",
].join("\n");
console.log(report);
await writeResult(
  `${date}-${FULL ? "full" : "quick"}${ONLY === undefined ? "" : `-${ONLY.join("-")}`}`,
  report,
);
