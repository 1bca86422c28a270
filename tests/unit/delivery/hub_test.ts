import assert from "node:assert/strict";
import { Hub } from "../../../lib/delivery/hub.ts";
import { messageFrame } from "../../../lib/streams/frames.ts";
import { FakeClients } from "../../support/fake_socket.ts";

const frame = (n: number, region = "AE") =>
  messageFrame(region, n.toString(16).padStart(16, "0"), `{"event":"new_trending","n":${n}}`);

/** A hub of AE, FI and GB whose clients leave it when closed, as the gateway's do. */
function hubOf(options: { readonly maxHeldBytes?: number } = {}) {
  const clients = new FakeClients(65_536);
  const hub = new Hub(["AE", "FI", "GB"], clients.bounds, {
    maxHeldBytes: options.maxHeldBytes ?? 4096,
  });
  clients.whenClosed = (client) => hub.remove(client);
  return { hub, clients };
}

Deno.test("a broadcast reaches the region's live clients and nobody else", () => {
  const { hub, clients } = hubOf();
  const ae = clients.open(["AE"]);
  const both = clients.open(["FI", "AE"]);
  const fi = clients.open(["FI"]);
  for (const { client } of [ae, both, fi]) hub.add(client, { recovering: false });
  const result = hub.broadcast("AE", frame(1));
  assert.deepEqual(result, { delivered: 2, skipped: 0, dropped: 0 });
  assert.deepEqual(ae.socket.sent, [frame(1).text]);
  assert.deepEqual(both.socket.sent, [frame(1).text]);
  assert.deepEqual(fi.socket.sent, []);
  assert.equal(hub.count("AE"), 2);
  assert.equal(hub.count("FI"), 2);
  assert.equal(hub.size, 3);
  assert.equal(hub.all().size, 3, "a client of two regions is one client");
  for (const { socket } of [ae, both, fi]) socket.end(1000);
  assert.equal(hub.size, 0);
  assert.equal(hub.count("AE") + hub.count("FI"), 0);
});

Deno.test("a recovering client holds what is broadcast, gets it in order on going live, then live", () => {
  const { hub, clients } = hubOf();
  const catching = clients.open(["GB"]);
  hub.add(catching.client, { recovering: true });
  assert.equal(hub.count("GB"), 1, "it counts as subscribed while it catches up");
  hub.broadcast("GB", frame(1, "GB"));
  hub.broadcast("GB", frame(2, "GB"));
  assert.deepEqual(catching.socket.sent, [], "nothing is sent during the replay");
  const held = hub.goLive(catching.client, "GB");
  assert.deepEqual(held.map((entry) => entry.text), [frame(1, "GB").text, frame(2, "GB").text]);
  assert.deepEqual(hub.goLive(catching.client, "GB"), [], "live once");
  hub.broadcast("GB", frame(3, "GB"));
  assert.deepEqual(catching.socket.sent, [frame(3, "GB").text]);
  catching.socket.end(1000);
});

Deno.test("a recovering client holding more than its bound is closed as a slow consumer", () => {
  const one = frame(1).bytes;
  const { hub, clients } = hubOf({ maxHeldBytes: 2 * one });
  const catching = clients.open(["AE"]);
  hub.add(catching.client, { recovering: true });
  assert.equal(hub.broadcast("AE", frame(1)).dropped, 0);
  assert.equal(hub.broadcast("AE", frame(2)).dropped, 0);
  assert.equal(hub.broadcast("AE", frame(3)).dropped, 1);
  assert.deepEqual(clients.closed.map((entry) => entry.code), [4001]);
  assert.equal(hub.count("AE"), 0);
  catching.socket.end(4001);
});

Deno.test("clients over event streams get a broadcast beside the WebSocket clients, once each", async () => {
  const { hub, clients } = hubOf();
  const socket = clients.open(["AE"]);
  const stream = await clients.openStream(["AE", "GB"]);
  hub.add(socket.client, { recovering: false });
  hub.add(stream.client, { recovering: false });
  assert.deepEqual(hub.broadcast("AE", frame(1)), { delivered: 2, skipped: 0, dropped: 0 });
  assert.deepEqual(hub.broadcast("FI", frame(2, "FI")), { delivered: 0, skipped: 0, dropped: 0 });
  assert.deepEqual(socket.socket.sent, [frame(1).text]);
  const { value } = await stream.body.read();
  assert.equal(value, `id: ${JSON.parse(frame(1).text).id}\ndata: ${frame(1).text}\n\n`);
  assert.equal(hub.count("AE"), 2);
  assert.equal(hub.sizeOf("sse"), 1);
  assert.equal(hub.sizeOf("websocket"), 1);
  assert.deepEqual([...hub.all()].map((client) => client.transport).sort(), ["sse", "websocket"]);
  stream.client.close({ code: 1000, reason: "done" });
  assert.equal(hub.sizeOf("sse"), 0);
  await stream.body.cancel();
});
