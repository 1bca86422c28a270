/**
 * The baseline: the design card's shape written as simply as possible (Deno.serve, upgrade into a
 * region map, an npm redis subscriber, a plain send loop). No validation, ids, history, limits,
 * de-duplication or metrics. The benchmark measures tvs-realtime against it in the same run.
 *
 * One option beyond the plainest code: the same 30 s idle timeout as the gateway's default. Dead
 * peers must be dropped by any gateway (issue 4), and heartbeats are not free: at 10,000 idle
 * connections, pings every 15 s cost 7% of a core here against 0.7% with Deno's default 120 s.
 * Equal heartbeats keep that out of the comparison of fan-out work.
 *
 * Environment: REDIS_URL, PORT, HOST. Prints one JSON "listening" line, as the gateway does.
 *
 * @module
 */

import { createClient } from "@redis/client";

const regions = ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"];
const clients = new Map(regions.map((region) => [region, new Set<WebSocket>()]));

const subscriber = createClient({ url: Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379" });
subscriber.on("error", () => {});
await subscriber.connect();
for (const region of regions) {
  await subscriber.subscribe(`tvs:${region}`, (message: string) => {
    for (const socket of clients.get(region)!) {
      if (socket.readyState === WebSocket.OPEN) socket.send(message);
    }
  });
}

Deno.serve({
  port: Number(Deno.env.get("PORT") ?? 8765),
  hostname: Deno.env.get("HOST") ?? "127.0.0.1",
  onListen: ({ port }) => console.log(JSON.stringify({ msg: "listening", port })),
}, (request) => {
  // The client library asks over plain HTTP why a handshake failed (the server was down).
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("WebSocket only", { status: 426 });
  }
  const region = (new URL(request.url).searchParams.get("region") ?? "US").toUpperCase();
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 30 });
  socket.onopen = () => clients.get(region)?.add(socket);
  socket.onclose = () => clients.get(region)?.delete(socket);
  return response;
});
