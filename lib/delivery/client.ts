/**
 * One connection, a WebSocket or an event stream (`client_socket.ts`): its regions, its state,
 * sending, receiving and closing. The one other module that sends, the broadcast loop (`hub.ts`),
 * only sends within the budget below.
 *
 * Slow consumers. Deno keeps every byte queued for a peer that stops reading. So each client has a
 * byte budget, checked through `bufferedAmount` before every send. Deno counts a send as buffered
 * until its write completes, between event-loop turns, so a burst of broadcasts in one turn queues
 * up even for a client that reads at once (at most half the budget: `gateway/publications.ts`).
 * Hence two thresholds: over the budget a client is suspect and keeps receiving; still over it
 * {@link SLOW_CONSUMER_GRACE_MS} later, or over twice the budget at any moment, it is a slow
 * consumer: closed, and out of the registry at once, without waiting for a close event that a
 * stalled peer may never produce. The queue is tracked as an upper bound (last measured
 * `bufferedAmount` plus bytes sent since) in a shared typed array (`send_queues.ts`), so
 * `bufferedAmount` is only read when the bound says the budget might be reached.
 *
 * Letting go. `close()` frees nothing the runtime holds for a peer that does not answer it, so a
 * socket not confirmed by the close timeout is terminated (`runtime_socket.ts`), and a client shed
 * to keep the process's memory bound is terminated soon after its close frame.
 *
 * Inbound limits. A client breaking one leaves the registry at once, its frames are ignored, and
 * its close frame goes out once it is quiet (`inbound_limits.ts`).
 *
 * @module
 */

import { CLOSE_CODES, type CloseCode } from "../client/close_codes.js";
import type { Cursor } from "../brokers/broker.ts";
import { type ClientSocket, dropConnection, type Transport, transportOf } from "./client_socket.ts";
import { Inbound, PONG } from "./inbound_limits.ts";
import type { SendQueues } from "./send_queues.ts";

/** What happened to one frame handed to {@link Client.send}. */
export const SendOutcome = {
  /** Handed to the socket. */
  Delivered: 0,
  /** Not sent: the socket is not open (yet, or any more). */
  Skipped: 1,
  /** Not sent: the client was over its byte budget and is being closed as a slow consumer. */
  Dropped: 2,
} as const;
/** One of {@link SendOutcome}. */
export type SendOutcome = typeof SendOutcome[keyof typeof SendOutcome];

/** How long a client may stay over its byte budget before it is closed as slow, in ms. */
export const SLOW_CONSUMER_GRACE_MS = 100;
/** How long a shed client's close frame has to go out before its connection is dropped, in ms. */
export const SHED_TERMINATE_MS = 100;

/** Why a socket was let go: it confirmed its close, it never did, or it was dropped. */
export type Release = "closed" | "timed_out" | "terminated";

/** What is shared by every client of a gateway: settings and callbacks, created once. */
export interface ClientContext {
  /** Where every open client's queued-bytes bound is kept, and the budget it is held to. */
  readonly queues: SendQueues;
  /** How long a closing socket may take to confirm before it is given up, in ms. */
  readonly closeTimeoutMs: number;
  /** The handshake completed; the client may join the registry. */
  readonly onOpen: (client: Client) => void;
  /** The client left: closed by either side. Exactly once, with the close code. */
  readonly onClose: (client: Client, code: number) => void;
  /**
   * The socket is finished for good: closed, terminated after the close timeout, or dropped when
   * shed. Exactly once, after `onClose`; until then it holds memory and counts against limits.
   */
  readonly onRelease: (client: Client, release: Release) => void;
  /** The client broke an inbound limit and is being closed. */
  readonly onViolation: (client: Client, kind: "too_big" | "flood") => void;
}

/** What is particular to one client. */
export interface ClientOptions {
  /** Regions the client subscribed to, validated by the handshake. */
  readonly regions: readonly string[];
  /** Address of the peer, for limits and logs. */
  readonly remoteAddress: string;
  /** Who it is, for logs: its connection token's `sub`; `null` without one. */
  readonly subject: string | null;
  /** Cursors to recover from, by region, when the client asked for recovery; else `null`. */
  readonly since: ReadonlyMap<string, Cursor | null> | null;
}

/** One connected browser; it listens to its socket itself (`handleEvent`): no closures to keep. */
export class Client implements EventListenerObject {
  readonly regions: readonly string[];
  readonly remoteAddress: string;
  readonly subject: string | null;
  readonly since: ReadonlyMap<string, Cursor | null> | null;
  readonly transport: Transport;
  readonly #socket: ClientSocket;
  readonly #context: ClientContext;
  #state: "connecting" | "open" | "closed" = "connecting";
  #released = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #openedAt = 0;
  /** Slot of the upper bound of the bytes queued on the socket, while open. */
  #slot = -1;
  /** Set while the client is over its budget, until the grace period tells burst from stall. */
  #suspectTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #inbound = new Inbound();

  /** Wraps an upgraded socket. */
  constructor(socket: ClientSocket, context: ClientContext, options: ClientOptions) {
    this.#socket = socket;
    this.transport = transportOf(socket);
    this.#context = context;
    this.regions = options.regions;
    this.remoteAddress = options.remoteAddress;
    this.subject = options.subject;
    this.since = options.since;
    for (const type of ["open", "close", "error", "message"]) socket.addEventListener(type, this);
  }

