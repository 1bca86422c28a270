/**
 * Holds broadcasts back while this worker's clients have much queued, so that a process asked
 * more than it can write queues a bounded amount and lets publications wait instead: a waiting
 * publication costs its payload once, a queued frame costs its bytes and a kilobyte for every
 * client (`queued_bytes_limit.ts`). Near saturation (a GC pause, a burst), the queues pass the
 * gate's mark for a moment and drain again: publications wait a few milliseconds and nobody is
 * closed. Only a backlog that keeps ageing without shrinking means more is asked than the clients
 * take, and then the limit sheds clients.
 *
 * The gate closes when the open queues, counted as an upper bound, pass {@link CLOSE_SHARE} of this
 * worker's part of the bound and a measurement confirms it; it opens once a measurement finds them
 * under {@link OPEN_SHARE}: enough queued meanwhile that the sockets never run dry. A measurement
 * reads every socket (an op per socket: with 10,000 clients, polling every 25 ms took 7 % of a
 * saturated core, more than the broadcasts' own loop), so while closed the gate measures again
 * after half the time the queues would take to reach the mark at the pace they drained since the
 * last measurement, between {@link MEASURE_MS} and {@link MAX_MEASURE_MS}: often near the mark,
 * rarely far above it or when nothing drains.
 *
 * @module
 */

/** Share of the bound past which broadcasts wait. */
const CLOSE_SHARE = 1 / 4;
/** Share of the bound under which they go again. */
const OPEN_SHARE = 1 / 8;
/** Least time between two measurements while closed, in ms. */
const MEASURE_MS = 25;
/** Most time between two measurements while closed, in ms. */
const MAX_MEASURE_MS = 200;

/** What the gate watches. */
export interface QueueGateOptions {
  /** This worker's part of the process's bound, in bytes. */
  readonly boundBytes: () => number;
  /** An upper bound of the open queues: the last measurement and what was handed out since. */
  readonly upperBound: () => number;
  /** Measures the open queues (a read per socket); returns them. */
  readonly measure: () => number;
  /** The clock, in ms. @default performance.now */
  readonly now?: () => number;
}

/** Says whether broadcasts may go out now. */
export class QueueGate {
  readonly #options: QueueGateOptions;
  readonly #now: () => number;
  #closed = false;
  /** The last measurement, and when it was taken. */
  #queued = 0;
  #measuredAt = 0;
  /** When the closed gate measures again. */
  #nextMeasureAt = 0;

  /** An open gate over `options`. */
  constructor(options: QueueGateOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Whether a broadcast may go out now. Cheap while the queues are far from the mark. */
  hasRoom(): boolean {
    const bound = this.#options.boundBytes();
    if (!this.#closed) {
      if (this.#options.upperBound() <= bound * CLOSE_SHARE) return true;
      this.#closed = this.#measure() > bound * CLOSE_SHARE;
      this.#nextMeasureAt = this.#measuredAt + MEASURE_MS;
    } else if (this.#now() >= this.#nextMeasureAt) {
      const before = this.#queued;
      const beforeAt = this.#measuredAt;
      const open = bound * OPEN_SHARE;
      this.#closed = this.#measure() >= open;
      // Nothing is handed out while closed: what the queues lost, they wrote.
      const drainedPerMs = (before - this.#queued) / Math.max(1, this.#measuredAt - beforeAt);
      const untilMark = drainedPerMs > 0 ? (this.#queued - open) / drainedPerMs : Infinity;
      this.#nextMeasureAt = this.#measuredAt +
        Math.min(MAX_MEASURE_MS, Math.max(MEASURE_MS, untilMark / 2));
    }
    return !this.#closed;
  }

  /** Has the next {@link hasRoom} measure: clients were closed, and their queues went with them. */
  measureSoon(): void {
    this.#nextMeasureAt = 0;
  }

  #measure(): number {
    this.#measuredAt = this.#now();
    this.#queued = this.#options.measure();
    return this.#queued;
  }
}
