/**
 * The embedded broker as a worker sees it: the one {@link MemoryBroker} lives in the supervisor,
 * so every worker receives every publication and records into the same history, as instances on
 * one Redis do. Publications and state changes arrive as notices; every operation is a request.
 *
 * @module
 */

import type {
  Broker,
  BrokerListener,
  BrokerState,
  Cursor,
  RecentKey,
  Recovery,
  RegionRecord,
  StreamPosition,
} from "./broker.ts";

/** A broker operation asked of the supervisor's broker. */
export type RelayCall =
  | { readonly method: "publish"; readonly args: [string, string] }
  | { readonly method: "record"; readonly args: [readonly RegionRecord[]] }
  | { readonly method: "recover"; readonly args: [string, Cursor | null] }
  | { readonly method: "recentKeys"; readonly args: [string] };

/** How a worker reaches the supervisor's broker. */
export type RelayLink = <T>(call: RelayCall) => Promise<T>;

/** A {@link Broker} whose other end is in the supervisor. */
export class RelayBroker implements Broker {
  readonly kind = "memory";
  readonly #call: RelayLink;
  #listener: BrokerListener | undefined;
  #state: BrokerState = "connecting";

  /** A broker asking over `call`; nothing arrives before {@link start}. */
  constructor(call: RelayLink) {
    this.#call = call;
  }

  /** The supervisor broker's state, as last told. */
  get state(): BrokerState {
    return this.#state;
  }

  /** Registers the listener. */
  start(listener: BrokerListener): void {
    if (this.#listener !== undefined) throw new Error("Broker already started");
    this.#listener = listener;
    if (this.#state !== "connecting") listener.stateChange(this.#state);
  }

  /** The supervisor's broker delivered `payload` on `region`. */
  deliver(region: string, payload: Uint8Array): void {
    if (this.#state === "ready") this.#listener?.publication(region, payload);
  }

  /** The supervisor's broker moved to `state`. */
  changeState(state: BrokerState, cause?: string): void {
    if (this.#state === "closed" || state === this.#state) return;
    this.#state = state;
    this.#listener?.stateChange(state, cause);
  }

  /** Publishes through the supervisor's broker to every worker. */
  publish(region: string, payload: string): Promise<number> {
    return this.#call({ method: "publish", args: [region, payload] });
  }

  /** Records in the one history of the process. */
  record(records: readonly RegionRecord[]): Promise<readonly StreamPosition[]> {
    return this.#call({ method: "record", args: [records] });
  }

  /** Recovers from the one history of the process. */
  recover(region: string, cursor: Cursor | null): Promise<Recovery> {
    return this.#call({ method: "recover", args: [region, cursor] });
  }

  /** The de-duplication keys of the one history. */
  recentKeys(region: string): Promise<readonly RecentKey[]> {
    return this.#call({ method: "recentKeys", args: [region] });
  }

  /** Stops listening; the supervisor's broker goes on for the other workers. */
  close(): Promise<void> {
    this.changeState("closed");
    return Promise.resolve();
  }
}
