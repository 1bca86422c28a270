import assert from "node:assert/strict";
import {
  ConfigErrors,
  configWarnings,
  describeConfig,
  loadConfig,
} from "../../../lib/config/config.ts";
import { maskRedisUrl } from "../../../lib/brokers/redis_target.ts";

const fromEnv = (env: Record<string, string>, overrides?: Record<string, string>) =>
  loadConfig({ env: (name) => env[name], ...(overrides ? { overrides } : {}) });

Deno.test("config defaults run the embedded broker on 0.0.0.0:8765 for the eight regions", () => {
  const config = fromEnv({});
  assert.equal(config.port, 8765);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.redisUrl, null);
  assert.deepEqual(config.regions, ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"]);
  assert.equal(config.defaultRegion, "US");
  assert.equal(config.channelPrefix, "tvs:");
  assert.equal(config.publishToken, null);
  assert.equal(config.publishInsecureLoopback, false, "HTTP publishing is off by default");
  assert.equal(config.logLevel, "info");
});

Deno.test("config reads regions case-insensitively and flags override the environment", () => {
  const config = fromEnv({ REGIONS: " ae, fi ", DEFAULT_REGION: "fi", PORT: "1" }, {
    PORT: "9000",
  });
  assert.deepEqual(config.regions, ["AE", "FI"]);
  assert.equal(config.defaultRegion, "FI");
  assert.equal(config.port, 9000);
});

Deno.test("a bad value is one error naming the variable and what is allowed", () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PORT: "http" }, "PORT", /integer from 0 to 65535, got "http"/],
    [{ PORT: "70000" }, "PORT", /integer from 0 to 65535/],
    [
      { REDIS_URL: "http://x" },
      "REDIS_URL",
      /redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/, redis\+cluster:\/\//,
    ],
    [{ REDIS_URL: "redis+sentinel://10.0.0.5:26379" }, "REDIS_URL", /names the master/],
    [{ REDIS_URL: "redis+sentinel://10.0.0.5:x/tvs" }, "REDIS_URL", /HOST:PORT, got "10.0.0.5:x"/],
    [{ REGIONS: "AE,,A!" }, "REGIONS", /Invalid region code "A!"/],
    [{ REGIONS: "AE,AE" }, "REGIONS", /repeat/],
    [{ DEFAULT_REGION: "ZZ" }, "DEFAULT_REGION", /not one of REGIONS/],
    [{ DEFAULT_REGION: "AE,FI" }, "DEFAULT_REGION", /one region code/],
    [{ CHANNEL_PREFIX: "tvs *" }, "CHANNEL_PREFIX", /glob/],
    [{ PUBLISH_TOKEN: "short" }, "PUBLISH_TOKEN", /at least 16/],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL", /one of debug, info, warn, error/],
    [{ HOST: "not a host!" }, "HOST", /IP address or host name/],
    [{ HOST: "999.1.1.1" }, "HOST", /not an IPv4 address/],
    [{ PUBLISH_TOKEN: "0123456789abcdef0123 " }, "PUBLISH_TOKEN", /whitespace/],
    [{ PUBLISH_TOKEN: "0123456789\nabcdef0123" }, "PUBLISH_TOKEN", /whitespace/],
    [{ PUBLISH_TOKEN: "0123456789abcdéf0123" }, "PUBLISH_TOKEN", /visible ASCII/],
    [{ ALLOWED_ORIGINS: "https://ex*.com" }, "ALLOWED_ORIGINS", /only wildcard/],
    [{ MAX_RSS_BYTES: "100000000" }, "MAX_RSS_BYTES", /less than the other settings need/],
    [{ MAX_RSS_BYTES: "lots" }, "MAX_RSS_BYTES", /integer from/],
    [{ IPV6_PREFIX_LENGTH: "16" }, "IPV6_PREFIX_LENGTH", /integer from 32 to 128/],
    [{ TRUSTED_PROXIES: "10.0.0.0/33" }, "TRUSTED_PROXIES", /"10\.0\.0\.0\/33" is not an IP/],
    [{ TRUSTED_PROXIES: "proxy.internal" }, "TRUSTED_PROXIES", /not an IP address or CIDR/],
    [{ PUBLISH_INSECURE_LOOPBACK: "maybe" }, "PUBLISH_INSECURE_LOOPBACK", /true or false/],
  ];
  for (const [env, variable, message] of cases) {
    assert.throws(() => fromEnv(env), (error: unknown) => {
      assert.ok(error instanceof ConfigErrors);
      assert.equal(error.errors.length, 1, error.message);
      const [problem] = error.errors;
      assert.equal(problem?.variable, variable);
      assert.match(problem.message, new RegExp(`^${variable}: `));
      assert.match(problem.message, message);
      return true;
    });
  }
});

Deno.test("every invalid setting is reported at once, cross-checks included", () => {
  assert.throws(
    () =>
      fromEnv({
        PORT: "http",
        LOG_LEVEL: "loud",
        MAX_MESSAGE_BYTES: "65536",
        MAX_BUFFERED_BYTES: "65536",
        DEFAULT_REGION: "ZZ",
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigErrors);
      assert.deepEqual(error.errors.map((problem) => problem.variable), [
        "PORT",
        "LOG_LEVEL",
        "MAX_BUFFERED_BYTES",
        "DEFAULT_REGION",
      ]);
      return true;
    },
  );
});

