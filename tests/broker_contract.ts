/**
 * The behaviour every {@link Broker} must have, as one suite run against each implementation
 * (`broker_memory_test.ts`, `broker_redis_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  Broker,
  BrokerState,
  DedupeOptions,
  HistoryOptions,
  StreamPosition,
} from "../lib/broker.ts";
import { delay, waitFor } from "./support/wait.ts";

/** A broker under test and what it takes to tear it down. */
export interface BrokerFixture {
  readonly broker: Broker;
  /** Releases whatever the fixture started besides the broker. */
  readonly dispose: () => Promise<void>;
}

/** How the suite configures a broker. */
export interface BrokerSettings {
  readonly dedupe: DedupeOptions;
  readonly history: HistoryOptions;
}

/** Builds a fresh, empty broker for regions AE, FI and CZ. */
export type BrokerFactory = (settings: BrokerSettings) => Promise<BrokerFixture>;

const SETTINGS: BrokerSettings = {
  dedupe: { windowMs: 60_000, capacity: 3 },
  history: { size: 5, ttlMs: 60_000 },
};

interface Received {
  readonly region: string;
  readonly payload: Uint8Array;
}

function record(broker: Broker): { received: Received[]; states: BrokerState[] } {
  const received: Received[] = [];
  const states: BrokerState[] = [];
  broker.start({
    publication: (region, payload) => received.push({ region, payload }),
    stateChange: (state) => states.push(state),
  });
  return { received, states };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let unique = 0;

function appendRequest(body: string, dedupeKey: string | null) {
  return { payload: encoder.encode(`${body}#${++unique}`), body, dedupeKey };
}

/** Appends `body` (with an optional key); "fresh" or "duplicate". */
async function verdict(
  broker: Broker,
  region: string,
  body: string,
  dedupeKey: string | null = null,
): Promise<"fresh" | "duplicate"> {
  return (await broker.append(region, appendRequest(body, dedupeKey))).status;
}

/** Appends `body`, which must be fresh; returns its position. */
async function placed(
  broker: Broker,
  region: string,
  body: string,
  dedupeKey: string | null = null,
): Promise<StreamPosition> {
  const result = await broker.append(region, appendRequest(body, dedupeKey));
  assert.equal(result.status, "fresh", `${body} should be fresh`);
  return (result as { position: StreamPosition }).position;
}

async function started(broker: Broker): Promise<void> {
  record(broker);
  await waitFor(() => broker.state === "ready", { what: "ready" });
}

/** Registers the contract tests for the broker that `create` builds. */
export function brokerContract(name: string, create: BrokerFactory): void {
  const test = (
    what: string,
    fn: (broker: Broker) => Promise<void> | void,
    settings: BrokerSettings = SETTINGS,
  ) =>
    Deno.test(`${name} broker ${what}`, async () => {
      const fixture = await create(settings);
      try {
        await fn(fixture.broker);
      } finally {
        await fixture.broker.close();
        await fixture.dispose();
      }
    });

  test("becomes ready after start", async (broker) => {
    const { states } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    assert.equal(states.at(-1), "ready");
  });

  test("delivers a publication to its region only, byte for byte", async (broker) => {
    const { received } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    const payload = '{"event":"new_trending","title":"Příliš žluťoučký kůň 🐎 مرحبا"}';
    assert.equal(await broker.publish("AE", payload), 1);
    await waitFor(() => received.length === 1, { what: "one publication" });
    assert.equal(received[0]?.region, "AE");
    assert.equal(decoder.decode(received[0]?.payload), payload);
  });

  test("keeps the order of publications of a region", async (broker) => {
    const { received } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    for (let i = 0; i < 50; i++) await broker.publish("FI", `{"event":"n","i":${i}}`);
    await waitFor(() => received.length === 50, { what: "50 publications" });
    assert.deepEqual(
      received.map((entry) => JSON.parse(decoder.decode(entry.payload)).i),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  test("refuses to start twice", (broker) => {
    record(broker);
    assert.throws(() => record(broker), /already started/);
  });

  test("gives each region's messages consecutive offsets in one epoch", async (broker) => {
    await started(broker);
    const a1 = await placed(broker, "AE", "a1");
    const a2 = await placed(broker, "AE", "a2");
    const f1 = await placed(broker, "FI", "f1");
    const a3 = await placed(broker, "AE", "a3");
    assert.deepEqual([a1.offset, a2.offset, a3.offset], [1, 2, 3]);
    assert.equal(a1.epoch, a3.epoch);
    assert.match(a1.epoch, /^[0-9a-z]{1,16}$/);
    assert.equal(f1.offset, 1, "every region has its own stream");
  });

  test("calls a repeated key of a region a duplicate, which takes no offset", async (broker) => {
    await started(broker);
    const first = await placed(broker, "AE", "first", "v1");
    assert.equal(await verdict(broker, "AE", "second", "v1"), "duplicate");
    assert.equal(await verdict(broker, "FI", "third", "v1"), "fresh");
    const next = await placed(broker, "AE", "fourth", "v2");
    assert.equal(next.offset, first.offset + 1);
    assert.equal(await verdict(broker, "AE", "fifth"), "fresh");
    assert.equal(await verdict(broker, "AE", "sixth"), "fresh");
  });

  test("forgets the oldest keys beyond its capacity", async (broker) => {
    await started(broker);
    for (const key of ["a", "b", "c", "d"]) {
      assert.equal(await verdict(broker, "CZ", key, key), "fresh");
    }
    assert.equal(await verdict(broker, "CZ", "a again", "a"), "fresh", "a was the oldest of four");
    assert.equal(await verdict(broker, "CZ", "d again", "d"), "duplicate");
  });

  test("with a window of 0 never calls anything a duplicate", async (broker) => {
    await started(broker);
    assert.equal(await verdict(broker, "AE", "one", "v"), "fresh");
    assert.equal(await verdict(broker, "AE", "two", "v"), "fresh");
  }, { ...SETTINGS, dedupe: { windowMs: 0, capacity: 3 } });

  test("tells a client without a position where the stream is", async (broker) => {
    await started(broker);
    const empty = await broker.recover("AE", null);
    assert.deepEqual([empty.position.offset, empty.recovered, empty.entries], [0, false, []]);
    await placed(broker, "AE", "m1");
    const last = await placed(broker, "AE", "m2");
    const now = await broker.recover("AE", null);
    assert.deepEqual(now.position, last);
    assert.equal(now.position.epoch, empty.position.epoch, "the epoch is kept from the first ask");
  });

  test("replays every message after a position, in order", async (broker) => {
    await started(broker);
    const positions = [];
    for (const body of ["m1", "m2", "m3", "m4"]) positions.push(await placed(broker, "FI", body));
    const recovery = await broker.recover("FI", positions[1]!);
    assert.equal(recovery.recovered, true);
    assert.deepEqual(recovery.position, positions[3]);
    assert.deepEqual(recovery.entries, [{ offset: 3, body: "m3" }, { offset: 4, body: "m4" }]);
    const upToDate = await broker.recover("FI", positions[3]!);
    assert.deepEqual([upToDate.recovered, upToDate.entries], [true, []]);
  });

  test("cannot recover a position older than the history, of another epoch, or ahead", async (broker) => {
    await started(broker);
    let last: StreamPosition = { epoch: "", offset: 0 };
    for (let i = 1; i <= 8; i++) last = await placed(broker, "CZ", `m${i}`);
    const trimmed = await broker.recover("CZ", { epoch: last.epoch, offset: 2 });
    assert.deepEqual([trimmed.recovered, trimmed.entries], [false, []], "size 5 keeps 4..8");
    const oldest = await broker.recover("CZ", { epoch: last.epoch, offset: 3 });
    assert.deepEqual(oldest.entries.map((entry) => entry.offset), [4, 5, 6, 7, 8]);
    assert.equal(oldest.recovered, true);
    const foreign = await broker.recover("CZ", { epoch: "zzzzzzzz", offset: 7 });
    assert.equal(foreign.recovered, false);
    assert.deepEqual(foreign.position, last);
    const ahead = await broker.recover("CZ", { epoch: last.epoch, offset: 99 });
    assert.equal(ahead.recovered, false);
  });

  test("drops messages older than the history's ttl", async (broker) => {
    await started(broker);
    const first = await placed(broker, "AE", "old1");
    await placed(broker, "AE", "old2");
    await delay(400);
    await placed(broker, "AE", "young");
    assert.equal((await broker.recover("AE", first)).recovered, false, "old2 expired");
    const recent = await broker.recover("AE", { epoch: first.epoch, offset: 2 });
    assert.deepEqual(recent.entries, [{ offset: 3, body: "young" }]);
  }, { ...SETTINGS, history: { size: 5, ttlMs: 300 } });

  test(
    "with no history still gives positions, and recovers only an up-to-date client",
    async (broker) => {
      await started(broker);
      const first = await placed(broker, "AE", "m1");
      const second = await placed(broker, "AE", "m2");
      assert.equal((await broker.recover("AE", first)).recovered, false);
      assert.equal((await broker.recover("AE", second)).recovered, true);
    },
    { ...SETTINGS, history: { size: 0, ttlMs: 60_000 } },
  );

  test("closes idempotently and reports closed", async (broker) => {
    const { states } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    await broker.close();
    await broker.close();
    assert.equal(broker.state, "closed");
    assert.equal(states.filter((state) => state === "closed").length, 1);
  });
}
