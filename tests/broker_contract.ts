/**
 * The behaviour every {@link Broker} must have, as one suite run against each implementation
 * (`broker_memory_test.ts`, `broker_redis_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Broker, BrokerState, DedupeOptions } from "../lib/broker.ts";
import { waitFor } from "./support/wait.ts";

/** A broker under test and what it takes to tear it down. */
export interface BrokerFixture {
  readonly broker: Broker;
  /** Releases whatever the fixture started besides the broker. */
  readonly dispose: () => Promise<void>;
}

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

/** Builds a fresh broker for regions AE, FI and CZ with this de-duplication rule. */
export type BrokerFactory = (dedupe: DedupeOptions) => Promise<BrokerFixture>;

const DEDUPE: DedupeOptions = { windowMs: 60_000, capacity: 3 };
const encoder = new TextEncoder();

/** Registers the contract tests for the broker that `create` builds. */
export function brokerContract(name: string, create: BrokerFactory): void {
  const test = (
    what: string,
    fn: (fixture: BrokerFixture) => Promise<void> | void,
    dedupe: DedupeOptions = DEDUPE,
  ) =>
    Deno.test(`${name} broker ${what}`, async () => {
      const fixture = await create(dedupe);
      try {
        await fn(fixture);
      } finally {
        await fixture.broker.close();
        await fixture.dispose();
      }
    });

  test("becomes ready after start", async ({ broker }) => {
    const { states } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    assert.equal(states.at(-1), "ready");
  });

  test("delivers a publication to its region only, byte for byte", async ({ broker }) => {
    const { received } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    const payload = '{"event":"new_trending","title":"Příliš žluťoučký kůň 🐎 مرحبا"}';
    assert.equal(await broker.publish("AE", payload), 1);
    await waitFor(() => received.length === 1, { what: "one publication" });
    assert.equal(received[0]?.region, "AE");
    assert.equal(decoder.decode(received[0]?.payload), payload);
  });

  test("keeps the order of publications of a region", async ({ broker }) => {
    const { received } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    for (let i = 0; i < 50; i++) await broker.publish("FI", `{"event":"n","i":${i}}`);
    await waitFor(() => received.length === 50, { what: "50 publications" });
    assert.deepEqual(
      received.map((entry) => JSON.parse(decoder.decode(entry.payload)).i),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  test("refuses to start twice", ({ broker }) => {
    record(broker);
    assert.throws(() => record(broker), /already started/);
  });

  test("calls a repeated key of a region a duplicate, and other regions' or keys fresh", async ({ broker }) => {
    record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    const append = (region: string, key: string | null, payload: string) =>
      broker.append(region, { payload: encoder.encode(payload), dedupeKey: key });
    assert.equal(await append("AE", "v1", "first"), "fresh");
    assert.equal(await append("AE", "v1", "second"), "duplicate");
    assert.equal(await append("FI", "v1", "third"), "fresh");
    assert.equal(await append("AE", "v2", "fourth"), "fresh");
    assert.equal(await append("AE", null, "fifth"), "fresh");
    assert.equal(await append("AE", null, "sixth"), "fresh");
  });

  test("forgets the oldest keys beyond its capacity", async ({ broker }) => {
    record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    const append = (key: string, payload: string) =>
      broker.append("CZ", { payload: encoder.encode(payload), dedupeKey: key });
    for (const key of ["a", "b", "c", "d"]) assert.equal(await append(key, key), "fresh");
    assert.equal(await append("a", "a again"), "fresh", "a was the oldest of four, capacity 3");
    assert.equal(await append("d", "d again"), "duplicate");
  });

  test("with a window of 0 never calls anything a duplicate", async ({ broker }) => {
    record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    for (const payload of ["one", "two"]) {
      const verdict = await broker.append("AE", {
        payload: encoder.encode(payload),
        dedupeKey: "v",
      });
      assert.equal(verdict, "fresh");
    }
  }, { windowMs: 0, capacity: 3 });

  test("closes idempotently and reports closed", async ({ broker }) => {
    const { states } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    await broker.close();
    await broker.close();
    assert.equal(broker.state, "closed");
    assert.equal(states.filter((state) => state === "closed").length, 1);
  });
}
