import assert from "node:assert/strict";
import { PublicationPacer, type TurnScheduler } from "../../../lib/gateway/publications.ts";

/** Event-loop turns driven by hand: `turn()` ends the current one and runs the next. */
function handTurns() {
  const ending: (() => void)[] = [];
  const next: (() => void)[] = [];
  const later: (() => void)[] = [];
  const turns: TurnScheduler = {
    atEndOfTurn: (callback) => ending.push(callback),
    inNextTurn: (callback) => next.push(callback),
    after: (callback) => later.push(callback),
  };
  return {
    turns,
    /** Ends this turn, then runs what was scheduled for the next; returns how many ran. */
    turn(): number {
      for (const callback of ending.splice(0)) callback();
      const due = next.splice(0);
      for (const callback of due) callback();
      return due.length;
    },
    /** Runs what waits for a delay (the pacer asking again for room); returns how many ran. */
    later(): number {
      const due = later.splice(0);
      for (const callback of due) callback();
      return due.length;
    },
  };
}

/**
 * A pacer of `bytesPerTurn` payload bytes (and `handedPerTurn` handed, each publication handing
 * its payload to ten sockets) that records what it handles, payloads named by their first byte.
 */
function pacer(bytesPerTurn: number, handedPerTurn = Infinity, room = () => true) {
  const clock = handTurns();
  const handled: string[] = [];
  const pacing = new PublicationPacer(
    { payloadBytes: bytesPerTurn, handedBytes: handedPerTurn },
    (region, payload) => {
      handled.push(`${region}${payload[0]}`);
      return 10 * payload.byteLength;
    },
    { turns: clock.turns, room },
  );
  const payload = (name: number, bytes: number) => {
    const data = new Uint8Array(bytes);
    data[0] = name;
    return data;
  };
  return { pacing, handled, payload, turn: clock.turn, later: clock.later };
}

Deno.test("nothing is handled before the release; then everything, in order", () => {
  const { pacing, handled, payload, turn } = pacer(1000);
  pacing.push("AE", payload(1, 10));
  pacing.push("FI", payload(2, 10));
  assert.equal(turn(), 0, "held: no turn is even scheduled");
  assert.deepEqual(handled, []);
  pacing.release();
  assert.deepEqual(handled, ["AE1", "FI2"]);
  pacing.push("AE", payload(3, 10));
  assert.deepEqual(handled, ["AE1", "FI2", "AE3"], "after the release, at once");
});

Deno.test("a turn handles publications up to its allowance; the rest go, in order, in later turns", () => {
  const { pacing, handled, payload, turn } = pacer(100);
  pacing.release();
  for (let i = 1; i <= 7; i++) pacing.push("AE", payload(i, 40));
  // 40 + 40 + 40: the third starts under the allowance, the fourth would not.
  assert.deepEqual(handled, ["AE1", "AE2", "AE3"]);
  turn();
  assert.deepEqual(handled, ["AE1", "AE2", "AE3", "AE4", "AE5", "AE6"]);
  turn();
  assert.deepEqual(handled.length, 7);
  assert.equal(turn(), 0, "nothing left to schedule");
});

Deno.test("a publication over the allowance still goes, alone in its turn", () => {
  const { pacing, handled, payload, turn } = pacer(100);
  pacing.release();
  pacing.push("GB", payload(1, 500));
  pacing.push("GB", payload(2, 10));
  assert.deepEqual(handled, ["GB1"]);
  turn();
  assert.deepEqual(handled, ["GB1", "GB2"]);
});

Deno.test("what arrives while a backlog waits queues behind it; hold() holds again", () => {
  const { pacing, handled, payload, turn } = pacer(50);
  pacing.release();
  pacing.push("AE", payload(1, 60));
  pacing.push("AE", payload(2, 10));
  turn();
  pacing.push("AE", payload(3, 10));
  assert.deepEqual(handled, ["AE1", "AE2", "AE3"], "a fresh turn takes the newcomer at once");
  pacing.hold();
  pacing.push("AE", payload(4, 10));
  turn();
  assert.deepEqual(handled.length, 3);
  pacing.release();
  assert.deepEqual(handled, ["AE1", "AE2", "AE3", "AE4"]);
});

Deno.test("a turn also stops at its allowance of bytes handed to sockets, the rest in order after", () => {
  const { pacing, handled, payload, turn } = pacer(1_000_000, 250);
  pacing.release();
  // Each hands 100 bytes: the third passes 250 and ends the turn.
  for (let i = 1; i <= 5; i++) pacing.push("AE", payload(i, 10));
  assert.deepEqual(handled, ["AE1", "AE2", "AE3"]);
  turn();
  assert.deepEqual(handled, ["AE1", "AE2", "AE3", "AE4", "AE5"]);
});

Deno.test("while the queues have no room, publications wait, in order, and the pacer asks again later", () => {
  let room = false;
  const { pacing, handled, payload, turn, later } = pacer(1000, Infinity, () => room);
  pacing.release();
  pacing.push("AE", payload(1, 10));
  pacing.push("FI", payload(2, 10));
  assert.deepEqual(handled, []);
  assert.equal(turn(), 0, "no busy turn while there is no room");
  assert.equal(pacing.backlog().waiting, 2);
  assert.equal(later(), 1, "one retry after a delay");
  assert.deepEqual(handled, []);
  room = true;
  later();
  assert.deepEqual(handled, ["AE1", "FI2"]);
  assert.deepEqual(pacing.backlog(), { waiting: 0, ageMs: 0 }, "no backlog once everything went");
});