Deno.test("TRUST_PROXY is retired: set, it stops start-up naming TRUSTED_PROXIES", () => {
  assert.throws(() => fromEnv({ TRUST_PROXY: "true" }), (error: unknown) => {
    assert.ok(error instanceof ConfigErrors);
    assert.match(error.errors[0]?.message ?? "", /^TRUST_PROXY: Replaced by TRUSTED_PROXIES/);
    return true;
  });
  assert.equal(fromEnv({ TRUST_PROXY: "false" }).trustedProxies.none, true);
});

Deno.test("trusted proxies take addresses and CIDR ranges, IPv4 and IPv6", () => {
  const { trustedProxies } = fromEnv({
    TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8,2001:db8::/32,::1",
  });
  for (const address of ["127.0.0.1", "::ffff:127.0.0.1", "10.200.3.4", "2001:db8::7", "::1"]) {
    assert.ok(trustedProxies.includes(address), address);
  }
  for (const address of ["127.0.0.2", "11.0.0.1", "2001:db9::1", "::2", "garbage"]) {
    assert.ok(!trustedProxies.includes(address), address);
  }
  assert.equal(fromEnv({}).trustedProxies.none, true, "none by default");
});

Deno.test("an empty REDIS_URL or PUBLISH_TOKEN means unset", () => {
  const config = fromEnv({ REDIS_URL: "", PUBLISH_TOKEN: "" });
  assert.equal(config.redisUrl, null);
  assert.equal(config.publishToken, null);
});

Deno.test("the described configuration masks secrets", () => {
  const env = {
    REDIS_URL: "redis://user:hunter2hunter2@cache.internal:6380/0",
    PUBLISH_TOKEN: "0123456789abcdef0123",
  };
  const lines = describeConfig(fromEnv(env), { env: (name) => Reflect.get(env, name) });
  assert.ok(
    lines.includes("# REDIS_URL=redis://user:***@cache.internal:6380/0 (its password not shown)"),
    lines.join("\n"),
  );
  assert.ok(lines.includes("# PUBLISH_TOKEN is set (not shown); copy it from where it is kept"));
  assert.ok(lines.includes("REGIONS=AE,FI,CZ,DK,BE,GB,CH,US"));
  assert.ok(!lines.join("\n").includes("hunter2"));
  assert.ok(!lines.join("\n").includes("0123456789abcdef0123"));
  assert.equal(maskRedisUrl("redis//user:hunter2@cache"), "redis//user:***@cache");
});

Deno.test("the described configuration is an env file that configures the same gateway", () => {
  const env: Record<string, string> = {
    PORT: "9000",
    ALLOWED_ORIGINS: "https://*.trendvidstream.com",
    WORKERS: "auto",
    MAX_RSS_BYTES: "auto",
    REGIONS: "AE, FI",
    DEFAULT_REGION: "FI",
  };
  const sources = { env: (name: string) => env[name] };
  const lines = describeConfig(fromEnv(env), sources);
  assert.ok(lines.includes("REDIS_URL="), "unset: empty");
  assert.ok(lines.includes('REGIONS="AE, FI"'), "quoted where a reader would cut it");
  assert.ok(lines.some((line) => /^# WORKERS: \d+$/.test(line)), "what auto resolved to");
  const reread: Record<string, string> = {};
  for (const line of lines.filter((line) => !line.startsWith("#"))) {
    const [, name, value] = line.match(/^([A-Z_0-9]+)=(.*)$/) ?? [];
    assert.ok(name !== undefined && value !== undefined, line);
    reread[name] = value.startsWith('"') ? JSON.parse(value) : value;
  }
  assert.deepEqual(
    describeConfig(fromEnv(reread), { env: (name) => reread[name] }),
    lines,
    "read back, it describes itself",
  );
});

Deno.test("a token's error never shows the token", () => {
  assert.throws(() => fromEnv({ PUBLISH_TOKEN: "s3cr3t-s3cr3t-s3cr3t " }), (error: unknown) => {
    assert.ok(error instanceof ConfigErrors);
    assert.ok(!error.message.includes("s3cr3t"), error.message);
    return true;
  });
});

Deno.test("a trusted range that covers the Internet is accepted with a warning; private ones are not warned of", () => {
  const wide = fromEnv({ TRUSTED_PROXIES: "127.0.0.1,0.0.0.0/0,::/0" });
  const warnings = configWarnings(wide);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.variable, "TRUSTED_PROXIES");
  assert.match(warnings[0]!.message, /^0\.0\.0\.0\/0, ::\/0 covers the Internet: any client may/);
  assert.deepEqual(configWarnings(fromEnv({ TRUSTED_PROXIES: "10.0.0.0/8,127.0.0.1,::1" })), []);
});

Deno.test("MAX_RSS_BYTES=auto takes most of the host's memory or of the cgroup's limit", () => {
  const config = fromEnv({});
  assert.ok(config.maxResidentBytes >= 256 * 1_048_576, String(config.maxResidentBytes));
  assert.equal(fromEnv({ MAX_RSS_BYTES: "2147483648" }).maxResidentBytes, 2 ** 31);
});

Deno.test("WORKERS and MAX_RSS_BYTES that are neither a number nor auto say that auto is allowed", () => {
  assert.throws(
    () => fromEnv({ WORKERS: "lots" }),
    /WORKERS: Expected auto or an integer from 1 to 256, got "lots"/,
  );
  assert.throws(
    () => fromEnv({ MAX_RSS_BYTES: "big" }),
    /MAX_RSS_BYTES: Expected auto or an integer/,
  );
});
