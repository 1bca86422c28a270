/**
 * Records of delivered publications, on their way to the broker. Deno writes a broadcast's frames
 * only once the current turn ends, and anything done before that (encoding a Redis command, say)
 * delays every one of them; so records go out afterwards, in a batch every
 * {@link RECORD_INTERVAL_MS}. The timer repeats while publications flow rather than being created
 * per turn: at a few publications per second its code is cold, and arming a timer then costs as
 * much as a batch of sends. Once recorded, a frame knows its stream position.
 *
 * @module
 */

import type { Broker, RecordRequest } from "../brokers/broker.ts";
import type { Frame } from "./frames.ts";

/**
 * Longest a delivered publication waits to be recorded by the broker, in ms. Each batch is a
 * command: node-redis's way there and back, on caches a publication every 20 ms has left cold,
 * costs about 0.4 ms of CPU whatever the batch holds, and its reply and timer are wakeups of their
 * own. At 50 publications/s, batches every 50 ms were a seventh of the gateway's CPU; every 250
 * ms it needs 8 % less in all. The price: a crashing instance takes up to this much of its records
 * with it (others that got the same publications still record them).
 */
export const RECORD_INTERVAL_MS = 250;
/** Ticks without a publication after which the timer stops (one second). */
const IDLE_TICKS = 1000 / RECORD_INTERVAL_MS;

/** Delivered publications waiting to be recorded, and the timer that sends them. */
export class RecordBatch {
  readonly #broker: Broker;
  readonly #onError: (error: unknown) => void;
  #waiting: [string, Frame, RecordRequest][] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Ticks since the last record; the timer stops after {@link IDLE_TICKS}. */
  #idleTicks = 0;

  /** Records sent to `broker`; one it cannot take is told to `onError`. */
  constructor(broker: Broker, onError: (error: unknown) => void) {
    this.#broker = broker;
    this.#onError = onError;
  }

  /** Queues the record of `frame` delivered on `region`. */
  add(region: string, frame: Frame, request: RecordRequest): void {
    this.#waiting.push([region, frame, request]);
    this.#idleTicks = 0;
    this.#timer ??= setInterval(() => this.#tick(), RECORD_INTERVAL_MS);
  }

  /** Sends every waiting record now and stops the timer until the next record. */
  flush(): void {
    this.#stop();
    this.#send();
  }

  #tick(): void {
    if (this.#waiting.length > 0) this.#send();
    else if (++this.#idleTicks >= IDLE_TICKS) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One call for everything waiting: a round trip costs more than the records in it. */
  #send(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    const records = batch.map(([region, , request]) => ({ region, request }));
    this.#broker.record(records).then((positions) => {
      for (const [i, [, frame]] of batch.entries()) frame.position = positions[i];
    }, this.#onError);
  }
}
