import assert from "node:assert/strict";
import type { BrokerState } from "../../lib/brokers/broker.ts";
import { reconnectDelay, RedisBroker } from "../../lib/brokers/redis.ts";
import { parseRedisTarget } from "../../lib/brokers/redis_target.ts";
import { brokerContract, recordOne } from "../broker_contract.ts";
import { RedisServer } from "../support/redis_server.ts";
import { closing } from "../support/disposable.ts";
import { waitFor } from "../support/wait.ts";

const options = { channelPrefix: "tvs:", regions: ["AE", "FI", "CZ"] };
const quiet = { publication: () => {}, stateChange: () => {} };

brokerContract("redis", async (settings) => {
  const stack = new AsyncDisposableStack();
  const redis = stack.use(await RedisServer.start());
  const broker = stack.use(
    closing(new RedisBroker(parseRedisTarget(redis.url), { ...options, ...settings })),
  );
  return { broker, [Symbol.asyncDispose]: () => stack.disposeAsync() };
});

/** Two started brokers on one fresh Redis, all stopped on dispose. */
async function twoBrokers(): Promise<
  { brokers: RedisBroker[]; redis: RedisServer } & AsyncDisposable
> {
  const stack = new AsyncDisposableStack();
  const redis = stack.use(await RedisServer.start());
  const brokers = [options, options].map((settings) =>
    stack.use(closing(new RedisBroker(parseRedisTarget(redis.url), settings)))
  );
  for (const broker of brokers) broker.start(quiet);
  await waitFor(() => brokers.every((broker) => broker.state === "ready"), { what: "ready" });
  return { brokers, redis, [Symbol.asyncDispose]: () => stack.disposeAsync() };
}

const request = (fingerprint: string, body = "m", dedupeKey: string | null = null) => ({
  fingerprint,
  body,
  dedupeKey,
});

Deno.test("redis broker receives what a plain PUBLISH sends on tvs:<REGION>", async () => {
  await using redis = await RedisServer.start();
  await using broker = closing(new RedisBroker(parseRedisTarget(redis.url), options));
  const received: string[] = [];
  broker.start({
    publication: (region, payload) =>
      received.push(`${region} ${new TextDecoder().decode(payload)}`),
    stateChange: () => {},
  });
  await waitFor(() => broker.state === "ready", { what: "ready" });
  assert.equal(await redis.publish("tvs:CZ", '{"event":"x"}'), 1);
  assert.equal(await redis.publish("tvs:ZZ", '{"event":"x"}'), 0);
  await waitFor(() => received.length === 1, { what: "publication" });
  assert.deepEqual(received, ['CZ {"event":"x"}']);
});

Deno.test("two redis brokers recording the same publication give it one position", async () => {
  await using setup = await twoBrokers();
  const { brokers } = setup;
  const [a, b] = await Promise.all(
    brokers.map((broker) => recordOne(broker, "AE", request("00000000000000a1"))),
  );
  assert.deepEqual(a, b);
  assert.equal(a?.offset, 1);
  // Whichever instance is first, the other agrees.
  const later = await recordOne(brokers[1]!, "AE", request("00000000000000a2"));
  const earlier = await recordOne(brokers[0]!, "AE", request("00000000000000a2"));
  assert.deepEqual(earlier, later);
  assert.equal(later.offset, 2);
});

Deno.test("redis history outlives a broker: another instance recovers from it", async () => {
  await using setup = await twoBrokers();
  const { brokers: [writer, reader] } = setup;
  for (let i = 1; i <= 3; i++) {
    await recordOne(writer!, "FI", request(`000000000000000${i}`, `m${i}`));
  }
  await writer!.close();
  const recovery = await reader!.recover("FI", {
    kind: "message",
    fingerprint: "0000000000000001",
  });
  assert.equal(recovery.recovered, true);
  assert.deepEqual(recovery.entries.map((entry) => entry.body), ["m2", "m3"]);
});

