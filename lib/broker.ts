/**
 * The broker contract: it moves publications from producers to the gateway. The gateway registers
 * one listener and never learns which implementation it talks to: the in-memory broker
 * ({@link ./broker_memory.ts}) for a single process with no dependencies, or Redis Pub/Sub
 * ({@link ./broker_redis.ts}) for the existing publishers and several gateway instances.
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

/** What the broker needs to decide whether a validated message is new. */
export interface AppendRequest {
  /** The producer's bytes: the identity of one publication across gateway instances. */
  readonly payload: Uint8Array;
  /** De-duplication identity within the region (a `video_id`), or `null` for none. */
  readonly dedupeKey: string | null;
}

/** `fresh` goes out; `duplicate` repeats a key within the de-duplication window. */
export type AppendResult = "fresh" | "duplicate";

/** How the broker de-duplicates. */
export interface DedupeOptions {
  /** A key repeated within this many milliseconds of its first sighting is a duplicate; 0 disables. */
  readonly windowMs: number;
  /** Most keys remembered per region; the oldest are forgotten first. */
  readonly capacity: number;
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
   * Records a validated publication of `region` and decides whether it is new. Every gateway
   * instance on the same broker reaches the same verdict for the same publication.
   */
  append(region: string, request: AppendRequest): Promise<AppendResult>;
  /** Unsubscribes and releases connections. Idempotent. */
  close(): Promise<void>;
}
