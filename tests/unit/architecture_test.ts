// The folders are the architecture: these checks keep it so as the code grows.
//
// The folders of lib/, from the ground up; each imports only from those before it, so no import
// points up and no two folders import each other:
//
//   client    the client library and the close-code table both ends of a socket read
//   contract  the message contract, pure: validation, normalisation, text direction, UTF-8
//   net       addresses, CIDR ranges, origins, trusted proxies: values the configuration parses
//   observe   logs, metrics, the status page's activity, the version
//   brokers   the broker interface, in-memory and Redis
//   config    the settings table, their parsers, the validated configuration
//   streams   each region's stream: content ids, de-duplication, recent frames, catch-up
//   delivery  the fan-out: hub, clients and their budgets, admission, replay, drain
//   gateway   the decisions: publications' way out, handshakes, events, the status report
//   http      the HTTP edge: routes, CORS, publishing over HTTP, the served files
//   process   one running gateway, shutdown, and a process of workers
//   cli       the command line and its commands
//
// then main.ts. static/ is served (imported as text by http/static_assets.ts), never imported.
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../support/cli.ts";

const LAYERS = [
  "client",
  "contract",
  "net",
  "observe",
  "brokers",
  "config",
  "streams",
  "delivery",
  "gateway",
  "http",
  "process",
  "cli",
] as const;

/** Every module under lib/ (TypeScript and the client's JavaScript), relative to the root. */
async function libModules(directory = "lib"): Promise<string[]> {
  const modules: string[] = [];
  for await (const entry of Deno.readDir(`${PROJECT_ROOT}${directory}`)) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory) modules.push(...await libModules(path));
    else if (/\.(ts|js)$/.test(path)) modules.push(path);
  }
  return modules.sort();
}

/** The project files `module` imports, relative to the root. */
async function importsOf(module: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${PROJECT_ROOT}${module}`);
  const base = new URL(module, `file://${PROJECT_ROOT}`);
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((match) =>
    new URL(match[1]!, base).pathname.slice(PROJECT_ROOT.length)
  );
}

/** The layer of a module under lib/. */
function layerOf(module: string): string {
  return module.split("/")[1]!;
}

Deno.test("every folder of lib/ is a layer of the architecture", async () => {
  const folders = new Set((await libModules()).map(layerOf));
  assert.deepEqual([...folders].sort(), [...LAYERS].sort());
});

Deno.test("every import of lib/ points down the layers, and static/ is only served", async () => {
  const wrong: string[] = [];
  for (const module of await libModules()) {
    const from = LAYERS.indexOf(layerOf(module) as typeof LAYERS[number]);
    for (const target of await importsOf(module)) {
      if (target.startsWith("static/")) {
        if (module !== "lib/http/static_assets.ts") wrong.push(`${module} -> ${target}`);
        continue;
      }
      if (!target.startsWith("lib/")) continue;
      const to = LAYERS.indexOf(layerOf(target) as typeof LAYERS[number]);
      if (to > from) wrong.push(`${module} -> ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("no module of lib/ is over 300 lines", async () => {
  for (const module of (await libModules()).filter((path) => path.endsWith(".ts"))) {
    const lines = (await Deno.readTextFile(`${PROJECT_ROOT}${module}`)).split("\n").length - 1;
    assert.ok(lines <= 300, `${module}: ${lines} lines`);
  }
});

Deno.test("the module graph of main.ts has no import cycle", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: PROJECT_ROOT,
  }).output();
  assert.ok(info.success, new TextDecoder().decode(info.stderr));
  const graph: {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
    }[];
  } = JSON.parse(new TextDecoder().decode(info.stdout));
  const edges = new Map(
    graph.modules.filter((module) => module.specifier.startsWith("file:")).map((module) => [
      module.specifier,
      (module.dependencies ?? []).flatMap((dependency) => [dependency.code, dependency.type])
        .flatMap((target) => target?.specifier.startsWith("file:") ? [target.specifier] : []),
    ]),
  );
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (module: string) => {
    const at = path.indexOf(module);
    if (at !== -1) assert.fail(`import cycle: ${path.slice(at).concat(module).join(" -> ")}`);
    if (done.has(module)) return;
    path.push(module);
    for (const target of edges.get(module) ?? []) visit(target);
    path.pop();
    done.add(module);
  };
  for (const module of edges.keys()) visit(module);
  assert.ok(done.size > 40, `${done.size} modules`);
});

Deno.test("only the Redis broker's modules import the redis client", async () => {
  for (const module of await libModules()) {
    const text = await Deno.readTextFile(`${PROJECT_ROOT}${module}`);
    if (/from "@redis\/client"/.test(text)) assert.match(module, /^lib\/brokers\/redis/, module);
  }
});
