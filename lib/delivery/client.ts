/**
 * One WebSocket connection: its regions, its state, sending, receiving and closing. Every guard on
 * a socket lives here; the one other module that sends, the broadcast loop (`hub.ts`), only
 * sends within the budget below and leaves everything else to {@link Client.send}.
 *
 * Slow consumers. Deno keeps every byte queued for a peer that stops reading, and `close()` does
 * not free it while the peer stays stalled. So each client has a byte budget, checked through
 * `bufferedAmount` before every send. Deno counts a send as buffered until its write completes,
 * which happens between event-loop turns, so a burst of broadcasts in one turn queues up even for
 * a client that reads at once (at most half the budget: `publication_pacer.ts`). Hence two
 * thresholds: over the budget a client is suspect and keeps receiving; still over it
 * {@link SLOW_CONSUMER_GRACE_MS} later, or over twice the budget at any moment, it is a slow
 * consumer: closed, and out of the registry at once, without waiting for a close event that a
 * stalled peer may never produce. What stays queued for a stalled client is bounded by twice the
 * budget plus one frame. The queue is tracked as an upper bound (last measured `bufferedAmount`
 * plus bytes sent since), so `bufferedAmount` is only read when the bound says the budget might be
 * reached. The bound lives in a shared typed array (`send_queues.ts`), where the broadcast loop
 * reads it without touching the client.
 *
 * Inbound limits. Deno 2.9 drops the TCP connection without sending the close frame when frames
 * keep arriving after `close()`, so a client breaking a limit would never see why. Such a client
 * leaves the registry at once, its frames are ignored, and the close frame goes out once it has
 * been quiet for {@link VIOLATION_QUIET_MS} (at most {@link VIOLATION_MAX_WAIT_MS} after the
 * violation).
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Cursor } from "../brokers/broker.ts";
import { InboundRate, inboundSize, isPing, MAX_INBOUND_BYTES, PONG } from "./inbound_limits.ts";
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

/** A close code and reason of {@link CLOSE_CODES}. */
export type CloseCode = { readonly code: number; readonly reason: string };

/** How long a client may stay over its byte budget before it is closed as slow, in ms. */
export const SLOW_CONSUMER_GRACE_MS = 100;
/** Longest a replay waits for a client to make room in its budget before calling it slow, in ms. */
export const REPLAY_ROOM_TIMEOUT_MS = 5000;
/** Quiet time after which a client that broke a limit is sent its close frame, in ms. */
export const VIOLATION_QUIET_MS = 200;
/** Longest wait for that quiet time before closing anyway, in ms. */
export const VIOLATION_MAX_WAIT_MS = 2000;

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
   * The socket is finished for good, or given up after the close timeout (`timedOut`). Exactly
   * once, after `onClose`; until then the socket still holds memory and counts against limits.
   */
  readonly onRelease: (client: Client, timedOut: boolean) => void;
  /** The client broke an inbound limit and is being closed. */
  readonly onViolation: (client: Client, kind: "too_big" | "flood") => void;
}

/** What is particular to one client. */
export interface ClientOptions {
  /** Regions the client subscribed to, validated by the handshake. */
  readonly regions: readonly string[];
  /** Address of the peer, for limits and logs. */
  readonly remoteAddress: string;
  /** Cursors to recover from, by region, when the client asked for recovery; else `null`. */
  readonly since: ReadonlyMap<string, Cursor | null> | null;
}

/**
 * One connected browser (or any WebSocket peer). It listens to its socket itself (`handleEvent`),
 * so a connection costs no closures: with thousands of connections that is memory worth saving.
 */
export class Client implements EventListenerObject {
  readonly regions: readonly string[];
  readonly remoteAddress: string;
  readonly since: ReadonlyMap<string, Cursor | null> | null;
  readonly #socket: WebSocket;
  readonly #context: ClientContext;
  #state: "connecting" | "open" | "closed" = "connecting";
  #released = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** A limit the client broke, waiting for the client to be quiet before the close frame. */
  #violation: { readonly close: CloseCode; readonly deadline: number } | undefined;
  #violationTimer: ReturnType<typeof setTimeout> | undefined;
  /** Slot of the upper bound of the bytes queued on the socket, while open. */
  #slot = -1;
  /** Set while the client is over its budget, until the grace period tells burst from stall. */
  #suspectTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #inbound = new InboundRate();

