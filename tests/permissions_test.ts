import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../lib/config.ts";
import { baseEnv, PROJECT_ROOT, runCli } from "./support/cli.ts";
import { GatewayProcess } from "./support/gateway_process.ts";
import { RedisServer } from "./support/redis_server.ts";
import { waitFor } from "./support/wait.ts";
import { TestClient } from "./support/ws_client.ts";

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
  const { gatewayArgs } = await import("./support/cli.ts");
  assert.ok(gatewayArgs([]).includes("-P=gateway"));
});

Deno.test("the set allows the variables the configuration reads, and nothing else but node-redis's", () => {
  const env = new Set<string>(gatewaySet.env);
  // node-redis reads these two; without them it loops on a permission error (measured).
  const nodeRedis = ["REDIS_DEBUG_MAINTENANCE", "REDIS_EMIT_DIAGNOSTICS"];
  assert.deepEqual([...env].sort(), [...CONFIG_VARIABLES, ...nodeRedis].sort());
  assert.deepEqual(
    Object.keys(gatewaySet).sort(),
    ["env", "net"],
    "no read, write, run, sys or ffi",
  );
  for (const host of gatewaySet.net) {
    assert.match(host, /^(0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|\[::1\])$/);
  }
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
  assert.equal(Object.keys(refused).length, 7);
});

Deno.test("the gateway works under exactly those permissions, Redis included", async () => {
  const redis = await RedisServer.start();
  const gateway = await GatewayProcess.start({ REDIS_URL: redis.url });
  try {
    await waitFor(() => gateway.ready());
    const client = await TestClient.connect(`${gateway.ws}/?region=AE`);
    await redis.publish(
      "tvs:AE",
      JSON.stringify({ event: "new_trending", video_id: "p1", title: "إذن" }),
    );
    await client.waitForFrames(1);
    assert.equal(client.messages[0]?.title, "إذن");
    await client.close();
  } finally {
    await gateway.stop();
    await redis.stop();
  }
});

Deno.test("an address outside the permissions is a configuration error naming the fix", async () => {
  const redis = await runCli(["check-config"], { REDIS_URL: "redis://cache.internal:6380" });
  assert.equal(redis.code, 1);
  assert.equal(
    redis.stderr.trim(),
    "tvs-realtime: invalid configuration: REDIS_URL: cache.internal:6380 is outside the network " +
      "permissions (deno.json permissions.gateway.net); add the host there and rebuild",
  );
  const serve = await runCli([], { HOST: "10.1.2.3" });
  assert.equal(serve.code, 78);
  assert.match(
    serve.stderr,
    /^tvs-realtime: invalid configuration: HOST: Listening on 10\.1\.2\.3:8765 is outside/,
  );
});
