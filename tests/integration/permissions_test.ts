import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../../lib/config/config.ts";
import { RETIRED_SETTINGS } from "../../lib/config/settings.ts";
import { baseEnv, PROJECT_ROOT } from "../support/cli.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { RedisServer } from "../support/redis_server.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const denoJson = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}deno.json`));
const gatewaySet = denoJson.permissions.gateway;

Deno.test("one permission set: start, dev, compile and the test processes all use -P=gateway", async () => {
  for (const task of ["start", "dev", "compile", "publish"]) {
    assert.match(denoJson.tasks[task], /(^| )-P=gateway( |$)/, task);
    assert.doesNotMatch(
      denoJson.tasks[task],
      /(^| )(-A|--allow-all|--allow-read|--allow-run)( |=|$)/,
      task,
    );
  }
  const { gatewayArgs } = await import("../support/cli.ts");
  assert.ok(gatewayArgs([]).includes("-P=gateway"));
});

Deno.test("the set allows the variables the configuration reads, and nothing else but node-redis's", () => {
  const env = new Set<string>(gatewaySet.env);
  // node-redis reads these two; without them it loops on a permission error (measured).
  const nodeRedis = ["REDIS_DEBUG_MAINTENANCE", "REDIS_EMIT_DIAGNOSTICS"];
  const read = [...CONFIG_VARIABLES, ...RETIRED_SETTINGS.keys(), ...nodeRedis];
  assert.deepEqual([...env].sort(), read.sort());
  assert.deepEqual(
    Object.keys(gatewaySet).sort(),
    ["env", "net", "read", "sys"],
    "no write, run or ffi",
  );
  // Workers load their modules from the program's own code (with deno.json, the version); the
  // operator's files (PUBLISH_TOKENS_FILE) live in /etc/tvs-realtime; nothing else is read.
  assert.deepEqual(gatewaySet.read, ["./lib", "./static", "./deno.json", "/etc/tvs-realtime"]);
  // One system call: the host's memory, for MAX_RSS_BYTES=auto.
  assert.deepEqual(gatewaySet.sys, ["systemMemoryInfo"]);
  // Redis's host is named at deploy time; the systemd unit confines addresses (deploy_test.ts).
  assert.equal(gatewaySet.net, true);
});

Deno.test("under the gateway's permissions everything outside them is refused", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=gateway", "tests/fixtures/permission_probe.ts"],
    cwd: PROJECT_ROOT,
    env: baseEnv(),
    clearEnv: true,
  }).output();
  const { refused, allowed } = JSON.parse(new TextDecoder().decode(output.stdout));
  for (const [action, wasRefused] of Object.entries(refused)) {
    assert.equal(wasRefused, true, action);
  }
  for (const [action, isAllowed] of Object.entries(allowed)) assert.equal(isAllowed, true, action);
  assert.equal(Object.keys(refused).length, 6);
});

Deno.test("deno task start reaches a Redis on another host, named only at run time", async () => {
  await using redis = await RedisServer.start({ bind: "127.0.0.2" });
  await using gateway = await GatewayProcess.start({ REDIS_URL: redis.url }, [], {
    task: "start",
  });
  await waitFor(() => gateway.ready(), { what: "ready with Redis on 127.0.0.2" });
  const client = await TestClient.connect(`${gateway.ws}/?region=AE`);
  await redis.publish(
    "tvs:AE",
    JSON.stringify({ event: "new_trending", video_id: "p1", title: "إذن" }),
  );
  await client.waitForFrames(1);
  assert.equal(client.messages[0]?.title, "إذن");
  await client.close();
  const listening = gateway.logs.find((line) => line.msg === "listening");
  assert.equal(listening?.broker, redis.url);
});
