/**
 * What the benchmark's scripts share: target processes pinned to cores, the load generator, and
 * the arithmetic of the figures. `run.ts` compares the gateway with the baseline; `workers.ts`
 * compares the gateway with itself on one worker and on two.
 *
 * @module
 */

import { isReady } from "../tests/support/metrics.ts";
import { waitFor } from "../tests/support/wait.ts";

export const ROOT = new URL("../", import.meta.url).pathname;
const decoder = new TextDecoder();

/** The targets `run.ts` compares: the gateway as shipped, and the naive baseline. */
export type TargetName = "gateway" | "baseline";

/**
 * What a target process is: how to start it (with Deno's CPU profiler when asked), where, and
 * whether it says it is ready on `/readyz`. Every target reads `PORT`, `HOST` and `REDIS_URL` and
 * prints a JSON `"listening"` line.
 */
export interface TargetSpec {
  /** For logs and profile directories. */
  readonly name: string;
  /** The command line, given the profile directory to write to (only Deno targets can). */
  readonly command: (profileDir: string | undefined) => [string, string[]];
  /** Where it runs. @default the project root */
  readonly cwd?: string;
  /** Whether `/readyz` says when it is subscribed (the gateway), else listening is ready. */
  readonly readiness: boolean;
}

/** The gateway of the checkout at `root` (the project itself by default), as shipped. */
export function gatewaySpec(root: string = ROOT, name = "gateway"): TargetSpec {
  return {
    name,
    cwd: root,
    readiness: true,
    command: (profile) => [Deno.execPath(), [
      "run",
      "-q",
      ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []),
      "-P=gateway",
      "main.ts",
    ]],
  };
}

/** The naive baseline (`baseline.ts`): `Deno.serve` + `upgradeWebSocket`, a plain send loop. */
export const BASELINE: TargetSpec = {
  name: "baseline",
  readiness: false,
  command: (profile) => [Deno.execPath(), [
    "run",
    "-q",
    ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []),
    "-A",
    "bench/baseline.ts",
  ]],
};
export type Event = Record<string, unknown> & { scenario: string };

export const hasTaskset = await new Deno.Command("taskset", { args: ["-V"] }).output().then(
  () => true,
  () => false,
);

/** `command` pinned to `core` when taskset exists. */
export function pinned(core: number | string, command: string, args: string[]): [string, string[]] {
  return hasTaskset ? ["taskset", ["-c", String(core), command, ...args]] : [command, args];
}

/** Core(s) of the benchmark's Redis, as taskset takes them (BENCH_REDIS_CORE). */
export const REDIS_CORE = Deno.env.get("BENCH_REDIS_CORE") ?? "1";

export interface Target {
  readonly pid: number;
  readonly port: number;
  stop(signal?: Deno.Signal): Promise<void>;
}

/** Where a target runs and what it runs with besides the benchmark's settings. */
export interface TargetOptions {
  /** Cores it may run on, as taskset takes them, or `free` for no pinning. @default "0" */
  readonly cores?: string;
  /** More settings (`WORKERS`, a `REDIS_URL` of another topology). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts a fresh target process (on core 0 unless told) and waits until it is ready. */
export async function startTarget(
  target: TargetName | TargetSpec,
  port: number,
  redisPort: number,
  options: TargetOptions = {},
): Promise<Target> {
  const spec = target === "gateway" ? gatewaySpec() : target === "baseline" ? BASELINE : target;
  const name = spec.name;
  const env = {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    PORT: String(port),
    HOST: "127.0.0.1",
    // Every client comes from 127.0.0.1 here; the default per-address limit is for the internet.
    MAX_CONNECTIONS: "20000",
    MAX_CONNECTIONS_PER_IP: "20000",
    LOG_LEVEL: "info",
    DRAIN_SECONDS: "0",
    // The run's own settings, REDIS_URL included (a Cluster's).
    ...options.env,
  };
  const profile = Deno.env.get("BENCH_CPU_PROF");
  const [program, programArgs] = spec.command(profile ? `${profile}/${name}` : undefined);
  const [command, args] = options.cores === "free"
    ? [program, programArgs]
    : pinned(options.cores ?? "0", program, programArgs);
  const child = new Deno.Command(command, {
    args,
    cwd: spec.cwd ?? ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000);
  while (!buffered.includes('"listening"')) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`${name} exited (or took over 20 s) before listening`);
    buffered += value;
  }
  clearTimeout(deadline);
  // Keep reading so the pipe never fills.
  (async () => {
    while (!(await lines.read()).done) {
      // Discard.
    }
  })();
  if (spec.readiness) {
    await waitFor(() => isReady(`http://127.0.0.1:${port}`), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: "gateway ready",
    });
  }
  return {
    pid: child.pid,
    port,
    async stop(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Gone.
        }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs the load generator of `scenario` on core 1 (or `options.cores`, `free` for no pinning): Node
 * for S1-S4 (`bench/loadgen.mjs`), Deno for the client library's storm (`bench/storm.ts`).
 * `onEvent` may act on its events as they come.
 */
export async function loadgen(
  scenario: string,
  params: Record<string, number>,
  onEvent: (event: Event) => Promise<void> = async () => {},
  options: { readonly cores?: string } = {},
): Promise<Event[]> {
  const [program, programArgs]: [string, string[]] = scenario === "s5"
    ? [Deno.execPath(), ["run", "-q", "-A", "bench/storm.ts", JSON.stringify(params)]]
    : ["node", ["bench/loadgen.mjs", scenario, JSON.stringify(params)]];
  const cores = options.cores ?? "1";
  const [command, args] = cores === "free"
    ? [program, programArgs]
    : pinned(cores, program, programArgs);
  const child = new Deno.Command(command, { args, cwd: ROOT, stdout: "piped", stderr: "inherit" })
    .spawn();
  const events: Event[] = [];
  let pending = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line) as Event;
      events.push(event);
      await onEvent(event);
    }
  }
  const status = await child.status;
  if (!status.success) throw new Error(`loadgen ${scenario} failed (${status.code})`);
  return events;
}

export const median = (values: number[]) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export type Figures = Record<string, number>;

export function medians(runs: Figures[]): Figures {
  const keys = new Set(runs.flatMap((run) => Object.keys(run)));
  return Object.fromEntries(
    [...keys].map((key) => [key, median(runs.map((run) => run[key] ?? NaN))]),
  );
}

export async function machine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const cores = navigator.hardwareConcurrency;
  const memory = /MemTotal:\s+(\d+)/.exec(await Deno.readTextFile("/proc/meminfo").catch(() => ""))
    ?.[1];
  const kernel = decoder.decode((await new Deno.Command("uname", { args: ["-r"] }).output()).stdout)
    .trim();
  const redis = decoder.decode(
    (await new Deno.Command("redis-server", { args: ["--version"] }).output()).stdout,
  )
    .match(/v=(\S+)/)?.[1];
  return `${model}, ${cores} cores, ${
    Math.round(Number(memory) / 1048576)
  } GiB RAM, Linux ${kernel}, ` +
    `Deno ${Deno.version.deno}, Redis ${redis}; ${
      hasTaskset
        ? `targets pinned to core 0, load generator to core 1, Redis to core ${REDIS_CORE} (taskset)`
        : "no taskset: processes not pinned"
    }`;
}
