/**
 * The behaviour every {@link Broker} must have, as one suite run against each implementation
 * (`tests/unit/brokers/memory_test.ts`, `tests/integration/redis_broker_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  Broker,
  BrokerState,
  Cursor,
  DedupeOptions,
  HistoryOptions,
  RecordRequest,
  StreamPosition,
} from "../lib/brokers/broker.ts";
import { delay, waitFor } from "./support/wait.ts";

/** A broker under test; disposing it closes the broker and whatever else the fixture started. */
export interface BrokerFixture extends AsyncDisposable {
  readonly broker: Broker;
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

const decoder = new TextDecoder();

let unique = 0;

/** A fresh fingerprint (16 hex digits), as the gateway computes from a publication's bytes. */
function newFingerprint(): string {
  return (++unique).toString(16).padStart(16, "0");
}

/** Records one publication of `region`: the position the broker gives it. */
export async function recordOne(
  broker: Broker,
  region: string,
  request: RecordRequest,
): Promise<StreamPosition> {
  const [position] = await broker.record([{ region, request }]);
  assert.ok(position !== undefined, "a position per record");
  return position;
}

/** Records `body` (with an optional key); returns its position and fingerprint. */
async function recorded(
  broker: Broker,
  region: string,
  body: string,
  dedupeKey: string | null = null,
): Promise<StreamPosition & { fingerprint: string }> {
  const fingerprint = newFingerprint();
  const position = await recordOne(broker, region, { fingerprint, body, dedupeKey });
  return { ...position, fingerprint };
}

const after = (fingerprint: string): Cursor => ({ kind: "message", fingerprint });
const at = (position: StreamPosition): Cursor => ({ kind: "position", position });

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
      await using fixture = await create(settings);
      await fn(fixture.broker);
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

  test("gives each region's records consecutive offsets in one epoch", async (broker) => {
    await started(broker);
    const a1 = await recorded(broker, "AE", "a1");
    const a2 = await recorded(broker, "AE", "a2");
    const f1 = await recorded(broker, "FI", "f1");
    const a3 = await recorded(broker, "AE", "a3");
    assert.deepEqual([a1.offset, a2.offset, a3.offset], [1, 2, 3]);
    assert.equal(a1.epoch, a3.epoch);
    assert.match(a1.epoch, /^[0-9a-z]{1,16}$/);
    assert.equal(f1.offset, 1, "every region has its own stream");
  });

  test("records a fingerprint once: recording it again returns its position", async (broker) => {
    await started(broker);
    const request = { fingerprint: "00000000000000aa", body: "m", dedupeKey: null };
    const first = await recordOne(broker, "AE", request);
    const again = await recordOne(broker, "AE", request);
    assert.deepEqual(again, first);
    const next = await recorded(broker, "AE", "next");
    assert.equal(next.offset, first.offset + 1);
  });

  test("records a batch of several regions in order, a position per record", async (broker) => {
    await started(broker);
    const before = await recorded(broker, "FI", "f0");
    const batch = ["AE", "FI", "AE", "FI", "FI"].map((region, i) => ({
      region,
      request: { fingerprint: newFingerprint(), body: `b${i}`, dedupeKey: null },
    }));
    const positions = await broker.record(batch);
    assert.deepEqual(positions.map((position) => position.offset), [1, 2, 2, 3, 4]);
    assert.ok(
      positions.slice(1).every((position, i) =>
        batch[i + 1]!.region === "FI" ? position.epoch === before.epoch : true
      ),
    );
    const recovery = await broker.recover("FI", after(before.fingerprint));
    assert.deepEqual(recovery.entries.map((entry) => entry.body), ["b1", "b3", "b4"]);
    assert.deepEqual(await broker.record([]), []);
  });

  test("tells a client without a cursor where the stream is", async (broker) => {
    await started(broker);
    const empty = await broker.recover("AE", null);
    assert.deepEqual([empty.position.offset, empty.recovered, empty.entries], [0, false, []]);
    await recorded(broker, "AE", "m1");
    const last = await recorded(broker, "AE", "m2");
    const now = await broker.recover("AE", null);
    assert.deepEqual(now.position, { epoch: last.epoch, offset: last.offset });
    assert.equal(now.position.epoch, empty.position.epoch, "the epoch is kept from the first ask");
  });

