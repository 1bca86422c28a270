import assert from "node:assert/strict";
import { ConnectionWatch } from "../../../lib/brokers/connection_watch.ts";

/** A watch on a fake clock whose pings the test answers by hand. */
function watched() {
  let now = 0;
  const pings: PromiseWithResolvers<void>[] = [];
  const events: string[] = [];
  let ready = true;
  const watch = new ConnectionWatch({
    intervalMs: 1000,
    timeoutMs: 2000,
    now: () => now,
    isReady: () => ready,
    ping: () => {
      const ping = Promise.withResolvers<void>();
      pings.push(ping);
      return ping.promise;
    },
    onSilent: (silentMs) => events.push(`silent after ${silentMs} ms`),
    onHeard: () => events.push("heard"),
  });
  return {
    watch,
    pings,
    events,
    /** Moves the clock to `at` ms and runs one turn of the watch there. */
    tick(at: number) {
      now = at;
      watch.check();
    },
    setReady(value: boolean) {
      ready = value;
    },
  };
}

Deno.test("a connection that answers its pings is never silent, one ping at a time", async () => {
  const { watch, pings, events, tick } = watched();
  tick(1000);
  tick(2000);
  assert.equal(pings.length, 1, "no second ping while one is out");
  pings[0]!.resolve();
  await Promise.resolve();
  tick(3000);
  assert.equal(pings.length, 2);
  assert.equal(watch.silent, false);
  assert.deepEqual(events, []);
});

Deno.test("a ping unanswered past the timeout makes the connection silent, once", () => {
  const { watch, events, tick } = watched();
  tick(1000);
  tick(2999);
  assert.equal(watch.silent, false, "not before the timeout");
  tick(3000);
  tick(4000);
  assert.equal(watch.silent, true);
  assert.deepEqual(events, ["silent after 2000 ms"]);
});

Deno.test("a late answer clears the silence; a new connection forgets the old one's ping", async () => {
  const { watch, pings, events, tick } = watched();
  tick(1000);
  tick(3500);
  pings[0]!.resolve();
  await Promise.resolve();
  assert.equal(watch.silent, false);
  assert.deepEqual(events, ["silent after 2500 ms", "heard"]);
  tick(4000);
  tick(7000);
  assert.equal(watch.silent, true);
  watch.reset();
  assert.equal(watch.silent, false, "the replacement connection starts afresh");
  pings[1]!.resolve();
  await Promise.resolve();
  assert.deepEqual(events.at(-1), "silent after 3000 ms", "the old ping's answer is ignored");
  tick(8000);
  assert.equal(pings.length, 3, "the new connection gets its own ping");
});

Deno.test("nothing is pinged while the connection is down", () => {
  const { pings, tick, setReady } = watched();
  setReady(false);
  tick(1000);
  tick(9000);
  assert.equal(pings.length, 0);
});
