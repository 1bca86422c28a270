// @ts-nocheck: run by Node, with this folder's node_modules.
/**
 * A peer of the benchmark: Node with `ws`, as its users write a region fan-out (a server, a map of
 * sockets by region, a node-redis subscriber, a plain send loop), with the same heartbeat as the
 * gateway's default (a ping every 15 s, a dead peer dropped after 30 s). No validation, ids,
 * history or limits.
 *
 * Environment: REDIS_URL, PORT, HOST. Prints one JSON "listening" line.
 */

import { createClient } from "@redis/client";
import { WebSocketServer } from "ws";

const regions = ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"];
const clients = new Map(regions.map((region) => [region, new Set()]));

const subscriber = createClient({
  url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
});
subscriber.on("error", () => {});
await subscriber.connect();
for (const region of regions) {
  await subscriber.subscribe(`tvs:${region}`, (message) => {
    for (const socket of clients.get(region)) {
      if (socket.readyState === 1) socket.send(message);
    }
  });
}

const server = new WebSocketServer(
  {
    host: process.env.HOST ?? "127.0.0.1",
    port: Number(process.env.PORT ?? 8765),
  },
  () =>
    console.log(
      JSON.stringify({ msg: "listening", port: server.address().port }),
    ),
);
server.on("connection", (socket, request) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  const region = (url.searchParams.get("region") ?? "US").toUpperCase();
  socket.alive = true;
  socket.on("pong", () => socket.alive = true);
  socket.on("close", () => clients.get(region)?.delete(socket));
  clients.get(region)?.add(socket);
});
setInterval(() => {
  for (const socket of server.clients) {
    if (!socket.alive) socket.terminate();
    socket.alive = false;
    socket.ping();
  }
}, 15_000);
