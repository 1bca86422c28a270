import assert from "node:assert/strict";
import { Audience } from "../../../lib/delivery/audience.ts";
import type { BroadcastResult } from "../../../lib/delivery/audience.ts";
import { FakeClients, type FakeSocket } from "../../support/fake_socket.ts";

const FRAME = '{"id":"AE:00000000000000a1","event":"new_trending","title":"هدف"}';
const BYTES = new TextEncoder().encode(FRAME).byteLength;

function counts(): BroadcastResult {
  return { delivered: 0, skipped: 0, dropped: 0 };
}

/** An audience of `size` open clients with budget `budget`, removing clients as they close. */
function audienceOf(size: number, budget = 4096) {
  const clients = new FakeClients(budget);
  const audience = new Audience(clients.bounds);
  clients.whenClosed = (client) => audience.remove(client);
  const members = Array.from({ length: size }, () => clients.open());
  for (const { client } of members) audience.add(client);
  return { audience, members, clients };
}

function end(sockets: readonly FakeSocket[]) {
  for (const socket of sockets) socket.end(1000);
}

Deno.test("a broadcast hands the same string to every client once and counts it", () => {
  const { audience, members } = audienceOf(3);
  const result = counts();
  audience.broadcast(FRAME, BYTES, result);
  assert.deepEqual(result, { delivered: 3, skipped: 0, dropped: 0 });
  for (const { socket } of members) assert.deepEqual(socket.sent, [FRAME]);
  end(members.map((member) => member.socket));
});

Deno.test("a client closed as slow mid-loop is swapped out: nobody is skipped or served twice", () => {
  const budget = BYTES;
  const { audience, members, clients } = audienceOf(6, budget);
  // The first broadcast fills every budget; the runtime then reports two clients' frames still
  // unwritten, far over twice the budget: the next frame closes them, the others drained.
  audience.broadcast(FRAME, BYTES, counts());
  members[2]!.socket.bufferedAmount = 10 * budget;
  members[0]!.socket.bufferedAmount = 10 * budget;
  for (const [i, { socket }] of members.entries()) {
    if (i !== 0 && i !== 2) socket.bufferedAmount = 0;
  }
  const result = counts();
  audience.broadcast(FRAME, BYTES, result);
  audience.broadcast(FRAME, BYTES, result);
  assert.equal(result.dropped, 2);
  assert.equal(result.delivered, 8);
  assert.equal(audience.size, 4);
  for (const [i, { socket }] of members.entries()) {
    const slow = i === 0 || i === 2;
    assert.equal(socket.sent.length, slow ? 1 : 3, `client ${i}`);
  }
  assert.deepEqual(clients.closed.map((entry) => entry.code), [4001, 4001]);
  end(members.map((member) => member.socket));
});

Deno.test("a bound near the budget is measured, and a client that has drained keeps receiving", () => {
  const { audience, members } = audienceOf(1, 2 * BYTES);
  audience.broadcast(FRAME, BYTES, counts());
  audience.broadcast(FRAME, BYTES, counts());
  // The bound says two frames are queued; the socket says they were written.
  members[0]!.socket.bufferedAmount = 0;
  const result = counts();
  audience.broadcast(FRAME, BYTES, result);
  assert.deepEqual(result, { delivered: 1, skipped: 0, dropped: 0 });
  assert.equal(members[0]!.socket.sent.length, 3);
  end(members.map((member) => member.socket));
});

Deno.test("removing a client that is not there changes nothing; sizes follow adds and removes", () => {
  const { audience, members, clients } = audienceOf(2);
  const stranger = clients.open();
  audience.remove(stranger.client);
  assert.equal(audience.size, 2);
  audience.remove(members[0]!.client);
  assert.equal(audience.size, 1);
  assert.deepEqual(audience.clients, [members[1]!.client]);
  end([...members.map((member) => member.socket), stranger.socket]);
});
