/**
 * Summarises a V8 CPU profile (`deno run --cpu-prof`): the functions with the most self time,
 * to find the hot spots of the gateway under a benchmark load.
 *
 * Usage: deno run -R bench/profile_summary.ts <file.cpuprofile> [top=25]
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = Deno.args;
if (file === undefined) {
  console.error("usage: profile_summary.ts <file.cpuprofile> [top]");
  Deno.exit(2);
}
const profile: Profile = JSON.parse(await Deno.readTextFile(file));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) {
  for (const child of node.children ?? []) parent.set(child, node.id);
}

function label(node: ProfileNode): string {
  const frame = node.callFrame;
  const where = frame.url.replace(/^.*\/(lib|ext|node_modules)\//, "$1/");
  return `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
}

const selfTime = new Map<string, number>();
const inclusiveTime = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  const node = byId.get(id);
  if (node === undefined) return;
  total += delta;
  selfTime.set(label(node), (selfTime.get(label(node)) ?? 0) + delta);
  // Every function on the sampled stack, once, is running (inclusively) for this sample.
  const seen = new Set<string>();
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const key = label(byId.get(current)!);
    if (!seen.has(key)) inclusiveTime.set(key, (inclusiveTime.get(key) ?? 0) + delta);
    seen.add(key);
  }
});

const count = Number(topArg ?? 25);
const print = (title: string, times: Map<string, number>) => {
  console.log(`${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  const rows = [...times].filter(([key]) => !key.startsWith("(")).sort((a, b) => b[1] - a[1]);
  for (const [key, micros] of rows.slice(0, count)) {
    console.log(
      `${((micros / total) * 100).toFixed(1).padStart(5)} %  ${
        (micros / 1000).toFixed(1).padStart(8)
      } ms  ${key}`,
    );
  }
};
print("self time", selfTime);
print("inclusive time", inclusiveTime);
