/**
 * The two connections a {@link Client} can hold, a WebSocket or an event stream
 * (`event_stream.ts`), and the one thing done differently to each: letting go of it at once.
 *
 * @module
 */

import { EventStreamSocket } from "./event_stream.ts";
import { terminate } from "./runtime_socket.ts";

/** How a client is connected: a WebSocket, or a Server-Sent Events stream. */
export type ClientSocket = WebSocket | EventStreamSocket;

/** The transport of a {@link ClientSocket}, as metrics and logs name it. */
export type Transport = "websocket" | "sse";

/** The transport of `socket`. */
export function transportOf(socket: ClientSocket): Transport {
  return socket instanceof EventStreamSocket ? "sse" : "websocket";
}

/** Drops `socket`'s connection now, freeing what the runtime holds for it; never throws. */
export function dropConnection(socket: ClientSocket): void {
  if (socket instanceof EventStreamSocket) socket.terminate();
  else terminate(socket);
}
