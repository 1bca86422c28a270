/**
 * The moment that matters, against the servers people would otherwise write: tvs-realtime and
 * the naive Deno server (`baseline.ts`), Node with `ws` and Bun with its topic publish
 * (`peers/`), in one run, each scenario alternating the targets.
 *
 *   deno task bench:peers                       quick sizes, every scenario
 *   deno task bench:peers -- --full             full sizes
 *   deno task bench:peers -- --only=burst,s1    some scenarios (burst, host, s1, s2, overload)
 *   deno task bench:peers -- --against=<rev>    also tvs-realtime at a git revision (before/after)
 *
 * Scenarios: **burst** (per core): 10,000 idle clients of AE, then single publications to AE; for
 * each the time from PUBLISH to the first, median, p99 and last client's frame, the target's CPU
 * per delivery and its memory per idle connection; every target pinned to core 0, the load
 * generator and Redis to core 1. **host**: the same burst with nothing pinned and each target as
 * it runs by default (tvs-realtime with `WORKERS=2` on this two-core host). **s1**: 1,000 clients
 * over 8 regions at 50 publications/s: p50, p99 and CPU per delivery, per core. **s2**: 10,000
 * clients, the rate raised until deliveries stop growing: saturation and CPU per delivery, per
 * core. **overload**: 10,000 clients at twice tvs-realtime's saturation rate: peak resident
 * memory against its bound (idle + `MAX_QUEUED_BYTES` + 25 %).
 *
 * The peers are installed from `peers/package.json` (npm ci) on first use. The table is printed
 * and written to bench/results/<date>-peers-<quick|full>.md.
 *
 * @module
 */

import { RedisServer } from "../tests/support/redis_server.ts";
import { freePort } from "../tests/support/wait.ts";
import {
  BASELINE,
  type Figures,
  gatewaySpec,
  loadgen,
  machine,
  medians,
  pinned,
  REDIS_CORE,
  ROOT,
  startTarget,
  type Target,
  type TargetSpec,
} from "./harness.ts";
import { Checks, count, mb, ms, s2Saturation, s2Sizes, table, us, writeResult } from "./report.ts";

const FLAGS = Deno.args.filter((arg) => arg !== "--");
const FULL = FLAGS.includes("--full");
const ONLY = FLAGS.find((arg) => arg.startsWith("--only="))?.slice("--only=".length).split(",");
const AGAINST = FLAGS.find((arg) => arg.startsWith("--against="))?.slice("--against=".length);
const wanted = (scenario: string) => ONLY === undefined || ONLY.includes(scenario);

const SIZES = {
  burst: { clients: 10_000, bursts: FULL ? 25 : 12 },
  s1: { clients: 1000, perSecond: 50, seconds: FULL ? 10 : 5 },
  s2: s2Sizes(FULL),
  overload: { clients: 10_000, seconds: FULL ? 20 : 10 },
};
const REPEATS = FULL ? 3 : 1;
/** tvs-realtime's MAX_QUEUED_BYTES (its default), which the overload bound is made of. */
const MAX_QUEUED_BYTES = 268_435_456;

/** A target of this benchmark: what runs, with which settings, and on which cores per core. */
interface Peer {
  readonly spec: TargetSpec;
  readonly env?: Readonly<Record<string, string>>;
  /** Measured per core (pinned to core 0) too, or only per host. */
  readonly perCore: boolean;
}

const PEERS_DIR = `${ROOT}bench/peers`;

/** Installs the peers' packages once (npm ci from the committed lock file). */
async function installPeers(): Promise<void> {
  if (await Deno.stat(`${PEERS_DIR}/node_modules/.bin/bun`).then(() => true, () => false)) return;
  console.error("bench: installing the peers (npm ci in bench/peers)");
  const output = await new Deno.Command("npm", {
    args: ["ci", "--no-audit", "--no-fund"],
    cwd: PEERS_DIR,
    stdout: "null",
  }).output();
  if (!output.success) throw new Error("npm ci in bench/peers failed");
}

