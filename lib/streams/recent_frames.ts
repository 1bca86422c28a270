/**
 * The frames a gateway delivered lately in one region, newest last: the fast path of recovery (a
 * client back within moments resumes from here, with no round trip to the broker), and the
 * frames the broker has not recorded yet, which a replay from the broker's history must add.
 *
 * @module
 */

import type { StreamPosition } from "../brokers/broker.ts";
import type { Frame } from "./frames.ts";

/** A bounded, ordered memory of delivered frames. */
export class RecentFrames {
  readonly #capacity: number;
  readonly #frames: Frame[] = [];

  /** Keeps at most `capacity` frames (at least 1). */
  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** The newest frame, if any. */
  get last(): Frame | undefined {
    return this.#frames.at(-1);
  }

  /** Adds a delivered frame, forgetting the oldest beyond the capacity. */
  push(frame: Frame): void {
    this.#frames.push(frame);
    if (this.#frames.length > this.#capacity) this.#frames.shift();
  }

  /** Forgets every frame. */
  clear(): void {
    this.#frames.length = 0;
  }

  /** The frames delivered after the one with `fingerprint`, or `undefined` if it is not here. */
  after(fingerprint: string): Frame[] | undefined {
    const index = this.#frames.findLastIndex((frame) => frame.fingerprint === fingerprint);
    return index === -1 ? undefined : this.#frames.slice(index + 1);
  }

  /**
   * The frames the broker had not recorded at `position` (its top when asked): not recorded yet,
   * or recorded after it in the same epoch. One recorded in an earlier epoch came before it.
   */
  unrecordedAt(position: StreamPosition): Frame[] {
    return this.#frames.filter((frame) =>
      frame.position === undefined ||
      (frame.position.epoch === position.epoch && frame.position.offset > position.offset)
    );
  }
}
