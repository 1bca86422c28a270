/**
 * When connections must end: a client whose connection token expires is closed then, with the
 * code that tells it to fetch a new token. One timer for all of them, ticking each second while
 * any is due (a timer per client would be a wakeup per client); due clients are kept by the second
 * they fall due in, so a tick looks only at the seconds since the last one.
 *
 * @module
 */

/** How often due connections are looked for, in ms: the precision of an expiry. */
const TICK_MS = 1000;

/** Items (clients) that each fall due at a moment, handed to `onDue` then. */
export class Expiries<T> {
  readonly #onDue: (item: T) => void;
  /** Items by the second (Unix, rounded up) in which they fall due. */
  readonly #bySecond = new Map<number, Set<T>>();
  readonly #secondOf = new Map<T, number>();
  /** The last second (Unix) whose items were handed over. */
  #checkedUpTo = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Calls `onDue` for each item once its moment has passed. */
  constructor(onDue: (item: T) => void) {
    this.#onDue = onDue;
  }

  /** `item` falls due at `atMs` (Unix ms); at the next tick if that has passed. */
  add(item: T, atMs: number): void {
    this.delete(item);
    if (this.#secondOf.size === 0) this.#checkedUpTo = Math.floor(Date.now() / 1000);
    const second = Math.max(Math.ceil(atMs / 1000), this.#checkedUpTo + 1);
    let due = this.#bySecond.get(second);
    if (due === undefined) this.#bySecond.set(second, due = new Set());
    due.add(item);
    this.#secondOf.set(item, second);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), TICK_MS);
      // An expiry to come never keeps the process alive.
      Deno.unrefTimer(this.#timer);
    }
  }

  /** `item` no longer falls due (it left first). */
  delete(item: T): void {
    const second = this.#secondOf.get(item);
    if (second === undefined) return;
    this.#secondOf.delete(item);
    const due = this.#bySecond.get(second)!;
    due.delete(item);
    if (due.size === 0) this.#bySecond.delete(second);
    if (this.#secondOf.size === 0) this.stop();
  }

  /** Stops the timer (the gateway is closing): nothing falls due any more. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Hands over the items of every second since the last tick, up to now. */
  #tick(): void {
    const now = Math.floor(Date.now() / 1000);
    // One step per second elapsed since the last tick: a second at a time, as it ticks.
    for (; this.#checkedUpTo < now && this.#secondOf.size > 0; this.#checkedUpTo++) {
      const second = this.#checkedUpTo + 1;
      const due = this.#bySecond.get(second);
      if (due === undefined) continue;
      this.#bySecond.delete(second);
      for (const item of due) {
        this.#secondOf.delete(item);
        this.#onDue(item);
      }
    }
    if (this.#secondOf.size === 0) this.stop();
  }
}
