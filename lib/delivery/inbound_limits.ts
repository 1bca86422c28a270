/**
 * What a client may send: nothing but `{"type":"ping"}` (answered `{"event":"pong"}`), in frames
 * of at most {@link MAX_INBOUND_BYTES}, at most {@link INBOUND_BURST} at once and
 * {@link INBOUND_PER_SECOND} sustained. Breaking a limit closes the connection (`client.ts`).
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
