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
  /** Unsubscribes and releases connections. Idempotent. */
  close(): Promise<void>;
}
