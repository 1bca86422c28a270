import assert from "node:assert/strict";
import { HEARD_WITHIN_MS, MemoryLimit, sheddingOrder } from "../../../lib/delivery/memory_limit.ts";
import { delay } from "../../support/wait.ts";
import { FakeClients } from "../../support/fake_socket.ts";

const MIB = 1_048_576;

/** Four clients opened one after another; the oldest has pinged since. */
async function fourClients() {
  const clients = new FakeClients(MIB);
  const members = [];
  for (let i = 0; i < 4; i++) {
    members.push(clients.open());
    await delay(2);
  }
  const pingedAt = performance.now();
  members[0]!.socket.dispatchEvent(new MessageEvent("message", { data: '{"type":"ping"}' }));
  return { clients, members, pingedAt };
}

Deno.test("clients not heard lately go first, newest first; those heard lately go last", async () => {
  const { members, pingedAt } = await fourClients();
  const [a, b, c, d] = members.map((member) => member.client);
  assert.deepEqual(sheddingOrder([a!, b!, c!, d!], pingedAt), [d, c, b, a]);
  assert.deepEqual(
    sheddingOrder([a!, b!, c!, d!], performance.now() + 1),
    [d, c, b, a],
    "heard by nobody since: by age alone",
  );
  for (const { socket } of members) socket.end(1000);
});

Deno.test("over the bound one client goes per check while memory falls, twice as many when not", async () => {
  const { clients, members, pingedAt } = await fourClients();
  let resident = 300 * MIB;
  const shed: number[] = [];
  const limit = new MemoryLimit({
    maxBytes: 200 * MIB,
    clients: () => members.filter(({ client }) => client.open).map(({ client }) => client),
    onShed: (_client, bytes) => shed.push(bytes / MIB),
    residentBytes: () => resident,
    now: () => pingedAt + HEARD_WITHIN_MS,
  });
  limit.check();
  assert.deepEqual(clients.closed.map(({ code }) => code), [4003]);
  assert.equal(members[3]!.client.open, false, "the newest of those not heard");
  limit.check();
  assert.equal(clients.closed.length, 3, "memory did not fall: two this time");
  resident = 250 * MIB;
  limit.check();
  assert.equal(clients.closed.length, 4, "it fell: one at a time again");
  assert.deepEqual(shed, [300, 300, 300, 250]);
  assert.equal(members[0]!.client.open, false, "the one heard lately went last");
  for (const { socket } of members) socket.end(4003);
});

Deno.test("under the bound nothing is closed", async () => {
  const { clients, members } = await fourClients();
  const limit = new MemoryLimit({
    maxBytes: 200 * MIB,
    clients: () => members.map(({ client }) => client),
    onShed: () => {},
    residentBytes: () => 199 * MIB,
  });
  limit.check();
  assert.deepEqual(clients.closed, []);
  for (const { socket } of members) socket.end(1000);
});
