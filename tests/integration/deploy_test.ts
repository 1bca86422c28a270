import assert from "node:assert/strict";
import { CONFIG_VARIABLES, loadConfig } from "../../lib/config/config.ts";
import { PROJECT_ROOT, runCli } from "../support/cli.ts";

const unit = await Deno.readTextFile(`${PROJECT_ROOT}deploy/tvs-realtime.service`);
const directives = new Map<string, string[]>();
for (const line of unit.split("\n")) {
  const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
  if (match) directives.set(match[1]!, [...(directives.get(match[1]!) ?? []), match[2]!]);
}
const value = (name: string) => directives.get(name)?.at(-1);

Deno.test("the systemd unit is hardened as operators expect", () => {
  const expected: Record<string, string> = {
    DynamicUser: "yes",
    NoNewPrivileges: "yes",
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
    // Loopback only unless a drop-in names more: the deployment says where Redis is.
    IPAddressDeny: "any",
    IPAddressAllow: "localhost",
    CapabilityBoundingSet: "",
    EnvironmentFile: "-/etc/tvs-realtime/env",
    Restart: "on-failure",
    RestartPreventExitStatus: "78",
    KillSignal: "SIGTERM",
  };
  for (const [name, wanted] of Object.entries(expected)) assert.equal(value(name), wanted, name);
  const defaults = loadConfig({ env: () => undefined });
  assert.ok(Number(value("LimitNOFILE")) >= defaults.maxConnections + 1024, "LimitNOFILE");
  // Drain window, 5 s for close handshakes, 2 s for the server, and a margin.
  assert.ok(Number(value("TimeoutStopSec")) > defaults.drainSeconds + 7, "TimeoutStopSec");
  assert.match(value("ExecStart") ?? "", /^\/usr\/local\/bin\/tvs-realtime serve$/);
  assert.equal(value("ExecReload"), "/bin/kill -HUP $MAINPID", "systemctl reload is SIGHUP");
  assert.ok(!directives.has("MemoryDenyWriteExecute"), "V8 needs writable code pages");
});

Deno.test("the example environment keeps MAX_RSS_BYTES under the unit's MemoryMax=, with room", async () => {
  const memoryMax = /^(\d+)G$/.exec(value("MemoryMax") ?? "");
  assert.ok(memoryMax !== null, "MemoryMax= in whole GiB");
  const limit = Number(memoryMax[1]) * 1024 ** 3;
  const env = await Deno.readTextFile(`${PROJECT_ROOT}deploy/env.example`);
  const bound = Number(/^MAX_RSS_BYTES=(\d+)$/m.exec(env)?.[1]);
  assert.ok(bound > 0.7 * limit && bound <= 0.85 * limit, `${bound} of ${limit}`);
});

Deno.test("systemd-analyze verifies the unit with its Redis drop-in, exposure at most 2.0", async () => {
  let analyze: string | undefined;
  for (const candidate of ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]) {
    if (await Deno.stat(candidate).then(() => true, () => false)) analyze = candidate;
  }
  assert.ok(analyze !== undefined, "systemd-analyze is missing: .ci/run installs systemd");
  // verify insists the binary exists; check a copy that runs /bin/true with the same arguments.
  const directory = await Deno.makeTempDir();
  try {
    const copy = `${directory}/tvs-realtime.service`;
    // verify reads drop-ins from systemd's own directories only: check the unit with the drop-in
    // appended, which is what systemd merges.
    const dropIn = await Deno.readTextFile(
      `${PROJECT_ROOT}deploy/tvs-realtime.service.d/redis.conf`,
    );
    await Deno.writeTextFile(
      copy,
      unit.replace("ExecStart=/usr/local/bin/tvs-realtime", "ExecStart=/bin/true") + dropIn,
    );
    const verify = await new Deno.Command(analyze, { args: ["verify", copy] }).output();
    const complaints = new TextDecoder().decode(verify.stderr).trim();
    assert.equal(verify.code, 0, complaints);
    assert.equal(complaints, "");
    const security = await new Deno.Command(analyze, { args: ["security", "--offline=yes", copy] })
      .output();
    const exposure = /Overall exposure level for \S+: ([\d.]+)/.exec(
      new TextDecoder().decode(security.stdout),
    );
    console.log(`systemd-analyze security: exposure ${exposure?.[1]}`);
    assert.ok(exposure !== null && Number(exposure[1]) <= 2.0, `exposure ${exposure?.[1]}`);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("the example environment file names only real settings and passes check-config", async () => {
  const text = await Deno.readTextFile(`${PROJECT_ROOT}deploy/env.example`);
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  for (const name of Object.keys(env)) assert.ok(CONFIG_VARIABLES.includes(name), name);
  const result = await runCli(["check-config"], env);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^ALLOWED_ORIGINS=https:\/\/trendvidstream.com,https:\/\/www.trendvidstream.com$/m,
  );
  assert.match(result.stdout, /^TRUSTED_PROXIES=127\.0\.0\.1,::1$/m);
  assert.match(result.stdout, /^HOST=127\.0\.0\.1$/m);
});