Deno.test("when Redis loses its data a new epoch begins and old cursors are not recovered", async () => {
  await using setup = await twoBrokers();
  const { brokers: [broker], redis } = setup;
  const before = await recordOne(broker!, "CZ", request("00000000000000c1"));
  await redis.command("FLUSHALL");
  const after = await recordOne(broker!, "CZ", request("00000000000000c2"));
  assert.notEqual(after.epoch, before.epoch);
  assert.equal(after.offset, 1);
  assert.equal(
    (await broker!.recover("CZ", { kind: "position", position: before })).recovered,
    false,
  );
  assert.equal(
    (await broker!.recover("CZ", { kind: "message", fingerprint: "00000000000000c1" })).recovered,
    false,
  );
});

Deno.test("redis broker keeps its state in Redis, bounded per region", async () => {
  await using redis = await RedisServer.start();
  await using broker = closing(
    new RedisBroker(parseRedisTarget(redis.url), {
      ...options,
      dedupe: { windowMs: 60_000, capacity: 5 },
      history: { size: 10, ttlMs: 60_000 },
    }),
  );
  broker.start(quiet);
  await waitFor(() => broker.state === "ready", { what: "ready" });
  for (let i = 0; i < 20; i++) {
    await recordOne(broker, "FI", request(i.toString(16).padStart(16, "0"), `p${i}`, `v${i}`));
  }
  assert.equal(await redis.command("ZCARD", "tvs:{FI}:dedupe"), ":5");
  assert.equal(await redis.command("XLEN", "tvs:{FI}:history"), ":10");
  assert.equal(
    await redis.command("HLEN", "tvs:{FI}:index"),
    ":10",
    "the index follows the history",
  );
  const ttl = Number((await redis.command("PTTL", "tvs:{FI}:dedupe")).slice(1));
  assert.ok(ttl > 0 && ttl <= 60_000, `the set expires with the window: ${ttl}`);
});

Deno.test("redis broker waits for Redis at start and reconnects after a restart", async () => {
  const redis = await RedisServer.start();
  await redis.kill();
  const broker = new RedisBroker(parseRedisTarget(redis.url), options);
  const states: BrokerState[] = [];
  const received: string[] = [];
  broker.start({
    publication: (_region, payload) => received.push(new TextDecoder().decode(payload)),
    stateChange: (state) => states.push(state),
  });
  await waitFor(() => broker.state === "reconnecting", { what: "retrying" });
  await redis.refuseConnections(4);
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
});

Deno.test("reconnect delay doubles from 50 ms, is capped, and is jittered", () => {
  for (let retries = 0; retries < 30; retries++) {
    const ceiling = Math.min(50 * 2 ** retries, 1000);
    const delay = reconnectDelay(retries, 1000);
    assert.ok(delay >= ceiling / 2 && delay <= ceiling, `retry ${retries}: ${delay}`);
  }
});

Deno.test("a history that lost its tail (a replica promoted without the last records) begins a new epoch, never reusing offsets", async () => {
  await using redis = await RedisServer.start();
  await using broker = closing(new RedisBroker(parseRedisTarget(redis.url), options));
  broker.start(quiet);
  await waitFor(() => broker.state === "ready", { what: "ready" });
  const first = await recordOne(broker, "AE", request("f1"));
  await recordOne(broker, "AE", request("f2"));
  const third = await recordOne(broker, "AE", request("f3"));
  assert.deepEqual(third, { epoch: first.epoch, offset: 3 });
  // What the promoted replica holds: the first record only (the script's effects replicate as
  // one unit, so the history, its index and the top offset agree with each other).
  await redis.pipeline([
    ["HSET", "tvs:{AE}:meta", "top", "1"],
    ["XDEL", "tvs:{AE}:history", "2-0", "3-0"],
    ["HDEL", "tvs:{AE}:index", "f2", "f3"],
  ]);
  const next = await recordOne(broker, "AE", request("f4"));
  assert.notEqual(
    next.epoch,
    first.epoch,
    "offset 2 of the old epoch named f2; it must not name f4",
  );
  const resumed = await broker.recover("AE", { kind: "position", position: third });
  assert.equal(resumed.recovered, false, "a client at the lost tail is told, not given a gap");
  assert.deepEqual(resumed.position, next);
});
