import assert from "node:assert/strict";
import { parseCommandLine, UsageError } from "../../../lib/cli/cli.ts";

Deno.test("no command means serve; setting flags override by variable name", () => {
  assert.deepEqual(parseCommandLine([]), { kind: "serve", overrides: {} });
  assert.deepEqual(parseCommandLine(["--port", "9000", "--redis-url=redis://r:6379"]), {
    kind: "serve",
    overrides: { PORT: "9000", REDIS_URL: "redis://r:6379" },
  });
  assert.deepEqual(parseCommandLine(["check-config", "--log-level", "debug"]), {
    kind: "check-config",
    overrides: { LOG_LEVEL: "debug" },
  });
});

Deno.test("yes/no flags work bare and with a value; no flag takes the next flag as its value", () => {
  assert.deepEqual(
    parseCommandLine(["check-config", "--publish-insecure-loopback", "--port", "9000"]),
    {
      kind: "check-config",
      overrides: { PUBLISH_INSECURE_LOOPBACK: "true", PORT: "9000" },
    },
  );
  assert.deepEqual(parseCommandLine(["--publish-insecure-loopback=false"]).kind, "serve");
  assert.deepEqual(parseCommandLine(["--publish-insecure-loopback", "no", "--port=1"]), {
    kind: "serve",
    overrides: { PUBLISH_INSECURE_LOOPBACK: "no", PORT: "1" },
  });
  assert.deepEqual(parseCommandLine(["demo", "--publish-insecure-loopback"]), {
    kind: "demo",
    overrides: { PUBLISH_INSECURE_LOOPBACK: "true" },
  });
  assert.throws(() => parseCommandLine(["--port", "--log-level", "debug"]), /--port needs a value/);
});

Deno.test("help and version win over anything else", () => {
  assert.deepEqual(parseCommandLine(["serve", "--bogus", "--help"]), { kind: "help" });
  assert.deepEqual(parseCommandLine(["-V"]), { kind: "version" });
});

Deno.test("publish reads its flags, after an optional --", () => {
  const command = parseCommandLine([
    "publish",
    "--",
    "--region",
    "AE",
    "--video-id",
    "v1",
    "--title=مرحبا",
    "--gateway",
    "http://127.0.0.1:8765",
  ]);
  assert.deepEqual(command, {
    kind: "publish",
    overrides: {},
    request: { region: "AE", videoId: "v1", title: "مرحبا", gateway: "http://127.0.0.1:8765" },
  });
});

Deno.test("mistakes are usage errors with a hint", () => {
  const cases: [string[], RegExp][] = [
    [["--prot", "1"], /Unknown flag --prot\. Did you mean --port\?/],
    [["srve"], /Unknown command "srve"\. Did you mean serve\?/],
    [["--port"], /--port needs a value/],
    [["serve", "extra"], /Unexpected argument "extra"/],
    [["publish", "--region", "AE"], /needs --region, --video-id and --title/],
    [["serve", "--title", "x"], /Unknown flag --title/],
    [["--zzzzzzzz", "1"], /^Unknown flag --zzzzzzzz\. See --help\.$/],
    [["--trust-proxy"], /^Flag --trust-proxy: Replaced by TRUSTED_PROXIES/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseCommandLine(args), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("status and tail take the gateway to ask; tail needs its region", () => {
  assert.deepEqual(parseCommandLine(["status"]), { kind: "status", overrides: {} });
  assert.deepEqual(
    parseCommandLine(["status", "--gateway", "http://10.0.0.7:8765", "--port", "1"]),
    {
      kind: "status",
      overrides: { PORT: "1" },
      gateway: "http://10.0.0.7:8765",
    },
  );
  assert.deepEqual(parseCommandLine(["tail", "--region", "AE"]), {
    kind: "tail",
    overrides: {},
    region: "AE",
  });
  assert.throws(() => parseCommandLine(["tail"]), /tail needs --region/);
  assert.throws(() => parseCommandLine(["status", "--region", "AE"]), /Unknown flag --region/);
  assert.throws(() => parseCommandLine(["serve", "--gateway", "x"]), /Unknown flag --gateway/);
});
