/**
 * Holds broadcasts back while this worker's clients have much queued, so that a process asked
 * more than it can write queues a bounded amount and lets publications wait instead: a waiting
 * publication costs its payload once, a queued frame costs its bytes and a kilobyte for every
 * client (`queued_bytes_limit.ts`). Near saturation (a GC pause, a burst), the queues pass the
 * gate's mark for a moment and drain again: publications wait a few milliseconds and nobody is
 * closed. Only a backlog that keeps ageing means more is asked than the clients take, and then
 * the limit sheds clients.
 *
 * The gate closes when the open queues, counted as an upper bound, pass {@link CLOSE_SHARE} of this
 * worker's part of the bound and a measurement confirms it; it opens once a measurement, at most
 * every {@link MEASURE_MS} while closed (a measurement reads every socket), finds them under
 * {@link OPEN_SHARE}: enough queued meanwhile that the sockets never run dry.
 *
 * @module
 */

/** Share of the bound past which broadcasts wait. */
const CLOSE_SHARE = 1 / 4;
/** Share of the bound under which they go again. */
const OPEN_SHARE = 1 / 8;
/** Time between two measurements while closed, in ms. */
const MEASURE_MS = 25;

/** What the gate watches. */
export interface QueueGateOptions {
  /** This worker's part of the process's bound, in bytes. */
  readonly boundBytes: () => number;
  /** An upper bound of the open queues: the last measurement and what was handed out since. */
  readonly upperBound: () => number;
  /** Measures the open queues (a read per socket); returns them. */
  readonly measure: () => number;
}

/** Says whether broadcasts may go out now. */
export class QueueGate {
  readonly #options: QueueGateOptions;
  #closed = false;
  #measuredAt = 0;

  /** An open gate over `options`. */
  constructor(options: QueueGateOptions) {
    this.#options = options;
  }

  /** Whether a broadcast may go out now. Cheap while the queues are far from the mark. */
  hasRoom(): boolean {
    const bound = this.#options.boundBytes();
    if (!this.#closed) {
      if (this.#options.upperBound() <= bound * CLOSE_SHARE) return true;
      this.#closed = this.#measure() > bound * CLOSE_SHARE;
    } else if (performance.now() - this.#measuredAt >= MEASURE_MS) {
      this.#closed = this.#measure() >= bound * OPEN_SHARE;
    }
    return !this.#closed;
  }

  #measure(): number {
    this.#measuredAt = performance.now();
    return this.#options.measure();
  }
}
