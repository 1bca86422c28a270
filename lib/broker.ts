/**
 * The broker contract: it moves publications from producers to the gateway, decides whether each
 * is new, gives it a position in its region's stream, and keeps a bounded history of the stream.
 * The gateway registers one listener and never learns which implementation it talks to: the
 * in-memory broker ({@link ./broker_memory.ts}) for a single process with no dependencies, or
 * Redis ({@link ./broker_redis.ts}) for the existing publishers and several gateway instances.
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
}

/**
 * A place in a region's stream. The epoch names one life of the stream (a new one begins when its
 * history is lost); the offset counts messages within it, from 1.
 */
export interface StreamPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** A validated publication to record. */
export interface AppendRequest {
  /** The producer's bytes: the identity of one publication across gateway instances. */
  readonly payload: Uint8Array;
  /** The normalised message, kept in the history. */
  readonly body: string;
  /** De-duplication identity within the region (a `video_id`), or `null` for none. */
  readonly dedupeKey: string | null;
}

/** `fresh` goes out at `position`; `duplicate` repeats a key within the de-duplication window. */
export type AppendResult =
  | { readonly status: "fresh"; readonly position: StreamPosition }
  | { readonly status: "duplicate" };

/** One message of a region's history. */
export interface HistoryEntry {
  readonly offset: number;
  /** The message as recorded by {@link Broker.append}. */
  readonly body: string;
}

/** What a reconnecting client missed, if it can be told. */
export interface Recovery {
  /** The region's stream position now. */
  readonly position: StreamPosition;
  /**
   * Whether `entries` are every message after the client's position: same epoch, nothing trimmed
   * or expired in between. Always `false` when the client named no position.
   */
  readonly recovered: boolean;
  /** The messages after the client's position, oldest first; empty unless recovered. */
  readonly entries: readonly HistoryEntry[];
}

/** How the broker de-duplicates. */
export interface DedupeOptions {
  /** A key repeated within this many milliseconds of its first sighting is a duplicate; 0 disables. */
  readonly windowMs: number;
  /** Most keys remembered per region; the oldest are forgotten first. */
  readonly capacity: number;
}

/** How much history the broker keeps per region. */
export interface HistoryOptions {
  /** Most messages kept; 0 keeps none. */
  readonly size: number;
  /** Messages older than this many milliseconds are dropped. */
  readonly ttlMs: number;
}

/** A source of regional publications. */
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
   * Records a validated publication of `region`: decides whether it is new and, if so, gives it
   * the next position and keeps it in the history. Every gateway instance on the same broker gets
   * the same answer for the same publication.
   */
  append(region: string, request: AppendRequest): Promise<AppendResult>;
  /**
   * The region's position now and, when `since` is given and still covered by the history, every
   * message after it.
   */
  recover(region: string, since: StreamPosition | null): Promise<Recovery>;
  /** Unsubscribes and releases connections. Idempotent. */
  close(): Promise<void>;
}
