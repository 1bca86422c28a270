/**
 * A bounded memory of keys seen recently: each key is remembered for a window from its first
 * sighting, and past a capacity the oldest are forgotten first. The gateway decides
 * de-duplication with it, seeded from the keys the broker recorded (`merge`).
 *
 * @module
 */

/** Options of {@link RecentKeys}. */
export interface RecentKeysOptions {
  /** How long a key is remembered, in milliseconds. */
  readonly windowMs: number;
  /** Most keys remembered; the oldest go first. */
  readonly capacity: number;
  /** Clock in milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** Keys first seen within the window. */
export class RecentKeys {
  readonly #windowMs: number;
  readonly #capacity: number;
  readonly #now: () => number;
  /** First sighting by key; a Map iterates in insertion order, so oldest first. */
  readonly #seenAt = new Map<string, number>();

  /** Creates an empty memory. */
  constructor(options: RecentKeysOptions) {
    this.#windowMs = options.windowMs;
    this.#capacity = options.capacity;
    this.#now = options.now ?? Date.now;
  }

  /** Number of keys remembered. */
  get size(): number {
    return this.#seenAt.size;
  }

  /**
   * Records a sighting of `key`. Returns `true` when it is new (not seen within the window), and
   * then remembers it from now; `false` for a repeat, which does not extend the window.
   */
  claim(key: string): boolean {
    const now = this.#now();
    this.#forgetBefore(now - this.#windowMs);
    if (this.#seenAt.has(key)) return false;
    this.#seenAt.set(key, now);
    if (this.#seenAt.size > this.#capacity) {
      const oldest = this.#seenAt.keys().next();
      if (!oldest.done) this.#seenAt.delete(oldest.value);
    }
    return true;
  }

  /**
   * Adds keys seen elsewhere (`seenAt` in this clock), keeping the earliest sighting of each and
   * the oldest-first order the window relies on.
   */
  merge(entries: readonly { readonly key: string; readonly seenAt: number }[]): void {
    const merged = new Map(this.#seenAt);
    for (const { key, seenAt } of entries) {
      const known = merged.get(key);
      if (known === undefined || seenAt < known) merged.set(key, seenAt);
    }
    this.#seenAt.clear();
    for (const [key, seenAt] of [...merged].sort((a, b) => a[1] - b[1])) {
      this.#seenAt.set(key, seenAt);
    }
    while (this.#seenAt.size > this.#capacity) {
      const oldest = this.#seenAt.keys().next();
      if (oldest.done) break;
      this.#seenAt.delete(oldest.value);
    }
    this.#forgetBefore(this.#now() - this.#windowMs);
  }

  #forgetBefore(cutoff: number): void {
    for (const [key, seenAt] of this.#seenAt) {
      if (seenAt > cutoff) return;
      this.#seenAt.delete(key);
    }
  }
}
