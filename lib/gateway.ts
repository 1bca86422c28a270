/**
 * The gateway's decisions: what a publication becomes (validated, normalised, serialised once),
 * whether it is new (the broker's verdict), who gets it (the hub of its region), and what each
 * connection's lifecycle does to the registry and metrics. It knows the broker only through its
 * interface and sockets only through {@link Client}.
 *
 * @module
 */

import type { Broker, BrokerState } from "./broker.ts";
import { Client } from "./client.ts";
import type { Config } from "./config.ts";
import { Hub } from "./hub.ts";
import { AggregatedLog, errorFields, type Logger } from "./log.ts";
import { type AcceptedMessage, parsePublication, type ParseResult } from "./message.ts";
import { Metrics } from "./metrics.ts";

/** Where a new connection comes from and what it asked for. */
export interface ConnectionRequest {
  readonly regions: readonly string[];
  readonly remoteAddress: string;
}

/** Runs the fan-out of one process. */
export class Gateway {
  readonly #config: Config;
  readonly #broker: Broker;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #hub: Hub;
  readonly #rejections: AggregatedLog;
  readonly #brokerFailures: AggregatedLog;
  #everReady = false;

  /** Wires a gateway; nothing happens before {@link start}. */
  constructor(
    config: Config,
    dependencies: { readonly broker: Broker; readonly logger: Logger },
  ) {
    this.#config = config;
    this.#broker = dependencies.broker;
    this.#logger = dependencies.logger;
    const hub = new Hub(config.regions);
    this.#hub = hub;
    this.#metrics = new Metrics({
      regions: config.regions,
      connections: (region) => hub.count(region),
    });
    this.#rejections = new AggregatedLog(this.#logger, "publication rejected");
    this.#brokerFailures = new AggregatedLog(this.#logger, "broker operation failed", {
      level: "error",
    });
  }

  /** The broker in use. */
  get broker(): Broker {
    return this.#broker;
  }

  /** The gateway's metrics, for `/metrics`. */
  get metrics(): Metrics {
    return this.#metrics;
  }

  /** Starts the broker; publications flow from then on. */
  start(): void {
    this.#metrics.brokerConnected.set({ broker: this.#broker.kind }, 0);
    this.#broker.start({
      publication: (region, payload) => this.#onPublication(region, payload),
      stateChange: (state, cause) => this.#onBrokerState(state, cause),
    });
  }

  /**
   * Validates a payload as a publication on `region`'s channel would be; `null` means the message
   * must name its region (for `POST /publish`).
   */
  validate(payload: Uint8Array, region: string | null): ParseResult {
    return parsePublication(payload, { region, maxBytes: this.#config.maxMessageBytes });
  }

  /** Wraps an upgraded socket; the client joins its regions once its handshake completes. */
  accept(socket: WebSocket, request: ConnectionRequest): Client {
    return new Client(socket, request, {
      onOpen: (client) => this.#hub.add(client),
      onClose: (client) => this.#hub.remove(client),
    });
  }

  /** Stops the broker and flushes pending log summaries. */
  async close(): Promise<void> {
    await this.#broker.close();
    this.#rejections.flush();
    this.#brokerFailures.flush();
  }

  #onPublication(region: string, payload: Uint8Array): void {
    this.#metrics.messagesReceived.inc({ region });
    const result = this.validate(payload, region);
    if (!result.ok) {
      this.#metrics.messagesRejected.inc({ reason: result.reason });
      this.#rejections.record(result.reason, {
        region,
        reason: result.reason,
        detail: result.detail,
      });
      return;
    }
    const { message } = result;
    for (const field of message.removed) this.#metrics.fieldsRemoved.inc({ field });
    // Appends go out in arrival order on one connection and settle in that order, so the
    // broadcasts below keep the order of the region's publications.
    this.#broker.append(region, { payload, dedupeKey: message.dedupeKey }).then(
      (verdict) => {
        if (verdict === "duplicate") this.#metrics.messagesDeduplicated.inc({ region });
        else this.#broadcast(message);
      },
      (error) => {
        // Without a verdict, delivering beats dropping: a repeat is better than a loss.
        this.#metrics.brokerErrors.inc({ operation: "append" });
        this.#brokerFailures.record("append", { operation: "append", ...errorFields(error) });
        this.#broadcast(message);
      },
    );
  }

  #broadcast(message: AcceptedMessage): void {
    const { delivered } = this.#hub.broadcast(message.region, message.body);
    this.#metrics.deliveries.inc({ region: message.region }, delivered);
  }

  #onBrokerState(state: BrokerState, cause: string | undefined): void {
    const kind = this.#broker.kind;
    this.#metrics.brokerConnected.set({ broker: kind }, state === "ready" ? 1 : 0);
    if (state === "ready") {
      if (this.#everReady) this.#metrics.brokerReconnects.inc();
      this.#everReady = true;
      this.#logger.info("broker ready", { broker: kind, regions: this.#config.regions });
    } else if (state === "closed") {
      this.#logger.info("broker closed", { broker: kind });
    } else {
      this.#logger.warn("broker unavailable, retrying", { broker: kind, state, cause });
    }
  }
}
