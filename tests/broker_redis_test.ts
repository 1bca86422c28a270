import assert from "node:assert/strict";
import type { BrokerState } from "../lib/broker.ts";
import { reconnectDelay, RedisBroker } from "../lib/broker_redis.ts";
import { brokerContract } from "./broker_contract.ts";
import { RedisServer } from "./support/redis_server.ts";
import { waitFor } from "./support/wait.ts";

const options = { channelPrefix: "tvs:", regions: ["AE", "FI", "CZ"] };

brokerContract("redis", async (dedupe) => {
  const redis = await RedisServer.start();
  return {
    broker: new RedisBroker(redis.url, { ...options, dedupe }),
    dispose: () => redis.stop(),
  };
});

Deno.test("two redis brokers on one Redis reach the same verdict for the same publication", async () => {
  const redis = await RedisServer.start();
  const brokers = [new RedisBroker(redis.url, options), new RedisBroker(redis.url, options)];
  for (const broker of brokers) broker.start({ publication: () => {}, stateChange: () => {} });
  const encoder = new TextEncoder();
  const appendBoth = (payload: string, dedupeKey: string) =>
    Promise.all(
      brokers.map((broker) => broker.append("AE", { payload: encoder.encode(payload), dedupeKey })),
    );
  try {
    await waitFor(() => brokers.every((broker) => broker.state === "ready"), { what: "ready" });
    // Each instance sees the same publication: both deliver it.
    assert.deepEqual(await appendBoth('{"v":"v1","ts":1}', "v1"), ["fresh", "fresh"]);
    // The cron job publishes the same video again: both drop it.
    assert.deepEqual(await appendBoth('{"v":"v1","ts":2}', "v1"), ["duplicate", "duplicate"]);
    // Whichever instance is first, the other agrees.
    const first = await brokers[1]!.append("AE", { payload: encoder.encode("x"), dedupeKey: "v2" });
    const second = await brokers[0]!.append("AE", {
      payload: encoder.encode("x"),
      dedupeKey: "v2",
    });
    assert.deepEqual([first, second], ["fresh", "fresh"]);
  } finally {
    await Promise.all(brokers.map((broker) => broker.close()));
    await redis.stop();
  }
});

Deno.test("redis broker keeps de-duplication state in Redis, bounded per region", async () => {
  const redis = await RedisServer.start();
  const broker = new RedisBroker(redis.url, {
    ...options,
    dedupe: { windowMs: 60_000, capacity: 5 },
  });
  broker.start({ publication: () => {}, stateChange: () => {} });
  const encoder = new TextEncoder();
  try {
    await waitFor(() => broker.state === "ready", { what: "ready" });
    for (let i = 0; i < 20; i++) {
      await broker.append("FI", { payload: encoder.encode(`p${i}`), dedupeKey: `v${i}` });
    }
    assert.equal(await redis.command("ZCARD", "tvs:{FI}:dedupe"), ":5");
    const ttl = Number((await redis.command("PTTL", "tvs:{FI}:dedupe")).slice(1));
    assert.ok(ttl > 0 && ttl <= 60_000, `the set expires with the window: ${ttl}`);
  } finally {
    await broker.close();
    await redis.stop();
  }
});

Deno.test("redis broker receives what a plain PUBLISH sends on tvs:<REGION>", async () => {
  const redis = await RedisServer.start();
  const broker = new RedisBroker(redis.url, options);
  const received: string[] = [];
  broker.start({
    publication: (region, payload) =>
      received.push(`${region} ${new TextDecoder().decode(payload)}`),
    stateChange: () => {},
  });
  try {
    await waitFor(() => broker.state === "ready", { what: "ready" });
    assert.equal(await redis.publish("tvs:CZ", '{"event":"x"}'), 1);
    assert.equal(await redis.publish("tvs:ZZ", '{"event":"x"}'), 0);
    await waitFor(() => received.length === 1, { what: "publication" });
    assert.deepEqual(received, ['CZ {"event":"x"}']);
  } finally {
    await broker.close();
    await redis.stop();
  }
});

Deno.test("redis broker waits for Redis at start and reconnects after a restart", async () => {
  const redis = await RedisServer.start();
  await redis.kill();
  const broker = new RedisBroker(redis.url, options);
  const states: BrokerState[] = [];
  const received: string[] = [];
  broker.start({
    publication: (_region, payload) => received.push(new TextDecoder().decode(payload)),
    stateChange: (state) => states.push(state),
  });
  try {
    await waitFor(() => broker.state === "reconnecting", { what: "retrying" });
    await new Promise((resolve) => setTimeout(resolve, 600));
    await redis.restart();
    await waitFor(() => broker.state === "ready", { what: "first ready" });
    await redis.kill();
    await waitFor(() => broker.state === "reconnecting", { what: "reconnecting" });
    await redis.restart();
    await waitFor(() => broker.state === "ready", { timeoutMs: 3000, what: "ready again" });
    assert.equal(await redis.publish("tvs:AE", '{"event":"again"}'), 1);
    await waitFor(() => received.length === 1, { what: "publication after restart" });
    // One entry per change, not one per retry.
    assert.deepEqual(states, ["reconnecting", "ready", "reconnecting", "ready"]);
  } finally {
    await broker.close();
    await redis.stop();
  }
});

Deno.test("reconnect delay doubles from 50 ms, is capped, and is jittered", () => {
  for (let retries = 0; retries < 30; retries++) {
    const ceiling = Math.min(50 * 2 ** retries, 1000);
    const delay = reconnectDelay(retries, 1000);
    assert.ok(delay >= ceiling / 2 && delay <= ceiling, `retry ${retries}: ${delay}`);
  }
});
