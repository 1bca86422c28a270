/**
 * How many bytes every worker of the process has queued for its clients, side by side in shared
 * memory: each worker writes its own entry, any worker reads the sum. With one worker it is a
 * board of one.
 *
 * @module
 */

/** Entries are whole KiB in 32-bit integers, so that `Atomics` reads and writes each at once. */
const KIB = 1024;

/** One worker's view of the board. */
export class SharedQueuedBytes {
  readonly #entries: Int32Array;
  readonly #index: number;

  /** The entry `index` of `buffer`, a board made by {@link SharedQueuedBytes.buffer}. */
  constructor(buffer: SharedArrayBuffer, index: number) {
    this.#entries = new Int32Array(buffer);
    if (index < 0 || index >= this.#entries.length) {
      throw new RangeError(`No entry ${index} on a board of ${this.#entries.length}`);
    }
    this.#index = index;
  }

  /** Shared memory for a board of `workers` entries, all zero. */
  static buffer(workers: number): SharedArrayBuffer {
    return new SharedArrayBuffer(workers * Int32Array.BYTES_PER_ELEMENT);
  }

  /** The board of a gateway that is the whole process. */
  static single(): SharedQueuedBytes {
    return new SharedQueuedBytes(SharedQueuedBytes.buffer(1), 0);
  }

  /** How many workers write on the board. */
  get workers(): number {
    return this.#entries.length;
  }

  /** Writes this worker's queued bytes. */
  publish(bytes: number): void {
    Atomics.store(this.#entries, this.#index, Math.min(2 ** 31 - 1, Math.ceil(bytes / KIB)));
  }

  /** The queued bytes of the whole process, as last written by each worker. */
  total(): number {
    let kib = 0;
    for (let i = 0; i < this.#entries.length; i++) kib += Atomics.load(this.#entries, i);
    return kib * KIB;
  }
}
