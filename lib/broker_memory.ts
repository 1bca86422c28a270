/**
 * The embedded broker: publications stay in this process. It is the default when no `REDIS_URL`
 * is set, so the gateway runs with no dependency at all; `POST /publish` feeds it.
 *
 * @module
 */

import type {
  AppendRequest,
  AppendResult,
  Broker,
  BrokerListener,
  BrokerState,
  DedupeOptions,
} from "./broker.ts";
import { RecentKeys } from "./recent_keys.ts";

const encoder = new TextEncoder();

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** De-duplication rule. @default {windowMs: 3600000, capacity: 10000} */
  readonly dedupe?: DedupeOptions;
  /** Clock in milliseconds, for the de-duplication window. @default Date.now */
  readonly now?: () => number;
}

/** An in-process {@link Broker}. */
export class MemoryBroker implements Broker {
  readonly kind = "memory";
  readonly #dedupe: DedupeOptions;
  readonly #now: () => number;
  readonly #recentKeys = new Map<string, RecentKeys>();
  #listener: BrokerListener | undefined;
  #state: BrokerState = "connecting";

  /** Creates a broker. */
  constructor(options: MemoryBrokerOptions = {}) {
    this.#dedupe = options.dedupe ?? { windowMs: 3_600_000, capacity: 10_000 };
    this.#now = options.now ?? Date.now;
  }

  /** Current state: `ready` from {@link start} until {@link close}. */
  get state(): BrokerState {
    return this.#state;
  }

  /** Registers the listener; the broker is ready at once. */
  start(listener: BrokerListener): void {
    if (this.#listener !== undefined) throw new Error("Broker already started");
    this.#listener = listener;
    this.#setState("ready");
  }

  /** Delivers `payload` to the listener on a later microtask, as a network broker would. */
  publish(region: string, payload: string): Promise<number> {
    const listener = this.#listener;
    if (listener === undefined || this.#state !== "ready") return Promise.resolve(0);
    const bytes = encoder.encode(payload);
    queueMicrotask(() => listener.publication(region, bytes));
    return Promise.resolve(1);
  }

  /** A message is a duplicate when its key was first seen in the region within the window. */
  append(region: string, request: AppendRequest): Promise<AppendResult> {
    if (request.dedupeKey === null || this.#dedupe.windowMs === 0) return Promise.resolve("fresh");
    let keys = this.#recentKeys.get(region);
    if (keys === undefined) {
      keys = new RecentKeys({ ...this.#dedupe, now: this.#now });
      this.#recentKeys.set(region, keys);
    }
    return Promise.resolve(keys.claim(request.dedupeKey) ? "fresh" : "duplicate");
  }

  /** Stops delivering. */
  close(): Promise<void> {
    this.#setState("closed");
    return Promise.resolve();
  }

  #setState(state: BrokerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#listener?.stateChange(state);
  }
}
