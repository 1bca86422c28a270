// The one reach into Deno's internals: if a Deno upgrade changes them, this fails first.
import assert from "node:assert/strict";
import { terminate } from "../../../lib/delivery/runtime_socket.ts";
import { HostilePeer } from "../../support/hostile_ws.ts";
import { waitFor } from "../../support/wait.ts";

Deno.test("terminate drops a socket whose peer holds an unfinished message, and frees it", async () => {
  const { promise: accepted, resolve } = Promise.withResolvers<WebSocket>();
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    resolve(socket);
    return response;
  });
  using peer = await HostilePeer.connect({ port: server.addr.port });
  const sending = peer.sendUnfinished("frame", 8 * 1_048_576);
  const socket = await accepted;
  await waitFor(() => peer.sent >= 4 * 1_048_576, { what: "half the message sent" });
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  assert.equal(terminate(socket), true, "this runtime lets a socket go at once");
  assert.equal((await closed).code, 1005);
  await waitFor(() => peer.isDropped, { what: "the connection dropped" });
  await sending;
});

Deno.test("where the runtime offers no way, terminate falls back to close() and says so", () => {
  const calls: unknown[] = [];
  const standIn = { close: (...args: unknown[]) => calls.push(args) };
  assert.equal(terminate(standIn as unknown as WebSocket), false);
  assert.deepEqual(calls, [[]]);
});
