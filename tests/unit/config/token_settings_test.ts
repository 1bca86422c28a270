// The settings of connection and publish tokens: what cannot work is refused at start-up, one
// line each, naming the variable and never a token.
import assert from "node:assert/strict";
import { ConfigErrors, loadConfig } from "../../../lib/config/config.ts";
import { parsePublishTokens } from "../../../lib/config/publish_tokens.ts";

const SECRET = "a-connect-token-secret-of-32-bytes!!";

function errorsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env: (name) => env[name] });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigErrors);
    return error.errors.map((problem) => problem.message);
  }
}

Deno.test("connection-token settings that cannot work are refused, one line each", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ CONNECT_TOKEN: "maybe" }, /^CONNECT_TOKEN: Expected off, optional, required/],
    [{ CONNECT_TOKEN: "required" }, /^CONNECT_TOKEN: Needs CONNECT_TOKEN_SECRET or .*JWKS_URL/],
    [{ CONNECT_TOKEN_SECRET: "short" }, /^CONNECT_TOKEN_SECRET: Expected at least 32 bytes/],
    [
      { CONNECT_TOKEN_SECRET: SECRET, CONNECT_TOKEN_PREVIOUS_SECRET: SECRET + "x" },
      /^CONNECT_TOKEN_PREVIOUS_UNTIL: Needed with CONNECT_TOKEN_PREVIOUS_SECRET/,
    ],
    [{ CONNECT_TOKEN_PREVIOUS_UNTIL: "tomorrow" }, /date and time with its zone/],
    [{ CONNECT_TOKEN_JWKS_URL: "http://keys.example/jwks" }, /https: URL/],
    [{ CONNECT_TOKEN_LEEWAY_SECONDS: "120" }, /integer from 0 to 30/],
  ];
  for (const [env, message] of cases) {
    const errors = errorsOf(env);
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0]!, message);
  }
  assert.deepEqual(errorsOf({ CONNECT_TOKEN: "required", CONNECT_TOKEN_SECRET: SECRET }), []);
  assert.deepEqual(
    errorsOf({ CONNECT_TOKEN: "optional", CONNECT_TOKEN_JWKS_URL: "http://127.0.0.1:9/jwks" }),
    [],
  );
});

Deno.test("a publish tokens file is read line by line: names, tokens, regions; a bad line is named by its number", () => {
  const producers = parsePublishTokens(
    "# name:token[:regions]\ncron:cron-token-0123456789\n\n  nordic:nordic-token-0123456789:dk,FI\n",
  );
  assert.deepEqual(producers, [
    { name: "cron", token: "cron-token-0123456789", regions: null },
    { name: "nordic", token: "nordic-token-0123456789", regions: ["DK", "FI"] },
  ]);
  const bad: [string, RegExp][] = [
    ["cron:short", /^line 1: the token of cron: Expected at least 16/],
    ["ok:ok-token-0123456789\nCron Job:x-token-0123456789", /^line 2: a name is/],
    ["a:a-token-0123456789\na:b-token-0123456789", /^line 2: a is named twice/],
    ["a:same-token-0123456789\nb:same-token-0123456789", /^line 2: b has the token of another/],
    ["a:a-token-0123456789:A!", /^line 1: the regions of a/],
    ["a:a-token-0123456789:AE:x", /^line 1: expected name:token/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parsePublishTokens(text), (error: Error) => {
      assert.match(error.message, message);
      assert.ok(!error.message.includes("-token-"), "no token in the message");
      return true;
    });
  }
});

Deno.test("publish settings that cannot work together are refused at start-up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tvs-tokens-" });
  const file = `${dir}/tokens`;
  await Deno.writeTextFile(file, "default:file-token-0123456789:ZZ\n");
  const errors = errorsOf({
    PUBLISH_TOKENS_FILE: file,
    PUBLISH_TOKEN: "single-token-0123456789",
    STATUS_TOKEN: "single-token-0123456789",
  });
  assert.equal(errors.length, 3, errors.join("\n"));
  assert.match(errors[0]!, /^PUBLISH_TOKENS_FILE: default names ZZ, not in REGIONS/);
  assert.match(errors[1]!, /^PUBLISH_TOKENS_FILE: "default" is PUBLISH_TOKEN's name/);
  assert.match(errors[2]!, /^STATUS_TOKEN: Is also a publish token/);
  assert.match(errorsOf({ PUBLISH_TOKENS_FILE: `${dir}/missing` })[0]!, /cannot read .*missing/);
  await Deno.remove(dir, { recursive: true });
});