/** tvs-realtime at git revision `rev`, checked out beside the project (removed at the end). */
async function checkout(rev: string): Promise<string> {
  const directory = await Deno.makeTempDir({ prefix: "tvs-bench-" });
  const output = await new Deno.Command("git", {
    args: ["worktree", "add", "--detach", directory, rev],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return directory;
}

const node: TargetSpec = {
  name: "node-ws",
  readiness: false,
  command: () => ["node", ["bench/peers/node_ws.js"]],
};
const bun: TargetSpec = {
  name: "bun",
  readiness: false,
  command: () => [`${PEERS_DIR}/node_modules/.bin/bun`, ["run", "bench/peers/bun_server.js"]],
};

await installPeers();
const worktree = AGAINST === undefined ? undefined : await checkout(AGAINST);
const PEERS: readonly Peer[] = [
  { spec: { ...BASELINE, name: "naive-deno" }, perCore: true },
  { spec: node, perCore: true },
  { spec: bun, perCore: true },
  { spec: gatewaySpec(ROOT, "tvs-1"), env: { WORKERS: "1" }, perCore: true },
  { spec: gatewaySpec(ROOT, "tvs-2"), env: { WORKERS: "2" }, perCore: false },
  ...(worktree === undefined
    ? []
    : [{ spec: gatewaySpec(worktree, `tvs-1@${AGAINST}`), env: { WORKERS: "1" }, perCore: true }]),
];

const started = Date.now();
const redis = await RedisServer.start({
  launch: (args) => pinned(REDIS_CORE, "redis-server", args),
});
const sections: string[] = [];
const checks = new Checks();
const check = (text: string, met: boolean) => checks.check(text, met);

/** `sizes` with where the load generator finds the target and Redis. */
function params(sizes: Record<string, number>, target: Target): Record<string, number> {
  return { ...sizes, port: target.port, redisPort: redis.port, targetPid: target.pid };
}

/** Every round's figures, by scenario and target, in the order run. */
const rounds = new Map<string, Map<string, Figures[]>>();

/**
 * Runs `once` for every peer of `peers`, alternating, `REPEATS` times, each on a fresh process
 * (pinned to core 0, or free per host); returns the medians of each, and keeps every round.
 */
async function measure(
  scenario: string,
  peers: readonly Peer[],
  options: { readonly perHost: boolean },
  once: (target: Target, peer: Peer) => Promise<Figures>,
): Promise<Map<string, Figures>> {
  const runs = new Map<string, Figures[]>(peers.map((peer) => [peer.spec.name, []]));
  rounds.set(scenario, runs);
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const peer of peers) {
      await redis.command("FLUSHALL");
      const target = await startTarget(peer.spec, await freePort(), redis.port, {
        cores: options.perHost ? "free" : "0",
        ...(peer.env !== undefined && { env: peer.env }),
      });
      try {
        const figures = await once(target, peer);
        runs.get(peer.spec.name)!.push(figures);
        console.error(`  ${scenario} ${peer.spec.name} #${repeat + 1}: ${JSON.stringify(figures)}`);
      } finally {
        await target.stop();
      }
    }
  }
  return new Map([...runs].map(([name, figures]) => [name, medians(figures)]));
}

const perCore = PEERS.filter((peer) => peer.perCore);
const hostPeers = PEERS.filter((peer) => peer.spec.name !== "tvs-1");

/** The burst: first, median, p99 and last latency, CPU per delivery, memory per connection. */
async function burst(peers: readonly Peer[], perHost: boolean): Promise<Map<string, Figures>> {
  const loadgenCores = perHost ? "free" : "1";
  return await measure(perHost ? "host" : "burst", peers, { perHost }, async (target) => {
    const [result] = await loadgen("s3", params(SIZES.burst, target), undefined, {
      cores: loadgenCores,
    });
    const r = result as unknown as Figures;
    return {
      first: r.first!,
      p50: r.p50!,
      p99: r.p99!,
      last: r.last!,
      cpuPerDelivery: r.cpuPerDeliveryUs!,
      kbPerConnection: r.bytesPerConnection! / 1024,
    };
  });
}

function burstTable(title: string, figures: Map<string, Figures>): string {
  return `### ${title}\n\n` + table(
    ["target", "first", "median", "p99", "last", "CPU per delivery", "per idle connection"],
    [...figures].map(([name, f]) => [
      name,
      ms(f.first),
      ms(f.p50),
      ms(f.p99),
      ms(f.last),
      us(f.cpuPerDelivery),
      `${(f.kbPerConnection ?? NaN).toFixed(1)} KB`,
    ]),
  );
}

