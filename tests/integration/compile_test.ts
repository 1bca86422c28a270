import assert from "node:assert/strict";
import { baseEnv, PROJECT_ROOT } from "../support/cli.ts";
import { freePort, waitFor } from "../support/wait.ts";

const decoder = new TextDecoder();

/** Where the served files are: the pages, and the client library. */
const SERVED_DIRECTORIES = ["static", "lib/client"];
/** The client package's files for npm, not served. */
const PACKAGE_FILES = new Set(["package.json", "README.md", "LICENSE"]);

/** The files the gateway serves, relative to the project root. */
async function servedFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const directory of SERVED_DIRECTORIES) {
    for await (const entry of Deno.readDir(`${PROJECT_ROOT}${directory}`)) {
      if (entry.isFile && !PACKAGE_FILES.has(entry.name)) files.push(`${directory}/${entry.name}`);
    }
  }
  return files.sort();
}

Deno.test("every served file is in main.ts's module graph, so a binary embeds it", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: PROJECT_ROOT,
  }).output();
  assert.equal(output.code, 0, decoder.decode(output.stderr));
  const graph = JSON.parse(decoder.decode(output.stdout));
  const specifiers = new Set<string>(
    graph.modules.map((module: { specifier: string }) => module.specifier),
  );
  const files = await servedFiles();
  assert.ok(files.length >= 3);
  for (const file of files) {
    assert.ok(specifiers.has(new URL(file, `file://${PROJECT_ROOT}`).href), file);
  }
});

/** Why `deno compile` cannot run here, or `null` when it can. */
async function compileUnavailable(): Promise<string | null> {
  if (Deno.env.get("DENORT_BIN")) return null;
  try {
    const lookup = Deno.resolveDns("dl.deno.land", "A");
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("timeout")), 3000)
    );
    await Promise.race([lookup, timeout]);
    return null;
  } catch (error) {
    return `deno compile downloads its runtime from dl.deno.land, which is unreachable here ` +
      `(${(error as Error).message}); set DENORT_BIN to a local denort to run it`;
  }
}

const unavailable = await compileUnavailable();
if (unavailable !== null) console.log(`compile-and-smoke test skipped: ${unavailable}`);

Deno.test({
  name: "deno task compile builds one binary that serves the same bytes under the same permissions",
  ignore: unavailable !== null,
  async fn() {
    const compile = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: PROJECT_ROOT,
    }).output();
    assert.equal(compile.code, 0, decoder.decode(compile.stderr));
    const binary = `${PROJECT_ROOT}dist/tvs-realtime`;
    const version = await new Deno.Command(binary, { args: ["--version"] }).output();
    assert.match(decoder.decode(version.stdout), /^tvs-realtime \d+\.\d+\.\d+/);
    // The configuration is checked as under deno run: a retired setting stops it with 78.
    const retired = await new Deno.Command(binary, {
      args: ["check-config"],
      env: { TRUST_PROXY: "true" },
      clearEnv: true,
    }).output();
    assert.equal(retired.code, 78, decoder.decode(retired.stderr));
    const port = await freePort();
    const server = new Deno.Command(binary, {
      // Two workers: the binary must carry the worker module and what it imports.
      env: { ...baseEnv(), PORT: String(port), HOST: "127.0.0.1", WORKERS: "2" },
      clearEnv: true,
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true,
        {
          timeoutMs: 10_000,
          what: "compiled gateway",
        },
      );
      const pages = [["/", "static/index.html"], ["/tvs-client.js", "lib/client/tvs-client.js"]];
      for (const [path, file] of pages) {
        const served = new Uint8Array(
          await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer(),
        );
        assert.deepEqual(served, await Deno.readFile(`${PROJECT_ROOT}${file}`), path);
      }
    } finally {
      server.kill("SIGTERM");
      await server.status;
    }
  },
});
