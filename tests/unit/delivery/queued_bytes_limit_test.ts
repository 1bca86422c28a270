import assert from "node:assert/strict";
import { QueuedBytesLimit } from "../../../lib/delivery/queued_bytes_limit.ts";
import { SharedQueuedBytes } from "../../../lib/delivery/shared_queued_bytes.ts";
import { FakeClients } from "../../support/fake_socket.ts";

const KIB = 1024;

/** Clients with these queues (KiB), and a limit of `maxKib` over them that records what it sheds. */
function setUp(queuesKib: number[], maxKib: number, board = SharedQueuedBytes.single()) {
  const clients = new FakeClients(4096 * KIB);
  const members = queuesKib.map((kib) => {
    const member = clients.open();
    member.socket.bufferedAmount = kib * KIB;
    return member;
  });
  const shed: number[] = [];
  const limit = new QueuedBytesLimit({
    maxBytes: maxKib * KIB,
    shared: board,
    clients: () => members.filter(({ client }) => client.open).map(({ client }) => client),
    onShed: (_client, queued) => shed.push(queued / KIB),
  });
  const queue = (index: number, kib: number) => members[index]!.socket.bufferedAmount = kib * KIB;
  const end = () => {
    limit.stop();
    for (const { socket } of members) socket.end(1000);
  };
  return { clients, limit, shed, queue, end };
}

Deno.test("under a quarter of the bound nothing is measured; over the whole of it, the biggest queues go at once", () => {
  const { clients, limit, shed, end } = setUp([100, 900, 20, 600], 1000);
  // Frames of 16 KiB, each charged 1 KiB more for what the runtime keeps beside it.
  limit.handed(16 * KIB, 10);
  limit.check();
  assert.deepEqual(shed, [], "the upper bound (10 x 17 KiB) is under a quarter: nothing is read");
  limit.handed(16 * KIB, 90);
  limit.check();
  // 1,620 KiB in 104 frames is 1,724 KiB charged, 724 over the bound: the 900 KiB client (957
  // charged) covers it.
  assert.deepEqual(shed, [957]);
  assert.deepEqual(clients.closed.map((entry) => entry.code), [4002]);
  // Its queue is still in memory until its peer reads it: still counted, fading.
  assert.ok(limit.measure() > 1700 * KIB);
  end();
});

Deno.test("past a quarter of the bound, what the queues grew by is shed from the clients that fell behind, never from a reader that drains", () => {
  const { limit, shed, queue, end } = setUp([100, 300], 1000);
  limit.handed(16 * KIB, 30);
  limit.check();
  assert.deepEqual(shed, [], "one look tells nobody's pace");
  // The first falls behind (100 -> 200 KiB); the second, though it holds more, drains (300 -> 280).
  queue(0, 200);
  queue(1, 280);
  limit.handed(16 * KIB, 10);
  limit.check();
  // 426 KiB charged, then 511: grown by 85, which the one behind (213 charged) covers.
  assert.deepEqual(shed, [213]);
  end();
});

Deno.test("a worker sheds for its own growth only, and never again for what it already shed", () => {
  const buffer = SharedQueuedBytes.buffer(2);
  new SharedQueuedBytes(buffer, 1).publish(100 * KIB);
  const { limit, shed, queue, end } = setUp([300, 60], 1000, new SharedQueuedBytes(buffer, 0));
  limit.handed(16 * KIB, 36);
  limit.check();
  queue(0, 400);
  limit.handed(16 * KIB, 10);
  limit.check();
  // Here 383 KiB charged, then 489: grown by 106, which the queue behind (425 charged) covers.
  assert.deepEqual(shed, [425]);
  limit.handed(16 * KIB, 1);
  limit.check();
  // Past a quarter still with what the shed queue holds, but the open queues did not grow.
  assert.deepEqual(shed, [425]);
  end();
});
