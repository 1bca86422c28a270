// The folders are the architecture: these checks keep it so as the code grows.
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../support/cli.ts";

/** Every TypeScript module under lib/, relative to the project root. */
async function libModules(directory = "lib"): Promise<string[]> {
  const modules: string[] = [];
  for await (const entry of Deno.readDir(`${PROJECT_ROOT}${directory}`)) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory) modules.push(...await libModules(path));
    else if (path.endsWith(".ts")) modules.push(path);
  }
  return modules.sort();
}

Deno.test("no module of lib/ is over 300 lines", async () => {
  for (const module of await libModules()) {
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
