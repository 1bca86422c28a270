import assert from "node:assert/strict";
import { QueuedBytesLimit } from "../../../lib/delivery/queued_bytes_limit.ts";
import { SharedQueuedBytes } from "../../../lib/delivery/shared_queued_bytes.ts";
import { FakeClients } from "../../support/fake_socket.ts";

const KIB = 1024;

Deno.test("under the bound nothing is measured or closed; over it, the biggest queues go first", () => {
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
  budget.handed(16 * KIB, 31);
  budget.check();
  assert.deepEqual(shed, [], "the upper bound (31 x 17 KiB) is under the limit: nothing is read");
  budget.handed(16 * KIB, 90);
  budget.check();
  // 1,620 KiB in 102 frames is 1,724 KiB charged; aim for 900: the 900 KiB client (957 charged)
  // alone brings it to 767.
  assert.deepEqual(shed, [957]);
  assert.deepEqual(clients.closed.map((entry) => entry.code), [4002]);
  assert.equal(budget.measure(), 767 * KIB);
  budget.stop();
  for (const { socket } of open) socket.end(1000);
});

Deno.test("a worker sheds its share of the process's excess, measured against every worker's", () => {
  const buffer = SharedQueuedBytes.buffer(2);
  new SharedQueuedBytes(buffer, 1).publish(800 * KIB);
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
  // 1,332 KiB in the process (charged), 532 of them here: this worker's share of the 432 over 900
  // is 173, which its largest queue (319 charged) covers.
  assert.deepEqual(shed, [319]);
  assert.equal(new SharedQueuedBytes(buffer, 1).total(), 1013 * KIB);
  budget.stop();
  for (const { socket } of mine) socket.end(1000);
});
