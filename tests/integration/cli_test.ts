import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../../lib/config/config.ts";
import { runCli } from "../support/cli.ts";

Deno.test("--help lists every setting; --version prints the version", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  for (const variable of CONFIG_VARIABLES) {
    assert.ok(help.stdout.includes(`--${variable.toLowerCase().replaceAll("_", "-")}`), variable);
  }
  const version = await runCli(["--version"]);
  assert.match(version.stdout.trim(), /^tvs-realtime \d+\.\d+\.\d+$/);
});

Deno.test("check-config prints the effective configuration as an env file, secrets left out, or every error, exit 78", async () => {
  const good = await runCli(["check-config", "--port", "9999"], {
    REDIS_URL: "redis://user:hunter2hunter2@127.0.0.1:6380",
    PUBLISH_TOKEN: "0123456789abcdef0123",
  });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^PORT=9999$/m);
  assert.match(good.stdout, /^# REDIS_URL=redis:\/\/user:\*\*\*@127\.0\.0\.1:6380 \(its password/m);
  assert.match(good.stdout, /^# PUBLISH_TOKEN is set \(not shown\)/m);
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

Deno.test("check-config accepts a trusted range that covers the Internet, and warns of it", async () => {
  const result = await runCli(["check-config"], { TRUSTED_PROXIES: "0.0.0.0/0,::/0" });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^TRUSTED_PROXIES=0\.0\.0\.0\/0,::\/0$/m);
  assert.match(
    result.stderr.trim(),
    /^tvs-realtime: warning: TRUSTED_PROXIES: 0\.0\.0\.0\/0, ::\/0 covers the Internet: /,
  );
  const token = await runCli(["check-config"], { PUBLISH_TOKEN: "0123456789abcdef0123\t" });
  assert.equal(token.code, 78);
  assert.match(token.stderr, /PUBLISH_TOKEN: Contains whitespace/);
});
