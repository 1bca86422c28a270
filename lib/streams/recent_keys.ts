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

/**
 * How long after another instance first saw a key a publication here can still be that very
 * sighting: an instance that subscribes while messages flow receives some that others recorded
 * before it had loaded their keys. Far more than a record's delay; far less than a repeat's.
 */
export const SAME_SIGHTING_MS = 10_000;

/** A key's first sighting; `merged` names its publication when it came from another instance. */
interface Sighting {
  readonly seenAt: number;
  /** Fingerprint of the first sighting's publication, when known. */
  readonly first: string | undefined;
  /** The same, while this instance may still get that publication from the broker. */
  merged: string | undefined;
}

/** A key seen elsewhere, as {@link RecentKeys.merge} takes it. */
export interface MergedKey {
  readonly key: string;
  /** When, in this clock. */
  readonly seenAt: number;
  /** The publication of the first sighting. */
  readonly fingerprint?: string;
}

/** Keys first seen within the window. */
export class RecentKeys {
  readonly #windowMs: number;
  readonly #capacity: number;
  readonly #now: () => number;
  /** First sighting by key; a Map iterates in insertion order, so oldest first. */
  readonly #seen = new Map<string, Sighting>();

  /** Creates an empty memory. */
  constructor(options: RecentKeysOptions) {
    this.#windowMs = options.windowMs;
    this.#capacity = options.capacity;
    this.#now = options.now ?? Date.now;
  }

  /** Number of keys remembered. */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Records a sighting of `key` by the publication with `fingerprint`. Returns `true` when it is
   * new (not seen within the window), and then remembers it from now; `false` for a repeat, which
   * does not extend the window. A key merged from another instance is new once more, for the
   * publication that was its first sighting there, within {@link SAME_SIGHTING_MS}.
   */
  claim(key: string, fingerprint?: string): boolean {
    const now = this.#now();
    this.#forgetBefore(now - this.#windowMs);
    const known = this.#seen.get(key);
    if (known !== undefined) {
      const same = fingerprint !== undefined && known.merged === fingerprint &&
        now - known.seenAt < SAME_SIGHTING_MS;
      known.merged = undefined;
      return same;
    }
    this.#seen.set(key, { seenAt: now, first: fingerprint, merged: undefined });
    if (this.#seen.size > this.#capacity) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
    return true;
  }

  /**
   * Whether `key` was seen within the window, without counting this as a sighting: `undefined` if
   * not, else the fingerprint of its first sighting's publication (`null` when unknown).
   */
  firstSighting(key: string): string | null | undefined {
    const known = this.#seen.get(key);
    if (known === undefined || known.seenAt <= this.#now() - this.#windowMs) return undefined;
    return known.first ?? null;
  }

  /**
   * Adds keys seen elsewhere, keeping the earliest sighting of each and the oldest-first order the
   * window relies on.
   */
  merge(entries: readonly MergedKey[]): void {
    const merged = new Map(this.#seen);
    for (const { key, seenAt, fingerprint } of entries) {
      const known = merged.get(key);
      if (known === undefined) merged.set(key, { seenAt, first: fingerprint, merged: fingerprint });
      else if (seenAt < known.seenAt) {
        merged.set(key, { seenAt, first: fingerprint ?? known.first, merged: known.merged });
      }
    }
    this.#seen.clear();
    for (const [key, sighting] of [...merged].sort((a, b) => a[1].seenAt - b[1].seenAt)) {
      this.#seen.set(key, sighting);
    }
    while (this.#seen.size > this.#capacity) {
      const oldest = this.#seen.keys().next();
      if (oldest.done) break;
      this.#seen.delete(oldest.value);
    }
    this.#forgetBefore(this.#now() - this.#windowMs);
  }

  #forgetBefore(cutoff: number): void {
    for (const [key, sighting] of this.#seen) {
      if (sighting.seenAt > cutoff) return;
      this.#seen.delete(key);
    }
  }
}
