/**
 * One WebSocket connection: its regions, its state, sending and closing. The only module that
 * calls `socket.send` or `socket.close`, so every guard on a socket lives here.
 *
 * @module
 */

/** What happened to one frame handed to {@link Client.send}. */
export const SendOutcome = {
  /** Handed to the socket. */
  Delivered: 0,
  /** Not sent: the socket is not open (yet, or any more). */
  Skipped: 1,
} as const;
/** One of {@link SendOutcome}. */
export type SendOutcome = typeof SendOutcome[keyof typeof SendOutcome];

/** Options of {@link Client}. */
export interface ClientOptions {
  /** Regions the client subscribed to, validated by the handshake. */
  readonly regions: readonly string[];
  /** Address of the peer, for limits and logs. */
  readonly remoteAddress: string;
}

/** One connected browser (or any WebSocket peer). */
export class Client {
  readonly regions: readonly string[];
  readonly remoteAddress: string;
  readonly #socket: WebSocket;
  #open = false;
  #closed = false;

  /**
   * Wraps an upgraded socket. `onOpen` runs once when the handshake completes; `onClose` runs
   * exactly once, however often the runtime reports the close.
   */
  constructor(
    socket: WebSocket,
    options: ClientOptions,
    handlers: {
      readonly onOpen: (client: Client) => void;
      readonly onClose: (client: Client) => void;
    },
  ) {
    this.#socket = socket;
    this.regions = options.regions;
    this.remoteAddress = options.remoteAddress;
    socket.onopen = () => {
      this.#open = true;
      handlers.onOpen(this);
    };
    // Deno can report one close twice (a close frame, then the broken TCP connection).
    socket.onclose = () => {
      if (this.#closed) return;
      this.#closed = true;
      this.#open = false;
      handlers.onClose(this);
    };
    // An error is always followed by a close event; nothing to add here.
    socket.onerror = () => {};
  }

  /** Sends one text frame if the socket is open. Never throws, never waits. */
  send(frame: string): SendOutcome {
    if (!this.#open) return SendOutcome.Skipped;
    try {
      this.#socket.send(frame);
      return SendOutcome.Delivered;
    } catch {
      // The runtime closed the socket between our check and the send; its close event follows.
      this.#open = false;
      return SendOutcome.Skipped;
    }
  }

  /** Starts the closing handshake with `code` and `reason`. Idempotent. */
  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing on the runtime's side: the close event will still come.
    }
  }
}