  /** Reacts to the socket's events; not for callers. */
  handleEvent(event: Event): void {
    switch (event.type) {
      case "open":
        if (this.#state !== "connecting") return;
        this.#state = "open";
        this.#openedAt = this.#inbound.heardAt = performance.now();
        this.#slot = this.#context.queues.allocate();
        this.#context.onOpen(this);
        return;
      case "close":
        // Deno can report one close twice (a close frame, then the broken TCP connection).
        this.#leave((event as CloseEvent).code);
        this.#release("closed");
        return;
      case "message":
        switch (this.#inbound.receive((event as MessageEvent).data, this.#state === "open")) {
          case "ping":
            return void this.send(PONG, PONG.length);
          case "too_big":
            return this.#violate("too_big", CLOSE_CODES.messageTooBig);
          case "flood":
            return this.#violate("flood", CLOSE_CODES.policyViolation);
        }
        return;
        // "error" is always followed by "close": nothing to add.
    }
  }

  /** Whether the client is open and in the registry. */
  get open(): boolean {
    return this.#state === "open";
  }

  /** The socket, for the broadcast loop (`hub.ts`); all else sends through {@link send}. */
  get socket(): ClientSocket {
    return this.#socket;
  }

  /** Slot of the client's queued-bytes bound in the shared {@link SendQueues}, while open. */
  get slot(): number {
    return this.#slot;
  }

  /** When the socket opened (`performance.now()`). */
  get openedAt(): number {
    return this.#openedAt;
  }

  /**
   * When the last whole inbound message arrived, or the socket opened (`performance.now()`). A
   * client heard since some moment holds no unfinished message begun before it.
   */
  get heardAt(): number {
    // A stream carries nothing inbound: it never holds an unfinished message.
    return this.transport === "sse" ? Number.POSITIVE_INFINITY : this.#inbound.heardAt;
  }

  /**
   * Sends one text frame of `bytes` UTF-8 bytes if the socket is open and within its budget.
   * Never throws, never waits.
   */
  send(frame: string, bytes: number): SendOutcome {
    if (this.#state !== "open") return SendOutcome.Skipped;
    const budget = this.#context.queues.budget;
    if (this.#context.queues.values[this.#slot]! + bytes > budget) {
      const queued = this.#measureQueue();
      if (queued + bytes > 2 * budget) {
        this.close(CLOSE_CODES.slowConsumer);
        return SendOutcome.Dropped;
      }
      if (queued + bytes > budget) this.#suspect();
    }
    try {
      this.#socket.send(frame);
    } catch {
      // The runtime closed the socket between our check and the send; its close event follows.
      return SendOutcome.Skipped;
    }
    this.#context.queues.values[this.#slot]! += bytes;
    return SendOutcome.Delivered;
  }

  /** Whether `bytes` more fit the client's budget now (measuring its queue if need be). */
  hasRoomFor(bytes: number): boolean {
    if (this.#state !== "open") return false;
    const { values, budget } = this.#context.queues;
    return values[this.#slot]! + bytes <= budget || this.#measureQueue() + bytes <= budget;
  }

  /** The bytes queued on the socket now, measured (which also tightens the send loop's bound). */
  queuedBytes(): number {
    return this.#state === "open" ? this.#measureQueue() : 0;
  }

  /**
   * Closes with `close.code` and leaves the registry at once. If the peer does not confirm within
   * the close timeout, the socket is given up (released) anyway. Idempotent.
   */
  close(close: CloseCode): void {
    if (this.#state === "closed") return;
    this.#leave(close.code);
    this.#shut(close);
  }

  /**
   * Closes with `close.code` and drops the connection {@link SHED_TERMINATE_MS} later, whatever
   * the peer does: what the peer sent and the runtime holds is freed then (what is queued for it,
   * only once the peer takes it or the connection ends). Idempotent.
   */
  shed(close: CloseCode): void {
    if (this.#state === "closed") return;
    this.#leave(close.code);
    this.#inbound.stop();
    this.#sendClose(close);
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(() => this.#terminate("terminated"), SHED_TERMINATE_MS);
  }

  /** Over budget: a slow consumer unless the queue drains within the grace period. */
  #suspect(): void {
    if (this.#suspectTimer !== undefined) return;
    this.#suspectTimer = setTimeout(() => {
      this.#suspectTimer = undefined;
      if (this.#state !== "open") return;
      if (this.#measureQueue() > this.#context.queues.budget) this.close(CLOSE_CODES.slowConsumer);
    }, SLOW_CONSUMER_GRACE_MS);
  }

  /** The bytes queued on the socket now, which become the client's bound again. */
  #measureQueue(): number {
    const queued = this.#socket.bufferedAmount;
    this.#context.queues.values[this.#slot] = queued;
    return queued;
  }

  #sendClose(close: CloseCode): void {
    try {
      this.#socket.close(close.code, close.reason);
    } catch {
      // Still connecting, or already closing on the runtime's side: the close event will come.
    }
  }

  /** Sends the close frame; a peer that has not confirmed it by the close timeout is dropped. */
  #shut(close: CloseCode): void {
    this.#sendClose(close);
    if (!this.#released && this.#closeTimer === undefined) {
      this.#closeTimer = setTimeout(
        () => this.#terminate("timed_out"),
        this.#context.closeTimeoutMs,
      );
    }
  }

  #terminate(release: Release): void {
    if (this.#released) return;
    dropConnection(this.#socket);
    this.#release(release);
  }

  /** Leaves the registry now; sends the close frame once the client is quiet. */
  #violate(kind: "too_big" | "flood", close: CloseCode): void {
    this.#context.onViolation(this, kind);
    this.#leave(close.code);
    this.#inbound.violated(() => this.#shut(close));
  }

  #leave(code: number): void {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    clearTimeout(this.#suspectTimer);
    this.#suspectTimer = undefined;
    this.#context.onClose(this, code);
    if (wasOpen) this.#context.queues.release(this.#slot);
  }

  #release(release: Release): void {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#closeTimer);
    this.#inbound.stop();
    this.#context.onRelease(this, release);
  }
}
