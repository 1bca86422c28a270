/**
 * The embedded broker of a process with several workers: one {@link MemoryBroker} in the
 * supervisor, whose publications go to every worker, and whose record every worker shares.
 *
 * @module
 */

import type { BrokerState, DedupeOptions, HistoryOptions } from "../../brokers/broker.ts";
import { MemoryBroker } from "../../brokers/memory.ts";
import type { RelayCall } from "../../brokers/relay.ts";

/** Where the host sends what its broker delivers. */
export interface BrokerHostOutlet {
  /** To every worker: a publication. */
  publication(region: string, payload: Uint8Array): void;
  /** To every worker: the broker's new state. */
  state(state: BrokerState): void;
}

/** The supervisor's embedded broker. */
export class BrokerHost {
  readonly #broker: MemoryBroker;
  #state: BrokerState = "connecting";

  /** A broker keeping `options`' history and keys, delivering to `outlet`. */
  constructor(
    options: { readonly dedupe: DedupeOptions; readonly history: HistoryOptions },
    outlet: BrokerHostOutlet,
  ) {
    this.#broker = new MemoryBroker(options);
    this.#broker.start({
      publication: (region, payload) => outlet.publication(region, payload),
      stateChange: (state) => {
        this.#state = state;
        outlet.state(state);
      },
    });
  }

  /** The broker's state, for a worker that starts after it changed. */
  get state(): BrokerState {
    return this.#state;
  }

  /** Runs a worker's call on the broker. */
  call(call: RelayCall): Promise<unknown> {
    switch (call.method) {
      case "publish":
        return this.#broker.publish(...call.args);
      case "record":
        return this.#broker.record(...call.args);
      case "recover":
        return this.#broker.recover(...call.args);
      case "recentKeys":
        return this.#broker.recentKeys(...call.args);
    }
  }

  /** Closes the broker. */
  close(): Promise<void> {
    return this.#broker.close();
  }
}
