/**
 * The behaviour every {@link Broker} must have, as one suite run against each implementation
 * (`broker_memory_test.ts`, `broker_redis_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Broker, BrokerState } from "../lib/broker.ts";
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

/** Registers the contract tests for the broker that `create` builds (regions AE, FI, CZ). */
export function brokerContract(name: string, create: () => Promise<BrokerFixture>): void {
  const test = (what: string, fn: (fixture: BrokerFixture) => Promise<void> | void) =>
    Deno.test(`${name} broker ${what}`, async () => {
      const fixture = await create();
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

  test("closes idempotently and reports closed", async ({ broker }) => {
    const { states } = record(broker);
    await waitFor(() => broker.state === "ready", { what: "ready" });
    await broker.close();
    await broker.close();
    assert.equal(broker.state, "closed");
    assert.equal(states.filter((state) => state === "closed").length, 1);
  });
}
