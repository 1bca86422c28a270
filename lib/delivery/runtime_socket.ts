/**
 * What Deno's WebSocket cannot do through its public API: let go of a connection at once.
 *
 * `close()` sends a close frame and then waits for the peer's, reading on meanwhile. A peer that
 * never answers keeps everything the runtime holds for it: what is queued for it to read (a
 * stalled reader), and what it is sending (the runtime collects a whole message before JavaScript
 * sees any of it, up to 64 MiB in one frame and without limit in fragments). Worse, a socket that
 * is closing is no longer watched by the idle timeout, whose own way out is the one used here:
 * closing the socket's resource (Deno's `01_websocket.js` does this when a ping goes unanswered).
 * Measured on Deno 2.9.6: a connection holding 100 MB of an unfinished message kept it after
 * `close()` for as long as it stayed connected; closing its resource gave the memory back at once.
 * What it cannot free is a stalled reader's queue: each frame is written by a task of the
 * runtime's own that holds the connection until the peer takes the frame or the connection ends
 * (tests/integration/stalled_peer_test.ts).
 *
 * The runtime exposes neither the resource id nor a way to close it, so both are found the way
 * Deno's own code keeps them (an own symbol of the socket, the internal `core`). If a later Deno
 * changes that, {@link terminate} says so by returning `false` and the gateway falls back to
 * `close()`; `tests/unit/delivery/runtime_socket_test.ts` fails first, on the pinned version.
 *
 * @module
 */

interface RuntimeCore {
  tryClose(rid: number): void;
}

/** Deno's internal `core`, if this runtime exposes it as Deno 2.9 does. */
function runtimeCore(): RuntimeCore | undefined {
  const internal = Reflect.get(Deno, "internal");
  const internals: unknown = typeof internal === "symbol" ? Reflect.get(Deno, internal) : undefined;
  const core: unknown = typeof internals === "object" && internals !== null
    ? Reflect.get(internals, "core")
    : undefined;
  if (typeof core !== "object" || core === null) return undefined;
  const tryClose: unknown = Reflect.get(core, "tryClose");
  return typeof tryClose === "function"
    ? { tryClose: (rid) => Reflect.apply(tryClose, core, [rid]) }
    : undefined;
}

const CORE = runtimeCore();

/** The resource id Deno keeps on a WebSocket, under its own `[[rid]]` symbol. */
function resourceId(socket: WebSocket): number | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((symbol) =>
    symbol.description === "[[rid]]"
  );
  const rid: unknown = key === undefined ? undefined : Reflect.get(socket, key);
  return typeof rid === "number" ? rid : undefined;
}

/**
 * Drops `socket`'s connection now, freeing what the runtime holds for it; its `close` event
 * follows (code 1005). Returns `false` when this runtime offers no way to, having closed it the
 * public way instead. Never throws.
 */
export function terminate(socket: WebSocket): boolean {
  const rid = resourceId(socket);
  if (CORE === undefined || rid === undefined) {
    try {
      socket.close();
    } catch {
      // Already closing.
    }
    return false;
  }
  try {
    CORE.tryClose(rid);
  } catch {
    // Closed already.
  }
  return true;
}
