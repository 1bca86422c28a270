/**
 * Upper bounds of the bytes queued on each open client's socket, side by side in one typed array.
 * The broadcast loop (`hub.ts`) checks and raises a client's bound there without reading the
 * client object, whose fields V8 would fetch from a different place in memory for every send. An
 * open client holds one slot.
 *
 * @module
 */

const INITIAL_SLOTS = 1024;

/** The queued-bytes bounds of every open client, by slot, and the budget they are held to. */
export class SendQueues {
  /** Most bytes a client may have queued before it is a slow consumer (see `client.ts`). */
  readonly budget: number;
  #values = new Float64Array(INITIAL_SLOTS);
  readonly #free: number[] = [];
  #next = 0;

  /** Bounds held to `budget` bytes per client. */
  constructor(budget: number) {
    this.budget = budget;
  }

  /** The bounds by slot. A new array once {@link allocate} grows it: read it afresh each time. */
  get values(): Float64Array {
    return this.#values;
  }

  /** A free slot, its bound zero. */
  allocate(): number {
    const slot = this.#free.pop() ?? this.#next++;
    if (slot === this.#values.length) {
      const grown = new Float64Array(2 * this.#values.length);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[slot] = 0;
    return slot;
  }

  /** Gives `slot` back; its holder must not use it any more. */
  release(slot: number): void {
    this.#free.push(slot);
  }
}
