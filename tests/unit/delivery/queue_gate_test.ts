import assert from "node:assert/strict";
import { QueueGate } from "../../../lib/delivery/queue_gate.ts";

/** A gate over queues of `queued` bytes (a bound of 1,000: it closes past 250, opens under 125). */
function gateOver(initial: number) {
  const state = { now: 0, queued: initial, reads: 0 };
  const gate = new QueueGate({
    boundBytes: () => 1000,
    upperBound: () => state.queued,
    measure: () => {
      state.reads++;
      return state.queued;
    },
    now: () => state.now,
  });
  /** Whether a broadcast may go at `ms`, the queues then holding `queued`. */
  const at = (ms: number, queued: number) => {
    state.now = ms;
    state.queued = queued;
    return gate.hasRoom();
  };
  return { state, at, gate };
}

Deno.test("a closed gate measures again sooner the nearer the queues drain to the mark, and opens under it", () => {
  const { state, at } = gateOver(100);
  assert.ok(at(0, 100), "under the mark: open, nothing read");
  assert.equal(state.reads, 0);
  assert.equal(at(0, 300), false, "past a quarter: measured, closed");
  assert.equal(state.reads, 1);
  assert.equal(at(10, 290), false);
  assert.equal(state.reads, 1, "not measured again within 25 ms");
  // 20 bytes in 25 ms: 0.8 a millisecond, 155 to go to the mark, so half of 194 ms from now.
  assert.equal(at(25, 280), false);
  assert.equal(state.reads, 2);
  assert.equal(at(100, 220), false);
  assert.equal(state.reads, 2, "the queues cannot have reached the mark yet");
  assert.equal(at(122, 190), false);
  assert.equal(state.reads, 3);
  // 90 in 97 ms, 65 to go: a little over 35 ms; then the floor of 25 ms near the mark.
  assert.equal(at(150, 170), false);
  assert.equal(state.reads, 3);
  assert.equal(at(158, 150), false);
  assert.equal(state.reads, 4);
  assert.equal(at(180, 130), false);
  assert.equal(state.reads, 4);
  assert.ok(at(183, 120), "under an eighth: open again");
  assert.equal(state.reads, 5);
});

Deno.test("queues that do not drain are read every 200 ms, not every 25", () => {
  const { state, at } = gateOver(0);
  assert.equal(at(0, 400), false);
  assert.equal(at(25, 400), false);
  assert.equal(state.reads, 2);
  for (let ms = 50; ms < 225; ms += 25) at(ms, 400);
  assert.equal(state.reads, 2, "nothing drained: no read before 200 ms more");
  assert.equal(at(225, 400), false);
  assert.equal(state.reads, 3);
  assert.ok(at(425, 100), "once they drain, the next read finds it and opens");
});

Deno.test("told that clients were closed, a closed gate measures at its next ask, not 200 ms later", () => {
  const { state, at, gate } = gateOver(0);
  assert.equal(at(0, 400), false);
  assert.equal(at(25, 400), false);
  assert.equal(state.reads, 2, "nothing drained: the next read would be at 225 ms");
  gate.measureSoon();
  assert.ok(at(30, 100), "the closed clients' queues are gone: open again");
  assert.equal(state.reads, 3);
});
