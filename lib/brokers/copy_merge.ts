/**
 * Two subscriptions to the same plain channels, on two nodes of a Redis Cluster, merged into one
 * stream. A plain `PUBLISH` reaches every node's subscribers over the cluster bus, so while both
 * connections are up each publication arrives twice; while one is down (its node died, and the
 * cluster has not promoted a replica yet) the other still hears everything. A copy passes when its
 * connection has now seen a publication's bytes more often than the merged stream has passed them:
 * so the second copy is dropped, and a producer that publishes the same bytes twice is still heard
 * twice (de-duplication decides about those, later, as about any other).
 *
 * Each connection delivers in the order its node forwarded, and a publication passes on its first
 * copy: so the merged stream keeps every connection's order.
 *
 * @module
 */

import { fingerprint } from "../contract/fingerprint.ts";

/** How long a publication's copies are told apart, in ms: far longer than two nodes' skew. */
export const COPY_WINDOW_MS = 10_000;

/** Most publications remembered; the oldest go first. */
const MAX_REMEMBERED = 100_000;

interface Sighting {
  readonly at: number;
  /** Copies each connection delivered. */
  readonly copies: [number, number];
  /** Copies that passed. */
  passed: number;
}

/** Merges the copies two connections deliver. */
export class CopyMerge {
  readonly #now: () => number;
  /** By region and fingerprint, first sighting first. */
  readonly #seen = new Map<string, Sighting>();

  /** Merges by `now` (ms). @default performance.now */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Whether the copy of `payload` in `region` from connection `source` (0 or 1) passes. */
  pass(source: 0 | 1, region: string, payload: Uint8Array): boolean {
    const now = this.#now();
    this.#forgetBefore(now - COPY_WINDOW_MS);
    const key = `${region}:${fingerprint(payload)}`;
    let sighting = this.#seen.get(key);
    if (sighting === undefined) {
      sighting = { at: now, copies: [0, 0], passed: 0 };
      this.#seen.set(key, sighting);
      if (this.#seen.size > MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value!);
    }
    sighting.copies[source]++;
    if (sighting.copies[source] <= sighting.passed) return false;
    sighting.passed++;
    return true;
  }

  #forgetBefore(cutoff: number): void {
    for (const [key, sighting] of this.#seen) {
      if (sighting.at > cutoff) return;
      this.#seen.delete(key);
    }
  }
}
