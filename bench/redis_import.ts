/**
 * `npm:redis` against `npm:@redis/client`, the one package of it the gateway uses: the module
 * graph each import pulls in (modules, bytes) and the start-up time of a process that imports
 * `createClient` and exits, alternating the two so the machine's drift touches both alike.
 * Prints a Markdown table with the ratios (@redis/client over redis).
 *
 * Run: `deno run -A bench/redis_import.ts [runs]` (default 21 runs of each).
 *
 * @module
 */

import { ROOT } from "./harness.ts";

const decoder = new TextDecoder();
const runs = Number(Deno.args[0] ?? 21);

const VARIANTS = {
  redis: "npm:redis@6.3.1",
  "@redis/client": "npm:@redis/client@6.3.1",
} as const;
type Variant = keyof typeof VARIANTS;

const directory = await Deno.makeTempDir({ prefix: "tvs-redis-import-" });

/** A probe that imports `createClient` from `specifier`, makes a client, and exits. */
async function probe(variant: Variant): Promise<string> {
  const path = `${directory}/${variant.replace("/", "_")}.ts`;
  await Deno.writeTextFile(
    path,
    `import { createClient } from "${VARIANTS[variant]}";\n` +
      `createClient({ url: "redis://127.0.0.1:1" });\n`,
  );
  return path;
}

/** Modules and bytes of `path`'s module graph, npm packages included. */
async function graph(path: string): Promise<{ modules: number; bytes: number; packages: number }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--no-lock", path],
    cwd: directory,
  }).output();
  const info = JSON.parse(decoder.decode(output.stdout));
  const modules: { size?: number }[] = info.modules ?? [];
  const npm: Record<string, { name: string; version: string }> = info.npmPackages ?? {};
  let bytes = modules.reduce((sum, module) => sum + (module.size ?? 0), 0);
  // deno info lists npm packages, not their files: count the files their folders hold.
  let files = 0;
  for (const { name, version } of Object.values(npm)) {
    for await (const file of walk(`${npmCache()}/${name}/${version}`)) {
      if (/\.(c|m)?js$/.test(file.path)) {
        files++;
        bytes += file.size;
      }
    }
  }
  return { modules: modules.length + files, bytes, packages: Object.keys(npm).length };
}

function npmCache(): string {
  const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  return `${denoDir}/npm/registry.npmjs.org`;
}

async function* walk(path: string): AsyncGenerator<{ path: string; size: number }> {
  for await (const entry of Deno.readDir(path)) {
    const full = `${path}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "node_modules") yield* walk(full);
    else if (entry.isFile) yield { path: full, size: (await Deno.stat(full)).size };
  }
}

/** Milliseconds from spawning `deno run path` to its exit. */
async function startUp(path: string): Promise<number> {
  const started = performance.now();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", "--no-lock", path],
    cwd: directory,
  }).output();
  if (code !== 0) throw new Error(decoder.decode(stderr));
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const paths = { redis: await probe("redis"), "@redis/client": await probe("@redis/client") };
// One run of each first, off the books: it fills the cache.
for (const path of Object.values(paths)) await startUp(path);
const times: Record<Variant, number[]> = { redis: [], "@redis/client": [] };
for (let i = 0; i < runs; i++) {
  for (
    const variant of i % 2 === 0
      ? ["redis", "@redis/client"] as const
      : ["@redis/client", "redis"] as const
  ) {
    times[variant].push(await startUp(paths[variant]));
  }
}
const graphs = {
  redis: await graph(paths.redis),
  "@redis/client": await graph(paths["@redis/client"]),
};
await Deno.remove(directory, { recursive: true });

const ratio = (key: "modules" | "bytes" | "packages") =>
  (graphs["@redis/client"][key] / graphs.redis[key]).toFixed(2);
const startRatio = (median(times["@redis/client"]) / median(times.redis)).toFixed(2);
console.log(`Runs: ${runs} of each, alternating; ${new Date().toISOString()}; ${ROOT}\n`);
console.log("| import | npm packages | modules and files | bytes | start-up, median ms |");
console.log("| --- | --- | --- | --- | --- |");
for (const variant of ["redis", "@redis/client"] as const) {
  const { packages, modules, bytes } = graphs[variant];
  console.log(
    `| \`${VARIANTS[variant]}\` | ${packages} | ${modules} | ${bytes} | ${
      median(times[variant]).toFixed(1)
    } |`,
  );
}
console.log(
  `| ratio | ${ratio("packages")}× | ${ratio("modules")}× | ${ratio("bytes")}× | ${startRatio}× |`,
);
