import assert from "node:assert/strict";
import { QueuedBytesLimit } from "../../../lib/delivery/queued_bytes_limit.ts";
import { SharedQueuedBytes } from "../../../lib/delivery/shared_queued_bytes.ts";
import { FakeClients } from "../../support/fake_socket.ts";

const KIB = 1024;

Deno.test("under half the bound nothing is measured or closed; past it, the biggest queues go first", () => {
  const clients = new FakeClients(1024 * KIB);
  const open = [100, 900, 20, 600].map((kib) => {
    const member = clients.open();
    member.socket.bufferedAmount = kib * KIB;
    return member;
  });
  const shed: number[] = [];
  const budget = new QueuedBytesLimit({
    maxBytes: 1000 * KIB,
    shared: new SharedQueuedBytes(SharedQueuedBytes.buffer(1), 0),
    clients: () => open.filter(({ client }) => client.open).map(({ client }) => client),
    onShed: (_client, queued) => shed.push(queued / KIB),
  });
  // Frames of 16 KiB, each charged 1 KiB more for what the runtime keeps beside it.
  budget.handed(16 * KIB, 20);
  budget.check();
  assert.deepEqual(
    shed,
    [],
    "the upper bound (20 x 17 KiB) is under half the limit: nothing is read",
  );
  budget.handed(16 * KIB, 90);
  budget.check();
  // 1,620 KiB in 104 frames is 1,724 KiB charged, 1,224 over half the bound: the 900 KiB client
  // (957 charged) and the 600 KiB one (638) cover it.
  assert.deepEqual(shed, [957, 638]);
  assert.deepEqual(clients.closed.map((entry) => entry.code), [4002, 4002]);
  // Their queues are still in memory until their peers read them: still counted, fading.
  assert.ok(budget.measure() > 1700 * KIB);
  budget.stop();
  for (const { socket } of open) socket.end(1000);
});

Deno.test("a worker sheds what its own queues grew by, never again for what it already shed", () => {
  const buffer = SharedQueuedBytes.buffer(2);
  new SharedQueuedBytes(buffer, 1).publish(200 * KIB);
  const clients = new FakeClients(1024 * KIB);
  const mine = [300, 200].map((kib) => {
    const member = clients.open();
    member.socket.bufferedAmount = kib * KIB;
    return member;
  });
  const shed: number[] = [];
  const budget = new QueuedBytesLimit({
    maxBytes: 1000 * KIB,
    shared: new SharedQueuedBytes(buffer, 0),
    clients: () => mine.filter(({ client }) => client.open).map(({ client }) => client),
    onShed: (_client, queued) => shed.push(queued / KIB),
  });
  budget.handed(16 * KIB, 36);
  budget.check();
  // 732 KiB in the process (charged), 532 of them here: 232 over half the bound, which this
  // worker's largest queue (319 charged) covers.
  assert.deepEqual(shed, [319]);
  budget.handed(16 * KIB, 1);
  budget.check();
  // Still over half with what the shed queue holds, but the open queues did not grow.
  assert.deepEqual(shed, [319]);
  budget.stop();
  for (const { socket } of mine) socket.end(1000);
});
