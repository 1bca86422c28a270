import assert from "node:assert/strict";
import { parseCommandLine, UsageError } from "../lib/ops/cli.ts";

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

Deno.test("--help lists every setting; --version prints the version", async () => {
  const { runCli } = await import("./support/cli.ts");
  const { CONFIG_VARIABLES } = await import("../lib/ops/config.ts");
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  for (const variable of CONFIG_VARIABLES) {
    assert.ok(help.stdout.includes(`--${variable.toLowerCase().replaceAll("_", "-")}`), variable);
  }
  const version = await runCli(["--version"]);
  assert.match(version.stdout.trim(), /^tvs-realtime \d+\.\d+\.\d+$/);
});

Deno.test("check-config prints the effective configuration, secrets masked, or every error, exit 78", async () => {
  const { runCli } = await import("./support/cli.ts");
  const good = await runCli(["check-config", "--port", "9999"], {
    REDIS_URL: "redis://user:hunter2hunter2@127.0.0.1:6380",
    PUBLISH_TOKEN: "0123456789abcdef0123",
  });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^PORT=9999$/m);
  assert.match(good.stdout, /^REDIS_URL=redis:\/\/user:\*\*\*@127\.0\.0\.1:6380$/m);
  assert.match(good.stdout, /^PUBLISH_TOKEN=\*\*\*$/m);
  assert.ok(!good.stdout.includes("hunter2") && !good.stdout.includes("0123456789abcdef0123"));
  const bad = await runCli(["check-config", "--trusted-proxies", "proxy"], {
    MAX_CONNECTIONS: "lots",
  });
  assert.equal(bad.code, 78);
  assert.deepEqual(bad.stderr.trim().split("\n"), [
    'tvs-realtime: invalid configuration: MAX_CONNECTIONS: Expected an integer from 1 to 1000000, got "lots"',
    'tvs-realtime: invalid configuration: TRUSTED_PROXIES: Expected addresses and CIDR ranges: "proxy" is not an IP address or CIDR range (10.0.0.0/8, ::1)',
  ]);
  const bare = await runCli(["check-config", "--publish-insecure-loopback", "--port", "9000"]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.match(bare.stdout, /^PUBLISH_INSECURE_LOOPBACK=true$/m);
  assert.match(bare.stdout, /^PORT=9000$/m);
  const typo = await runCli(["--max-conections", "5"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Unknown flag --max-conections\. Did you mean --max-connections\?/);
});
