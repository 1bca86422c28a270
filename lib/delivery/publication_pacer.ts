/**
 * Paces publications over event-loop turns. Deno writes a broadcast's frames only after the turn
 * that queued them, and counts them in `bufferedAmount` until then. When publications pile up (a
 * gateway stopped for a moment by a long GC pause, a descheduled VM or a cold start gets them from
 * Redis in one read), handling the whole pile in one turn would put all of it in every client's
 * queue at once, and the slow-consumer check (`client.ts`) would close clients that read at once
 * (a test pins it: a pile of publications is not a slow consumer). So one turn handles
 * publications up to a byte allowance (at
 * least one), and the rest wait, in order, for the next turn, once their predecessors' frames are
 * written. Normal traffic never reaches the allowance: it only slices piles.
 *
 * @module
 */

/** Handles one publication that arrived at `arrivedAt` (`performance.now()`). */
export type PublicationHandler = (region: string, payload: Uint8Array, arrivedAt: number) => void;

/** How the pacer tells turns apart; a test drives turns by hand. */
export interface TurnScheduler {
  /** Runs `callback` when the current turn's synchronous work is done. @default queueMicrotask */
  readonly atEndOfTurn: (callback: () => void) => void;
  /** Runs `callback` in a later turn, after pending I/O. @default setTimeout(callback, 0) */
  readonly inNextTurn: (callback: () => void) => void;
}

const EVENT_LOOP: TurnScheduler = {
  atEndOfTurn: queueMicrotask,
  inNextTurn: (callback) => setTimeout(callback, 0),
};

/** Publications in order, handled at most a byte allowance per turn; held until released. */
export class PublicationPacer {
  readonly #bytesPerTurn: number;
  readonly #handle: PublicationHandler;
  readonly #turns: TurnScheduler;
  /** Publications waiting for a later turn, or for the release, oldest first. */
  readonly #waiting: [string, Uint8Array, number][] = [];
  #held = true;
  #drainScheduled = false;
  /** Payload bytes handled in the current turn; a microtask zeroes it when the turn ends. */
  #spent = 0;
  readonly #endTurn = () => this.#spent = 0;
  readonly #drain = () => {
    this.#drainScheduled = false;
    this.#handleWaiting();
  };

  /**
   * A pacer handing publications to `handle`, at most `bytesPerTurn` payload bytes per turn (at
   * least one publication). It starts held: nothing is handled before {@link release}.
   */
  constructor(
    bytesPerTurn: number,
    handle: PublicationHandler,
    options: { readonly turns?: TurnScheduler } = {},
  ) {
    this.#bytesPerTurn = bytesPerTurn;
    this.#handle = handle;
    this.#turns = options.turns ?? EVENT_LOOP;
  }

  /** Handles `payload` now if nothing waits and this turn's allowance is left; else queues it. */
  push(region: string, payload: Uint8Array): void {
    const arrivedAt = performance.now();
    if (!this.#held && this.#waiting.length === 0 && this.#spent < this.#bytesPerTurn) {
      this.#run(region, payload, arrivedAt);
    } else {
      this.#waiting.push([region, payload, arrivedAt]);
      this.#scheduleDrain();
    }
  }

  /** Queues publications without handling them, until {@link release}. */
  hold(): void {
    this.#held = true;
  }

  /** Handles what waited, paced as the rest, and whatever comes next. */
  release(): void {
    this.#held = false;
    this.#handleWaiting();
  }

  #handleWaiting(): void {
    if (this.#held) return;
    let handled = 0;
    while (handled < this.#waiting.length && this.#spent < this.#bytesPerTurn) {
      const [region, payload, arrivedAt] = this.#waiting[handled++]!;
      this.#run(region, payload, arrivedAt);
    }
    // Once per turn, so that a backlog that never empties does not keep what it handled.
    this.#waiting.splice(0, handled);
    if (this.#waiting.length > 0) this.#scheduleDrain();
  }

  #run(region: string, payload: Uint8Array, arrivedAt: number): void {
    if (this.#spent === 0) this.#turns.atEndOfTurn(this.#endTurn);
    this.#spent += payload.byteLength;
    this.#handle(region, payload, arrivedAt);
  }

  #scheduleDrain(): void {
    if (this.#held || this.#drainScheduled) return;
    this.#drainScheduled = true;
    this.#turns.inNextTurn(this.#drain);
  }
}