  /** Wraps an upgraded socket. */
  constructor(socket: WebSocket, context: ClientContext, options: ClientOptions) {
    this.#socket = socket;
    this.#context = context;
    this.regions = options.regions;
    this.remoteAddress = options.remoteAddress;
    this.since = options.since;
    for (const type of ["open", "close", "error", "message"]) socket.addEventListener(type, this);
  }

  /** Reacts to the socket's events; not for callers. */
  handleEvent(event: Event): void {
    switch (event.type) {
      case "open":
        if (this.#state !== "connecting") return;
        this.#state = "open";
        this.#slot = this.#context.queues.allocate();
        this.#context.onOpen(this);
        return;
      case "close":
        // Deno can report one close twice (a close frame, then the broken TCP connection).
        this.#leave((event as CloseEvent).code);
        this.#release(false);
        return;
      case "message":
        this.#receive((event as MessageEvent).data);
        return;
        // "error" is always followed by "close": nothing to add.
    }
  }

  /** Whether the client is open and in the registry. */
  get open(): boolean {
    return this.#state === "open";
  }

  /** The socket, for the broadcast loop (`hub.ts`); all else sends through {@link send}. */
  get socket(): WebSocket {
    return this.#socket;
  }

  /** Slot of the client's queued-bytes bound in the shared {@link SendQueues}, while open. */
  get slot(): number {
    return this.#slot;
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

  /**
   * Sends like {@link send}, but first waits while the frame would not fit the budget, as a replay
   * of many messages must: it resolves `false` when the client closed, or made no room within
   * {@link REPLAY_ROOM_TIMEOUT_MS} (then it is closed as a slow consumer).
   */
  async sendPaced(frame: string, bytes: number): Promise<boolean> {
    const deadline = performance.now() + REPLAY_ROOM_TIMEOUT_MS;
    const budget = this.#context.queues.budget;
    while (this.#state === "open" && this.#context.queues.values[this.#slot]! + bytes > budget) {
      if (this.#measureQueue() + bytes <= budget) break;
      if (performance.now() > deadline) {
        this.close(CLOSE_CODES.slowConsumer);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.send(frame, bytes) === SendOutcome.Delivered;
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

  #shut(close: CloseCode): void {
    try {
      this.#socket.close(close.code, close.reason);
    } catch {
      // Still connecting, or already closing on the runtime's side: the close event will come.
    }
    if (!this.#released) {
      this.#closeTimer = setTimeout(() => this.#release(true), this.#context.closeTimeoutMs);
    }
  }

  /** Leaves the registry now; sends the close frame once the client is quiet. */
  #violate(kind: "too_big" | "flood", close: CloseCode): void {
    this.#context.onViolation(this, kind);
    this.#leave(close.code);
    this.#violation = { close, deadline: performance.now() + VIOLATION_MAX_WAIT_MS };
    this.#awaitQuiet();
  }

  #awaitQuiet(): void {
    const violation = this.#violation;
    if (violation === undefined) return;
    clearTimeout(this.#violationTimer);
    const wait = Math.min(VIOLATION_QUIET_MS, violation.deadline - performance.now());
    this.#violationTimer = setTimeout(() => {
      this.#violation = undefined;
      this.#shut(violation.close);
    }, Math.max(0, wait));
  }

  #receive(data: unknown): void {
    if (this.#violation !== undefined) {
      this.#awaitQuiet();
      return;
    }
    if (this.#state !== "open") return;
    const size = inboundSize(data);
    if (size > MAX_INBOUND_BYTES) {
      this.#violate("too_big", CLOSE_CODES.messageTooBig);
      return;
    }
    if (!this.#inbound.take()) {
      this.#violate("flood", CLOSE_CODES.policyViolation);
      return;
    }
    if (isPing(data)) this.send(PONG, PONG.length);
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

  #release(timedOut: boolean): void {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#violationTimer);
    this.#violation = undefined;
    this.#context.onRelease(this, timedOut);
  }
}
