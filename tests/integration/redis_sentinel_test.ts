// Redis under Sentinel, as operators run it: a master, a replica, three sentinels on loopback.
// The gateway follows a planned failover (SENTINEL FAILOVER) and a master killed with SIGKILL,
// while a producer publishes every 100 ms the way a producer under Sentinel must (to the master
// the sentinels name, again when it got 0 receivers or an error).
import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { FailoverWatch } from "../support/failover_watch.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import type { RedisServer } from "../support/redis_server.ts";
import { MASTER_NAME, SentinelSetup } from "../support/redis_sentinel.ts";
import { delay, waitFor } from "../support/wait.ts";

/** Publishes on the master the sentinels name until a subscriber got it; at most 15 s. */
async function publishRetrying(setup: SentinelSetup, payload: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    const receivers = await setup.master().then((master) => master.publish("tvs:AE", payload))
      .catch(() => 0);
    if (receivers > 0) return;
    await delay(100);
  }
  throw new Error(`Nobody received ${payload} for 15 s`);
}

Deno.test("under Sentinel the gateway follows a planned failover and a killed master: every publication reaches every viewer once, none is closed, /readyz says when it has no master and is 200 again once it delivers", async () => {
  await using setup = await SentinelSetup.start();
  await using gateway = await GatewayProcess.start({ REDIS_URL: setup.url });
  await waitFor(() => gateway.ready(), { timeoutMs: 10_000, what: "ready through Sentinel" });
  await using watch = await FailoverWatch.start(
    gateway,
    (_, payload) => publishRetrying(setup, payload),
  );

  await watch.moreDeliveries(10);
  const planned = performance.now();
  const oldMaster: RedisServer = await setup.master();
  await setup.sentinel("FAILOVER", MASTER_NAME);
  await setup.waitForNewMaster(oldMaster, 15_000);
  await watch.moreDeliveries(10);
  const plannedGap = watch.longestGapSince(planned);
  // Ready as soon as it delivers again: a load balancer must not keep it out any longer.
  assert.equal(await gateway.ready(), true, "/readyz 200 once delivering after SENTINEL FAILOVER");

  // The old master must be a replica in sync before the next failover can promote it.
  await setup.waitForReplica(oldMaster, 30_000);
  await watch.moreDeliveries(5);
  const killed = performance.now();
  const master = await setup.master();
  const readinessBefore = watch.readiness.length;
  await master.kill();
  await setup.waitForNewMaster(master, 20_000);
  await watch.moreDeliveries(10);
  const killedGap = watch.longestGapSince(killed);
  assert.equal(await gateway.ready(), true, "/readyz 200 once delivering after kill -9");

  const published = await watch.everyPublicationOnce();
  console.log(
    `sentinel: ${published} publications; longest gap after SENTINEL FAILOVER ` +
      `${Math.round(plannedGap)} ms, after kill -9 ${Math.round(killedGap)} ms`,
  );
  assert.ok(plannedGap < 5000, `planned failover: ${Math.round(plannedGap)} ms without delivery`);
  assert.ok(killedGap < 10_000, `killed master: ${Math.round(killedGap)} ms without delivery`);
  assert.equal(watch.closed, 0, "no viewer was closed because Redis failed over");
  assert.ok(watch.readiness.slice(readinessBefore).includes(false), "/readyz 503 while no master");
  const metrics = await gateway.metricsText();
  assert.ok(metricValue(metrics, "tvs_broker_failovers_total") >= 2);
  assert.ok(gateway.logs.some((entry) => entry.msg === "broker failover"));

  // The reference publisher finds the master the sentinels name now.
  const cli = await runCli(
    ["publish", "--region", "AE", "--video-id", "after", "--title", "after the failovers"],
    { REDIS_URL: setup.url },
  );
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^PUBLISH tvs:AE \(1 subscribers\)/);
  await watch.first.waitForFrames(published + 1);
});

Deno.test("a master name no sentinel knows is retried, not fatal: /readyz 503 and a line naming the cause", async () => {
  await using setup = await SentinelSetup.start();
  await using gateway = await GatewayProcess.start({
    REDIS_URL: setup.url.replace(/\/[^/]+$/, "/no-such-master"),
  });
  await waitFor(
    () => gateway.logs.some((entry) => entry.msg === "broker unavailable, retrying"),
    { what: "the retry logged" },
  );
  const line = gateway.logs.find((entry) => entry.msg === "broker unavailable, retrying")!;
  assert.match(String(line.cause), /no-such-master|No such master/);
  assert.equal(await gateway.ready(), false, "serving, and saying it is not ready");
});
