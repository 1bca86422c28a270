// @ts-nocheck: run by Bun (this folder's node_modules/.bin/bun).
/**
 * A peer of the benchmark: Bun as its users write a region fan-out: `Bun.serve` with a WebSocket
 * handler whose sockets subscribe to their region's topic, Bun's own Redis client, and
 * `server.publish` per message, so the frame is written once for the topic in native code (uWebSockets
 * corks it per socket). The same idle timeout as the gateway's default. No validation, ids,
 * history or limits.
 *
 * Environment: REDIS_URL, PORT, HOST. Prints one JSON "listening" line.
 */

import { RedisClient } from "bun";

const regions = ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"];

const server = Bun.serve({
  hostname: process.env.HOST ?? "127.0.0.1",
  port: Number(process.env.PORT ?? 8765),
  fetch(request, server) {
    const region = (new URL(request.url).searchParams.get("region") ?? "US")
      .toUpperCase();
    if (server.upgrade(request, { data: { region } })) return;
    return new Response("WebSocket only", { status: 426 });
  },
  websocket: {
    idleTimeout: 30,
    open(socket) {
      socket.subscribe(socket.data.region);
    },
    message() {},
  },
});

const subscriber = new RedisClient(
  process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
);
for (const region of regions) {
  await subscriber.subscribe(
    `tvs:${region}`,
    (message) => server.publish(region, message),
  );
}
console.log(JSON.stringify({ msg: "listening", port: server.port }));
