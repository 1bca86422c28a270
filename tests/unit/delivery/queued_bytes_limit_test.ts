import assert from "node:assert/strict";
import type { Backlog } from "../../../lib/delivery/backlog_rule.ts";
import { QueuedBytesLimit } from "../../../lib/delivery/queued_bytes_limit.ts";
import { SharedQueuedBytes } from "../../../lib/delivery/shared_queued_bytes.ts";
import { FakeClients } from "../../support/fake_socket.ts";
import { delay } from "../../support/wait.ts";

const KIB = 1024;

/** Clients with these queues (KiB), and a limit of `maxKib` over them that records what it sheds. */
function setUp(
  queuesKib: number[],
  maxKib: number,
  options: { board?: SharedQueuedBytes; backlog?: () => Backlog; now?: () => number } = {},
) {
  const board = options.board ?? SharedQueuedBytes.single();
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
    onShed: (_client, queued) => shed.push(Math.round(queued / KIB)),
    backlog: options.backlog ?? (() => ({ waiting: 0, ageMs: 0 })),
    overloadLagMs: 10_000,
    ...(options.now !== undefined && { now: options.now }),
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

Deno.test("broadcasts wait past a quarter of this worker's part of the bound, and go again under an eighth", async () => {
  // Two workers: this one's part of 1,000 KiB is 500, so the gate closes past 125 KiB.
  const board = new SharedQueuedBytes(SharedQueuedBytes.buffer(2), 0);
  const { limit, queue, end } = setUp([80, 60], 1000, { board });
  assert.ok(limit.hasRoom(), "nothing handed: nothing is even measured");
  limit.handed(16 * KIB, 4);
  assert.ok(limit.hasRoom(), "the upper bound (68 KiB) is under the mark");
  limit.handed(16 * KIB, 4);
  assert.equal(
    limit.hasRoom(),
    false,
    "136 KiB handed; measured, 149 KiB with the frames' kilobyte",
  );
  queue(0, 30);
  queue(1, 20);
  assert.equal(limit.hasRoom(), false, "measured again only 25 ms later");
  await delay(30);
  assert.ok(limit.hasRoom(), "54 KiB charged is under an eighth (62.5)");
  end();
});

/** A limit over `queues` (KiB) whose backlog and clock the test sets at each check. */
function withBacklog(queues: number[]) {
  const state = { now: 0, backlog: { waiting: 0, ageMs: 0 } };
  const setup = setUp(queues, 100_000, { backlog: () => state.backlog, now: () => state.now });
  setup.limit.handed(16 * KIB, 1);
  /** Checks at `ms` with `waiting` publications, the oldest since `since` ms. */
  const checkAt = (ms: number, waiting: number, since: number) => {
    state.now = ms;
    state.backlog = { waiting, ageMs: ms - since };
    setup.limit.check();
  };
  return { ...setup, checkAt };
}

Deno.test("a stalled backlog (nothing written for 2 s) ageing past 2 s that has not shrunk sheds an eighth of the clients with something queued, biggest first, every half second", () => {
  // Sixteen queues of 10 to 160 KiB and two empty ones, far under the bound.
  const queues = [0, 0, ...Array.from({ length: 16 }, (_, i) => 10 * (i + 1))];
  const { shed, end, checkAt } = withBacklog(queues);
  // Publications come faster than they go: ten more every half second.
  for (let ms = 0; ms <= 2000; ms += 500) checkAt(ms, 10 + ms / 50, 0);
  assert.deepEqual(shed, [], "2 s old: a moment's pause");
  checkAt(2500, 60, 0);
  // Two of sixteen: the 160 and 150 KiB queues, each charged a kilobyte per 16 KiB frame.
  assert.deepEqual(shed, [170, 160]);
  checkAt(2800, 63, 0);
  assert.equal(shed.length, 2, "half a second for the last shedding to take effect");
  checkAt(3000, 65, 0);
  assert.deepEqual(shed, [170, 160, 149, 139], "still growing: two more of the fourteen left");
  end();
});

Deno.test("a pile that came at once is no overload: however old, while it shrinks nobody is closed", () => {
  const { shed, end, checkAt } = withBacklog([0, 40, 80, 120]);
  // A producer's batch of 400 publications at 0 ms, written 40 every half second, in bursts
  // (the gate opens and closes): some checks see no change.
  for (let ms = 0; ms <= 5000; ms += 250) checkAt(ms, 400 - 40 * Math.floor(ms / 500), 0);
  assert.deepEqual(shed, [], "5 s old at the end, always fewer than 2 s before");
  end();
});

Deno.test("a backlog that stopped ageing (the clients left keep up) sheds no more; one that ages again does", () => {
  const { shed, end, checkAt } = withBacklog([0, 40, 80, 120]);
  for (let ms = 0; ms <= 2500; ms += 500) checkAt(ms, 20, 0);
  assert.deepEqual(shed, [128], "nothing written for 2.5 s: the most queued goes");
  // As many come as leave now: 2.5 s late, no older. (No broadcast is handed in this test: the
  // 2 s of a stalled backlog apply throughout.)
  for (let ms = 3000; ms <= 5000; ms += 500) checkAt(ms, 20, ms - 2500);
  assert.deepEqual(shed, [128]);
  checkAt(5500, 20, 2000);
  assert.deepEqual(shed, [128, 85], "older than at the last shedding: the next goes");
  end();
});

Deno.test("a backlog ageing while broadcasts still go out is an overload: nobody is closed before it is 10 s old (OVERLOAD_LAG_SECONDS), then the most queued go", () => {
  const { limit, shed, end, checkAt } = withBacklog([0, 40, 80, 120]);
  // Publications come faster than they are written: 10 more wait every half second, while one
  // broadcast goes out at each check.
  for (let ms = 0; ms <= 10_000; ms += 500) {
    limit.handed(16 * KIB, 3);
    checkAt(ms, 10 + ms / 50, 0);
  }
  assert.deepEqual(shed, [], "10 s late, every viewer still served");
  limit.handed(16 * KIB, 3);
  checkAt(10_500, 220, 0);
  assert.deepEqual(shed, [128], "older than the lag allowed: an eighth (one of three) goes");
  end();
});

Deno.test("an overloaded backlog whose broadcasts stop going out is stalled: 2 s later clients are shed", () => {
  const { limit, shed, end, checkAt } = withBacklog([0, 40, 80, 120]);
  for (let ms = 0; ms <= 3000; ms += 500) {
    limit.handed(16 * KIB, 3);
    checkAt(ms, 10 + ms / 50, 0);
  }
  assert.deepEqual(shed, [], "3 s late but written: an overload, within its lag");
  for (let ms = 3500; ms <= 4500; ms += 500) checkAt(ms, 70 + (ms - 3000) / 50, 0);
  assert.deepEqual(shed, [], "nothing written for 1.5 s: within the window");
  checkAt(5000, 110, 0);
  assert.deepEqual(shed, [128], "nothing written for 2 s: stalled, the most queued goes");
  end();
});