let tvsSaturationRate = 0;
try {
  if (wanted("burst")) {
    const figures = await burst(perCore, false);
    sections.push(burstTable(
      `Burst, per core: one publication to ${count(SIZES.burst.clients)} AE clients`,
      figures,
    ));
  }
  if (wanted("host")) {
    const figures = await burst(hostPeers, true);
    const last = (name: string) => figures.get(name)?.last ?? NaN;
    const others = hostPeers.map((peer) => peer.spec.name).filter((name) =>
      name !== "tvs-2" && name !== "bun" && !name.startsWith("tvs-1@")
    );
    sections.push(
      burstTable("Burst, per host: every target as it runs by default, nothing pinned", figures) +
        "\n\n" + check(
          "the last AE viewer gets the toast sooner from tvs-2 than from any peer but Bun",
          others.every((name) => last("tvs-2") < last(name)),
        ),
    );
  }
  if (wanted("s1")) {
    const figures = await measure("s1", perCore, { perHost: false }, async (target) => {
      const [result] = await loadgen("s1", params(SIZES.s1, target));
      const r = result as unknown as Figures;
      return {
        p50: r.p50!,
        p99: r.p99!,
        loss: r.lossTimed!,
        cpuPerDelivery: (r.targetCpuMs! * 1000) / r.received!,
      };
    });
    const naive = figures.get("naive-deno")!;
    const tvs = figures.get("tvs-1")!;
    const bestPeerP99 = Math.min(naive.p99!, figures.get("node-ws")!.p99!);
    sections.push(
      "### S1: 1,000 clients, 50 publications/s, per core\n\n" + table(
        ["target", "p50", "p99", "lost", "CPU per delivery", "÷ naive"],
        [...figures].map(([name, f]) => [
          name,
          ms(f.p50),
          ms(f.p99),
          count(f.loss),
          us(f.cpuPerDelivery),
          `${(f.cpuPerDelivery! / naive.cpuPerDelivery!).toFixed(2)}×`,
        ]),
      ) + "\n\n" +
        check(
          "tvs-1's CPU per delivery ≤ 1.15× naive's",
          tvs.cpuPerDelivery! <= 1.15 * naive.cpuPerDelivery!,
        ) + "\n" +
        check("tvs-1's p99 ≤ the best Deno or Node peer's", tvs.p99! <= bestPeerP99),
    );
  }
  if (wanted("s2")) {
    const figures = await measure(
      "s2",
      perCore,
      { perHost: false },
      async (target) => s2Saturation(await loadgen("s2", params(SIZES.s2, target))),
    );
    const naive = figures.get("naive-deno")!;
    tvsSaturationRate = figures.get("tvs-1")!.rate!;
    sections.push(
      "### S2: saturation, 10,000 clients over 8 regions, per core\n\n" + table(
        ["target", "saturation deliveries/s", "÷ naive", "CPU per delivery"],
        [...figures].map(([name, f]) => [
          name,
          count(f.saturation),
          `${(f.saturation! / naive.saturation!).toFixed(2)}×`,
          us(f.cpuPerDelivery),
        ]),
      ) + "\n\n" + check(
        "tvs-1's saturation ≥ 1.0× naive's",
        figures.get("tvs-1")!.saturation! >= naive.saturation!,
      ),
    );
  }
  if (wanted("overload")) {
    // Twice tvs-realtime's saturation rate (publications/s), or a rate that saturates this host.
    const rate = 2 * (tvsSaturationRate || 100);
    const peers = perCore.filter((peer) => ["naive-deno", "tvs-1"].includes(peer.spec.name));
    const figures = await measure("overload", peers, { perHost: false }, async (target) => {
      const [result] = await loadgen("overload", params({ ...SIZES.overload, rate }, target));
      const r = result as unknown as Figures;
      return { idleRss: r.idleRss!, peakRss: r.peakRss!, open: r.clientsOpen! };
    });
    const tvs = figures.get("tvs-1")!;
    const bound = tvs.idleRss! + 1.25 * MAX_QUEUED_BYTES;
    sections.push(
      `### Overload: ${count(SIZES.overload.clients)} clients at ${rate} publications/s for ` +
        `${SIZES.overload.seconds} s, per core\n\n` + table(
          ["target", "idle RSS", "peak RSS", "clients still connected"],
          [...figures].map(([name, f]) => [name, mb(f.idleRss), mb(f.peakRss), count(f.open)]),
        ) + "\n\n" + check(
          `tvs-1's peak RSS ≤ idle + MAX_QUEUED_BYTES + 25 % (${mb(bound)})`,
          tvs.peakRss! <= bound,
        ),
    );
  }
} finally {
  await redis.stop();
  if (worktree !== undefined) {
    await new Deno.Command("git", {
      args: ["worktree", "remove", "--force", worktree],
      cwd: ROOT,
    }).output();
  }
}

/** The figures the targets are checked on, whose medians hide how far apart rounds are. */
const ROUND_FIGURES: readonly [string, string, string, (value: number | undefined) => string][] = [
  ["burst", "last", "last client", ms],
  ["burst", "cpuPerDelivery", "CPU per delivery", us],
  ["host", "last", "last client", ms],
  ["s1", "cpuPerDelivery", "CPU per delivery", us],
  ["s1", "p99", "p99", ms],
  ["s2", "saturation", "saturation deliveries/s", count],
  ["overload", "peakRss", "peak RSS", mb],
];

/** Every round of the figures above, to compare a round of one target with its neighbours'. */
function roundsSection(): string {
  const rows = ROUND_FIGURES.flatMap(([scenario, key, label, format]) =>
    [...rounds.get(scenario) ?? []].map(([name, figures]) => [
      scenario,
      label,
      name,
      figures.map((figure) => format(figure[key])).join(", "),
    ])
  );
  return "### Every round, in the order run\n\n" +
    table(["scenario", "figure", "target", "rounds"], rows);
}

const date = new Date().toISOString().slice(0, 10);
const report = [
  `# tvs-realtime and its peers, ${date} (${FULL ? "full" : "quick"})`,
  "",
  `Machine: ${await machine()}. Command: \`deno task bench:peers${
    FLAGS.length > 0 ? ` -- ${FLAGS.join(" ")}` : ""
  }\`; ${((Date.now() - started) / 1000).toFixed(0)} s; ${REPEATS} run(s) of each target per ` +
  "scenario, alternating, medians.",
  "",
  ...sections.flatMap((section) => [section, ""]),
  roundsSection(),
  "",
  checks.summary(),
  "",
].join("\n");
console.log(report);
await writeResult(
  `${date}-peers-${FULL ? "full" : "quick"}${ONLY === undefined ? "" : `-${ONLY.join("-")}`}${
    AGAINST === undefined ? "" : `-against-${AGAINST}`
  }`,
  report,
);
