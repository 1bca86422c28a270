/**
 * What the broker's subscription coming and going does to the streams. When it is ready (at start,
 * or back after an outage) publications are held until the de-duplication keys other instances
 * recorded are loaded, so that this instance decides as they do, and replays from the broker wait
 * for the records just before; when it is lost, the recent frames no longer tell what followed a
 * cursor, and are forgotten. Each change is counted and logged once.
 *
 * @module
 */

import type { BrokerListener, BrokerState } from "../brokers/broker.ts";
import type { Logger } from "../observe/log.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Streams } from "../streams/streams.ts";

/** What the subscription acts on. */
export interface BrokerStateHandlerContext {
  /** The broker's name, for metrics and logs. */
  readonly broker: "memory" | "redis";
  readonly regions: readonly string[];
  readonly streams: Streams;
  /** The publications on their way in: held while the keys load. */
  readonly publications: {
    push(region: string, payload: Uint8Array): void;
    hold(): void;
    release(): void;
  };
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** A broker operation failed (here: loading the keys). */
  readonly failed: (operation: "seed", error: unknown) => void;
}

/** The broker's listener, for one gateway. */
export class BrokerStateHandler implements BrokerListener {
  readonly #context: BrokerStateHandlerContext;
  #everReady = false;

  /** Starts not ready: `tvs_broker_connected` is 0 until the broker says otherwise. */
  constructor(context: BrokerStateHandlerContext) {
    this.#context = context;
    context.metrics.brokerConnected.set({ broker: context.broker }, 0);
  }

  /** A raw publication: on its way out (`publications.ts`). */
  publication(region: string, payload: Uint8Array): void {
    this.#context.publications.push(region, payload);
  }

  /** The broker moved to `state`. */
  stateChange(state: BrokerState, cause?: string): void {
    const { broker, metrics, logger, streams } = this.#context;
    metrics.brokerConnected.set({ broker }, state === "ready" ? 1 : 0);
    if (state === "ready") {
      if (this.#everReady) metrics.brokerReconnects.inc();
      this.#everReady = true;
      streams.subscribed();
      void this.#seed();
      logger.info("broker ready", { broker, regions: this.#context.regions });
    } else if (state === "closed") {
      logger.info("broker closed", { broker });
    } else {
      streams.brokerLost();
      logger.warn("broker unavailable, retrying", { broker, state, cause });
    }
  }

  /** A broker connection went silent and is being replaced. */
  connectionSilent(connection: string, silentMs: number): void {
    this.#context.metrics.brokerSilences.inc({ connection });
    this.#context.logger.warn("broker connection silent", {
      broker: this.#context.broker,
      connection,
      silentMs: Math.round(silentMs),
      action: "dropping it and reconnecting",
    });
  }

  /** The broker's Redis failed over to `master`. */
  failover(master: string): void {
    this.#context.metrics.brokerFailovers.inc();
    this.#context.logger.warn("broker failover", {
      broker: this.#context.broker,
      master,
      action: "subscribing on the new master",
    });
  }

  /** Loads the broker's de-duplication keys, then lets waiting publications through, in order. */
  async #seed(): Promise<void> {
    const { publications, streams } = this.#context;
    publications.hold();
    try {
      await streams.seed();
    } catch (error) {
      this.#context.failed("seed", error);
    }
    publications.release();
  }
}
