/**
 * The broker contract: it moves publications from producers to the gateway, and keeps what the
 * gateway records of each region's stream: positions, a bounded history, and the recent
 * de-duplication keys. The gateway registers one listener and never learns which implementation
 * it talks to: the in-memory broker (`memory.ts`) for a single process with no
 * dependencies, or Redis (`redis.ts`) for the existing publishers and several
 * gateway instances.
 *
 * Recording happens after delivery, off the hot path: every instance records every publication it
 * delivers, and the broker keeps the first record of each (named by its fingerprint).
 *
 * @module
 */

/** Lifecycle of a broker connection, as operators see it in logs and `/readyz`. */
export type BrokerState = "connecting" | "ready" | "reconnecting" | "closed";

/** Receives what a broker delivers. Registered once with {@link Broker.start}. */
export interface BrokerListener {
  /** A raw publication on `region`'s channel, exactly as the producer sent it. */
  publication(region: string, payload: Uint8Array): void;
  /** The broker moved to `state`; `cause` says why it is not ready, when known. */
  stateChange(state: BrokerState, cause?: string): void;
  /**
   * A network connection of the broker stopped answering without closing (`connection` names
   * which), noticed `silentMs` after its last unanswered ping; it is being replaced.
   */
  connectionSilent?(connection: string, silentMs: number): void;
  /** Sentinel named another master, at `master` (`host:port`): the broker is moving there. */
  failover?(master: string): void;
}

/**
 * A place in a region's stream. The epoch names one life of the stream (a new one begins when its
 * history is lost); the offset counts recorded messages within it, from 1.
 */
export interface StreamPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** Where a reconnecting client stands: after a message it received, or at a stream position. */
export type Cursor =
  | { readonly kind: "message"; readonly fingerprint: string }
  | { readonly kind: "position"; readonly position: StreamPosition };

/** A delivered publication to record. */
export interface RecordRequest {
  /** Fingerprint of the producer's bytes: the publication's identity on every instance. */
  readonly fingerprint: string;
  /** The normalised message, kept in the history. */
  readonly body: string;
  /** De-duplication key within the region (a `video_id`), or `null` for none. */
  readonly dedupeKey: string | null;
}

/** A delivered publication of `region` to record. */
export interface RegionRecord {
  readonly region: string;
  readonly request: RecordRequest;
}

/** One message of a region's history. */
export interface HistoryEntry {
  readonly offset: number;
  readonly fingerprint: string;
  /** The message as recorded. */
  readonly body: string;
}

/** What a reconnecting client missed, if the history can tell. */
export interface Recovery {
  /** The region's stream position when asked. */
  readonly position: StreamPosition;
  /**
   * Whether `entries` are every recorded message after the cursor: the cursor is known, of the
   * current epoch, and nothing was trimmed or expired in between. `false` without a cursor.
   */
  readonly recovered: boolean;
  /** The recorded messages after the cursor, oldest first; empty unless recovered. */
  readonly entries: readonly HistoryEntry[];
}

/** A de-duplication key recorded within the window, and how long ago it was first seen. */
export interface RecentKey {
  readonly key: string;
  readonly ageMs: number;
  /**
   * Fingerprint of the publication that was the key's first sighting: an instance that has just
   * subscribed may hold that very publication, and must not take it for a repeat of itself.
   */
  readonly firstFingerprint: string;
}

/** How the broker keeps de-duplication keys. */
export interface DedupeOptions {
  /** Keys first seen longer ago than this many milliseconds are forgotten; 0 keeps none. */
  readonly windowMs: number;
  /** Most keys kept per region; the oldest are forgotten first. */
  readonly capacity: number;
}

/** How much history the broker keeps per region. */
export interface HistoryOptions {
  /** Most messages kept (at least 1). */
  readonly size: number;
  /** Messages older than this many milliseconds are dropped. */
  readonly ttlMs: number;
}

/** De-duplication unless configured otherwise (`DEDUPE_WINDOW_SECONDS`, `DEDUPE_CAPACITY`). */
export const DEFAULT_DEDUPE: DedupeOptions = { windowMs: 3_600_000, capacity: 10_000 };

/** History unless configured otherwise (`HISTORY_SIZE`, `HISTORY_TTL_SECONDS`). */
export const DEFAULT_HISTORY: HistoryOptions = { size: 100, ttlMs: 600_000 };

/** A source of regional publications and the keeper of their record. */
export interface Broker {
  /** Short name for logs and metrics. */
  readonly kind: "memory" | "redis";
  /** Current state; `ready` means subscribed to every region. */
  readonly state: BrokerState;
  /** Connects and subscribes to every region, delivering to `listener` from then on. */
  start(listener: BrokerListener): void;
  /**
   * Publishes `payload` on `region`'s channel, as a producer would.
   *
   * @returns how many gateway processes received it.
   */
  publish(region: string, payload: string): Promise<number>;
  /**
   * Records delivered publications, in order: each gets the next position of its region and a
   * place in the history, unless a publication with the same fingerprint is already recorded,
   * whose position it gets. One call for a batch: records cost a round trip, not each.
   */
  record(records: readonly RegionRecord[]): Promise<readonly StreamPosition[]>;
  /** The region's position and, when the cursor is still covered by the history, what followed. */
  recover(region: string, cursor: Cursor | null): Promise<Recovery>;
  /** The de-duplication keys of `region` recorded within the window. */
  recentKeys(region: string): Promise<readonly RecentKey[]>;
  /** Unsubscribes and releases connections. Idempotent. */
  close(): Promise<void>;
}
