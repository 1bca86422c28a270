// The Redis ACL users of docs/operations.md, as written there: the gateway subscribes, records
// and resumes as its user, the reference publisher publishes and checks for repeats as its own,
// and Redis logs no denial.
import assert from "node:assert/strict";
import { PROJECT_ROOT, runCli } from "../support/cli.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { RedisServer } from "../support/redis_server.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

/** The `ACL SETUSER` lines of docs/operations.md, by user, a password given for each. */
async function documentedUsers(): Promise<Map<string, string[]>> {
  const docs = await Deno.readTextFile(`${PROJECT_ROOT}docs/operations.md`);
  const lines = docs.split("\n").filter((line) => line.startsWith("ACL SETUSER "));
  return new Map(lines.map((line) => {
    const [, , user, ...rules] = line.split(" ");
    return [user!, rules.map((rule) => rule.startsWith(">") ? `>pw-${user}` : rule)];
  }));
}

Deno.test("the documented ACL users are enough: the gateway and the publisher work as them, Redis denies nothing", async () => {
  await using redis = await RedisServer.start();
  const users = await documentedUsers();
  assert.deepEqual([...users.keys()], ["tvs-gateway", "tvs-producer"]);
  for (const [user, rules] of users) {
    assert.equal(await redis.command("ACL", "SETUSER", user, ...rules), "+OK");
  }
  const as = (user: string) => `redis://${user}:pw-${user}@127.0.0.1:${redis.port}`;
  await using gateway = await GatewayProcess.start({ REDIS_URL: as("tvs-gateway") });
  await waitFor(() => gateway.ready(), { what: "ready as tvs-gateway" });
  await using viewer = await TestClient.connect(`${gateway.ws}/?region=AE`);
  const publish = () =>
    runCli(["publish", "--region", "AE", "--video-id", "acl", "--title", "ACL"], {
      REDIS_URL: as("tvs-producer"),
    });
  const first = await publish();
  assert.equal(first.code, 0, first.stderr);
  await viewer.waitForFrames(1);
  await waitFor(async () => (await publish()).code === 3, { what: "the repeat refused" });
  // A client resuming from the message: the recovery script runs as the gateway's user too.
  await using resumed = await TestClient.connect(
    `${gateway.ws}/?region=AE&since=${viewer.messages[0]!.id}`,
  );
  await resumed.waitForFrames(1);
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_broker_errors_total{operation="record"}'), 0);
  assert.equal(await redis.command("ACL", "LOG", "1"), "*0", "no denial in Redis's ACL log");
});
