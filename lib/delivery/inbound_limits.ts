/**
 * What a client may send: nothing but `{"type":"ping"}` (answered `{"event":"pong"}`), in frames
 * of at most {@link MAX_INBOUND_BYTES}, at most {@link INBOUND_BURST} at once and
 * {@link INBOUND_PER_SECOND} sustained. Breaking a limit closes the connection (`client.ts`), once
 * the client has been quiet for {@link VIOLATION_QUIET_MS} ({@link QuietWait}).
 *
 * @module
 */

import { utf8Length } from "../contract/utf8.ts";

/** Largest inbound frame accepted, in bytes; larger closes the connection with 1009. */
export const MAX_INBOUND_BYTES = 4096;
/** Inbound frames a client may send in a burst before the rate applies. */
export const INBOUND_BURST = 20;
/** Inbound frames per second a client may sustain; faster closes the connection with 1008. */
export const INBOUND_PER_SECOND = 2;

/** The answer to a ping. */
export const PONG = JSON.stringify({ event: "pong" });

/** Size in bytes of an inbound frame's data (text counted in UTF-8 only when it could matter). */
export function inboundSize(data: unknown): number {
  if (typeof data === "string") {
    return data.length * 3 > MAX_INBOUND_BYTES ? utf8Length(data) : data.length;
  }
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}

/** `{"type":"ping"}`, the one control message a client may send. */
export function isPing(data: unknown): boolean {
  if (typeof data !== "string") return false;
  try {
    const value = JSON.parse(data);
    return typeof value === "object" && value !== null && value.type === "ping";
  } catch {
    return false;
  }
}

/** A token bucket of {@link INBOUND_BURST} frames, refilled at {@link INBOUND_PER_SECOND}. */
export class InboundRate {
  readonly #now: () => number;
  #tokens = INBOUND_BURST;
  #at: number;

  /** A full bucket on the clock `now` (ms). @default performance.now */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#at = now();
  }

  /** Takes a token for one frame; `false` when the client is over the rate. */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(
      INBOUND_BURST,
      this.#tokens + (now - this.#at) / 1000 * INBOUND_PER_SECOND,
    );
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Quiet time after which a client that broke a limit is sent its close frame, in ms. */
export const VIOLATION_QUIET_MS = 200;
/** Longest wait for that quiet time before closing anyway, in ms. */
export const VIOLATION_MAX_WAIT_MS = 2000;

/**
 * Waits for a client that broke a limit to be quiet before its close frame goes out: Deno drops
 * the connection without the close frame when frames keep arriving after `close()`, and the
 * client would never learn why. Runs `onQuiet` once the client has sent nothing for
 * {@link VIOLATION_QUIET_MS}, or {@link VIOLATION_MAX_WAIT_MS} after the violation at the latest.
 */
export class QuietWait {
  readonly #onQuiet: () => void;
  readonly #deadline = performance.now() + VIOLATION_MAX_WAIT_MS;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Starts waiting. */
  constructor(onQuiet: () => void) {
    this.#onQuiet = onQuiet;
    this.heard();
  }

  /** The client sent something: the quiet time starts again, within the deadline. */
  heard(): void {
    clearTimeout(this.#timer);
    const wait = Math.min(VIOLATION_QUIET_MS, this.#deadline - performance.now());
    this.#timer = setTimeout(this.#onQuiet, Math.max(0, wait));
  }

  /** Stops waiting; `onQuiet` will not run. */
  cancel(): void {
    clearTimeout(this.#timer);
  }
}

/** What one whole inbound message means for its client. */
export type InboundVerdict = "ignore" | "ping" | "too_big" | "flood";

/** One client's inbound side: its rate, when it was last heard, and a broken limit's wait. */
export class Inbound {
  /** When the last whole inbound message arrived (`performance.now()`); set at open too. */
  heardAt = 0;
  readonly #rate = new InboundRate();
  #violation: QuietWait | undefined;

  /** A whole message `data` arrived on a socket that is `open` (else it is ignored). */
  receive(data: unknown, open: boolean): InboundVerdict {
    if (this.#violation !== undefined) {
      this.#violation.heard();
      return "ignore";
    }
    if (!open) return "ignore";
    this.heardAt = performance.now();
    if (inboundSize(data) > MAX_INBOUND_BYTES) return "too_big";
    if (!this.#rate.take()) return "flood";
    return isPing(data) ? "ping" : "ignore";
  }

  /** A limit was broken: from now on frames are ignored, and `onQuiet` runs once they stop. */
  violated(onQuiet: () => void): void {
    this.#violation = new QuietWait(onQuiet);
  }

  /** Stops any wait. Idempotent. */
  stop(): void {
    this.#violation?.cancel();
  }
}
