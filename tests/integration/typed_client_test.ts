// The client library's types, as an integrator on the main site meets them: imported from the
// repository, by URL from a running gateway, or installed with npm; wrong use refused; documented.
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../support/cli.ts";
import { startTestGateway } from "../support/gateway.ts";

const FIXTURES = `${PROJECT_ROOT}tests/fixtures/typed_client/`;
const decoder = new TextDecoder();

/** Runs `deno args` in `cwd` without colours; resolves with its exit code and all it printed. */
async function deno(args: string[], cwd = PROJECT_ROOT): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
  }).output();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** A temporary directory, removed on dispose. */
async function temporaryDirectory(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "tvs-typed-client-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("a TypeScript consumer type-checks against the client's declarations", async () => {
  const { code, output } = await deno(["check", `${FIXTURES}consumer.ts`]);
  assert.equal(code, 0, output);
});

Deno.test("wrong use of the client fails to type-check, at each wrong line", async () => {
  const { code, output } = await deno(["check", `${FIXTURES}misuse.ts`]);
  assert.notEqual(code, 0);
  const lines = [...output.matchAll(/misuse\.ts:(\d+):\d+/g)].map((match) => Number(match[1]));
  assert.deepEqual([...new Set(lines)], [6, 8, 10, 14, 16, 20, 23, 25, 27], output);
});

Deno.test("deno doc renders the declarations, every export documented", async () => {
  const lint = await deno(["doc", "--lint", "lib/client/tvs-client.d.ts"]);
  assert.equal(lint.code, 0, lint.output);
  const json = await deno(["doc", "--json", "lib/client/tvs-client.d.ts"]);
  const [file] = Object.values(JSON.parse(json.output).nodes) as {
    symbols: { name: string }[];
  }[];
  assert.deepEqual(file!.symbols.map((symbol) => symbol.name).sort(), [
    "FALLBACK_AFTER",
    "GatewayMessage",
    "RecoveryDetail",
    "Status",
    "StatusDetail",
    "Transport",
    "TrendingMessage",
    "TvsClient",
    "TvsClientEventMap",
    "TvsClientOptions",
  ]);
});

Deno.test("a consumer importing the library by URL from a gateway gets its types", async () => {
  await using gateway = await startTestGateway();
  const script = await fetch(`${gateway.http}/tvs-client.js`);
  await script.body?.cancel();
  assert.equal(script.headers.get("x-typescript-types"), "/tvs-client.d.ts");
  const types = await fetch(`${gateway.http}/tvs-client.d.ts`);
  assert.equal(
    await types.text(),
    await Deno.readTextFile(`${PROJECT_ROOT}lib/client/tvs-client.d.ts`),
  );
  await using directory = await temporaryDirectory();
  const consumer = (await Deno.readTextFile(`${FIXTURES}consumer.ts`))
    .replace("../../../lib/client/tvs-client.js", `${gateway.http}/tvs-client.js`);
  await Deno.writeTextFile(`${directory.path}/consumer.ts`, consumer);
  await Deno.writeTextFile(
    `${directory.path}/misuse.ts`,
    `
import { TvsClient } from "${gateway.http}/tvs-client.js";
new TvsClient({ regions: "AE" });
`,
  );
  const host = new URL(gateway.http).host;
  const options = ["--no-lock", `--allow-import=${host}`, "--reload"];
  const good = await deno(["check", ...options, "consumer.ts"], directory.path);
  assert.equal(good.code, 0, good.output);
  const bad = await deno(["check", ...options, "misuse.ts"], directory.path);
  assert.match(bad.output, /TS2322.*'string' is not assignable to type 'readonly string\[\]'/s);
});

Deno.test("the client installs with npm from its package, with its types, README and MIT licence", async () => {
  const metadata = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}lib/client/package.json`));
  const denoJson = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}deno.json`));
  assert.equal(metadata.version, denoJson.version, "the client's version is the gateway's");
  assert.equal(metadata.license, "MIT");
  assert.equal(metadata.private, undefined, "publishable");
  assert.equal(
    await Deno.readTextFile(`${PROJECT_ROOT}lib/client/LICENSE`),
    await Deno.readTextFile(`${PROJECT_ROOT}LICENSE`),
    "the package's licence is the repository's",
  );
  assert.match(await Deno.readTextFile(`${PROJECT_ROOT}LICENSE`), /^MIT License\n/);
  await using directory = await temporaryDirectory();
  const npm = (args: string[], cwd: string) =>
    new Deno.Command("npm", { args, cwd, env: { NO_COLOR: "1" } }).output();
  const packed = await npm(
    ["pack", "--json", "--pack-destination", directory.path],
    `${PROJECT_ROOT}lib/client`,
  );
  assert.equal(packed.code, 0, decoder.decode(packed.stderr));
  const [tarball] = JSON.parse(decoder.decode(packed.stdout));
  assert.deepEqual(
    tarball.files.map((file: { path: string }) => file.path).sort(),
    ["LICENSE", "README.md", "close_codes.js", "package.json", "tvs-client.d.ts", "tvs-client.js"],
  );
  const site = `${directory.path}/site`;
  await Deno.mkdir(site);
  await Deno.writeTextFile(`${site}/package.json`, JSON.stringify({ name: "site", private: true }));
  const installed = await npm(
    ["install", "--no-audit", "--no-fund", "--offline", `${directory.path}/${tarball.filename}`],
    site,
  );
  assert.equal(installed.code, 0, decoder.decode(installed.stderr));
  const consumer = (await Deno.readTextFile(`${FIXTURES}consumer.ts`))
    .replace("../../../lib/client/tvs-client.js", "@trendvidstream/tvs-client");
  await Deno.writeTextFile(`${site}/consumer.ts`, consumer);
  const checked = await deno(["check", "--no-lock", "consumer.ts"], site);
  assert.equal(checked.code, 0, checked.output);
});
