/**
 * The embedded broker: publications stay in this process. It is the default when no `REDIS_URL`
 * is set, so the gateway runs with no dependency at all; `POST /publish` feeds it.
 *
 * @module
 */

import type { Broker, BrokerListener, BrokerState } from "./broker.ts";

const encoder = new TextEncoder();

/** An in-process {@link Broker}. */
export class MemoryBroker implements Broker {
  readonly kind = "memory";
  #listener: BrokerListener | undefined;
  #state: BrokerState = "connecting";

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