  test("replays every record after a message or a position, in order", async (broker) => {
    await started(broker);
    const records = [];
    for (const body of ["m1", "m2", "m3", "m4"]) records.push(await recorded(broker, "FI", body));
    const [, second, third, fourth] = records;
    const expected = [
      { offset: 3, fingerprint: third!.fingerprint, body: "m3" },
      { offset: 4, fingerprint: fourth!.fingerprint, body: "m4" },
    ];
    const byMessage = await broker.recover("FI", after(second!.fingerprint));
    assert.equal(byMessage.recovered, true);
    assert.deepEqual(byMessage.entries, expected);
    assert.deepEqual(byMessage.position, { epoch: fourth!.epoch, offset: 4 });
    const byPosition = await broker.recover("FI", at({ epoch: second!.epoch, offset: 2 }));
    assert.deepEqual([byPosition.recovered, byPosition.entries], [true, expected]);
    const upToDate = await broker.recover("FI", after(fourth!.fingerprint));
    assert.deepEqual([upToDate.recovered, upToDate.entries], [true, []]);
  });

  test("cannot recover what was trimmed, is unknown, of another epoch, or ahead", async (broker) => {
    await started(broker);
    const records = [];
    for (let i = 1; i <= 8; i++) records.push(await recorded(broker, "CZ", `m${i}`));
    const last = records.at(-1)!;
    const trimmed = await broker.recover("CZ", after(records[1]!.fingerprint));
    assert.deepEqual([trimmed.recovered, trimmed.entries], [false, []], "size 5 keeps 4..8");
    assert.equal(
      (await broker.recover("CZ", at({ epoch: last.epoch, offset: 2 }))).recovered,
      false,
    );
    // m3 itself was trimmed, so "after m3" is unknown as a message; as a position it is covered.
    assert.equal((await broker.recover("CZ", after(records[2]!.fingerprint))).recovered, false);
    const oldest = await broker.recover("CZ", at({ epoch: last.epoch, offset: 3 }));
    assert.deepEqual(oldest.entries.map((entry) => entry.offset), [4, 5, 6, 7, 8]);
    assert.equal(oldest.recovered, true);
    const fromOldestKept = await broker.recover("CZ", after(records[3]!.fingerprint));
    assert.deepEqual(fromOldestKept.entries.map((entry) => entry.offset), [5, 6, 7, 8]);
    assert.equal((await broker.recover("CZ", after("ffffffffffffffff"))).recovered, false);
    const foreign = await broker.recover("CZ", at({ epoch: "zzzzzzzz", offset: 7 }));
    assert.equal(foreign.recovered, false);
    assert.deepEqual(foreign.position, { epoch: last.epoch, offset: 8 });
    assert.equal(
      (await broker.recover("CZ", at({ epoch: last.epoch, offset: 99 }))).recovered,
      false,
    );
  });

  test("drops records older than the history's ttl", async (broker) => {
    await started(broker);
    const first = await recorded(broker, "AE", "old1");
    const second = await recorded(broker, "AE", "old2");
    await delay(400);
    const young = await recorded(broker, "AE", "young");
    assert.equal(
      (await broker.recover("AE", after(first.fingerprint))).recovered,
      false,
      "old2 expired",
    );
    const recent = await broker.recover("AE", at({ epoch: second.epoch, offset: 2 }));
    assert.deepEqual(recent.entries, [{
      offset: 3,
      fingerprint: young.fingerprint,
      body: "young",
    }]);
  }, { ...SETTINGS, history: { size: 5, ttlMs: 300 } });

  test("keeps the de-duplication keys of the window, and at most its capacity", async (broker) => {
    await started(broker);
    const firsts = new Map<string, string>();
    for (const key of ["a", "b", "c", "d"]) {
      firsts.set(key, (await recorded(broker, "CZ", key, key)).fingerprint);
    }
    await recorded(broker, "CZ", "a again", "a");
    const keys = await broker.recentKeys("CZ");
    // Capacity 3: the oldest go first. (Redis orders keys seen in the same millisecond by name,
    // so which of a and b survives may vary; the newest survive.)
    assert.equal(keys.length, 3, "capacity 3");
    for (const key of ["c", "d"]) assert.ok(keys.some((entry) => entry.key === key), key);
    for (const entry of keys) {
      assert.ok(entry.ageMs >= 0 && entry.ageMs < 5000, String(entry.ageMs));
    }
    // c and d were never forgotten: their first sighting is their only one.
    for (const key of ["c", "d"]) {
      const entry = keys.find((candidate) => candidate.key === key);
      assert.equal(entry?.firstFingerprint, firsts.get(key), `the first sighting of ${key}`);
    }
    assert.deepEqual(await broker.recentKeys("FI"), []);
  });

  test("with a window of 0 keeps no de-duplication keys", async (broker) => {
    await started(broker);
    await recorded(broker, "AE", "one", "v");
    assert.deepEqual(await broker.recentKeys("AE"), []);
  }, { ...SETTINGS, dedupe: { windowMs: 0, capacity: 3 } });

  test("closes idempotently and reports closed", async (broker) => {
    const { states } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    await broker.close();
    await broker.close();
    assert.equal(broker.state, "closed");
    assert.equal(states.filter((state) => state === "closed").length, 1);
  });
}
