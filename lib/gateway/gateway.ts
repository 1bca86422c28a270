/**
 * The gateway's decisions: what a publication becomes (validated, normalised, serialised once),
 * whether it is new (`streams/`), who gets it (the hub of its region), which handshakes are let
 * in (`http/handshake.ts`), and what each connection's lifecycle does to the registry, the limits
 * and the metrics. It knows the broker only through its interface and sockets only through
 * {@link Client}.
 *
 * The hot path: broker → {@link PublicationPacer} → `#process` (validate, fingerprint, claim,
 * append) → {@link Hub.broadcast} → each client's socket; the record goes to the broker after.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Broker, Cursor } from "../brokers/broker.ts";
import { parsePublication, type ParseResult } from "../contract/message.ts";
import type { Client } from "../delivery/client.ts";
import { Connections } from "../delivery/connections.ts";
import { Hub } from "../delivery/hub.ts";
import { PublicationPacer } from "../delivery/publication_pacer.ts";
import { QueueBoard } from "../delivery/queue_board.ts";
import { QueueBounds } from "../delivery/queue_bounds.ts";
import { replayAndGoLive } from "../delivery/replay.ts";
import { type ConnectionLimits, LocalLimits } from "../delivery/admission.ts";
import {
  type AcceptedHandshake,
  checkHandshake,
  type HandshakeRequest,
  type HandshakeVerdict,
} from "./handshake.ts";
import type { Config } from "../config/config.ts";
import { GatewayEvents } from "./gateway_events.ts";
import type { Logger } from "../observe/log.ts";
import { Metrics } from "../observe/metrics.ts";
import type { ActivitySnapshot } from "../observe/activity.ts";
import { fingerprint } from "../streams/fingerprint.ts";
import { Streams } from "../streams/streams.ts";
import { Subscription } from "./subscription.ts";

/** Whether the gateway (or the process) takes clients, and why not. */
export type Readiness = { readonly ready: true } | {
  readonly ready: false;
  readonly reason: string;
};

/** What a gateway runs with besides its configuration. */
export interface GatewayDependencies {
  readonly broker: Broker;
  readonly logger: Logger;
  /** Where connection slots are counted. @default LocalLimits of the configuration */
  readonly limits?: ConnectionLimits;
  /** Where this gateway's queued bytes are shared with the process's other workers. */
  readonly board?: QueueBoard;
}

/** Runs the fan-out of one process, or of one worker of it. */
export class Gateway {
  readonly #config: Config;
  readonly #broker: Broker;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #events: GatewayEvents;
  readonly #hub: Hub;
  readonly #limits: ConnectionLimits;
  readonly #connections: Connections;
  readonly #streams: Streams;
  /**
   * Publications in order: held while the de-duplication keys are loaded (after a start or a
   * reconnect), then handled at most half a client's byte budget per event-loop turn.
   */
  readonly #publications: PublicationPacer;

  /** Wires a gateway; nothing happens before {@link start}. */
  constructor(config: Config, dependencies: GatewayDependencies) {
    this.#config = config;
    this.#broker = dependencies.broker;
    this.#logger = dependencies.logger;
    const bounds = new QueueBounds(config.maxBufferedBytes);
    const hub = new Hub(config.regions, bounds, { maxHeldBytes: 2 * config.maxBufferedBytes });
    const limits = dependencies.limits ?? new LocalLimits(config);
    this.#hub = hub;
    this.#limits = limits;
    this.#streams = new Streams(this.#broker, {
      regions: config.regions,
      dedupeWindowMs: config.dedupeWindowSeconds * 1000,
      dedupeCapacity: config.dedupeCapacity,
      recentFrames: config.historySize,
      // A record that fails costs recovery of that message, never its delivery.
      onRecordError: (error) => this.#events.brokerFailed("record", error),
    });
    // Half the budget: what one turn queues for a client stays within it, with room for what the
    // turns before left unwritten.
    this.#publications = new PublicationPacer(
      config.maxBufferedBytes / 2,
      (region, payload, arrivedAt) => this.#process(region, payload, arrivedAt),
    );
    this.#metrics = new Metrics({
      regions: config.regions,
      connections: (region) => hub.count(region),
      openSockets: () => hub.size,
      pendingSockets: () => limits.held - hub.size,
      draining: () => this.#connections.draining,
      queuedBytes: () => this.#connections.queuedBytes(),
      limits: { sockets: config.maxConnections, queuedBytes: config.maxQueuedBytes },
    });
    this.#events = new GatewayEvents(this.#metrics, this.#logger);
    this.#connections = new Connections({
      hub,
      bounds,
      limits,
      maxQueuedBytes: config.maxQueuedBytes,
      board: dependencies.board ?? new QueueBoard(QueueBoard.buffer(1), 0),
      metrics: this.#metrics,
      logs: this.#events.logs,
      onOpen: (client) => {
        for (const [region, cursor] of client.since ?? []) {
          void this.#recover(client, region, cursor);
        }
      },
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

  /** Whether the gateway is draining: not ready, refusing new clients. */
  get draining(): boolean {
    return this.#connections.draining;
  }

  /** Whether this gateway takes clients: not draining, and its broker subscribed. */
  readiness(): Readiness {
    if (this.draining) return { ready: false, reason: "draining" };
    const state = this.#broker.state;
    return state === "ready" ? { ready: true } : { ready: false, reason: `broker_${state}` };
  }

  /** Starts the broker; publications flow from then on. */
  start(): void {
    const subscription = new Subscription({
      broker: this.#broker.kind,
      regions: this.#config.regions,
      streams: this.#streams,
      publications: this.#publications,
      metrics: this.#metrics,
      logger: this.#logger,
      failed: (operation, error) => this.#events.brokerFailed(operation, error),
    });
    this.#broker.start({
      publication: (region, payload) => this.#publications.push(region, payload),
      stateChange: (state, cause) => subscription.stateChange(state, cause),
      connectionSilent: (connection, silentMs) =>
        subscription.connectionSilent(connection, silentMs),
    });
  }

  /**
   * Validates a payload as a publication on `region`'s channel would be; `null` means the message
   * must name its region (for `POST /publish`).
   */
  validate(payload: Uint8Array, region: string | null): ParseResult {
    return parsePublication(payload, { region, maxBytes: this.#config.maxMessageBytes });
  }

  /**
   * Checks a handshake (`http/handshake.ts`). With `reserve`, an accepted handshake takes its
   * connection slot, to be handed to {@link accept} or given back with {@link cancel}. Refusals
   * are counted and logged in aggregate.
   */
  async handshake(
    request: HandshakeRequest,
    options: { readonly reserve: boolean },
  ): Promise<HandshakeVerdict> {
    const verdict = await checkHandshake(request, {
      draining: this.#connections.draining,
      origins: this.#config.allowedOrigins,
      regions: this.#config.regions,
      defaultRegion: this.#config.defaultRegion,
      limits: this.#limits,
    }, options);
    if (!verdict.ok) {
      this.#events.handshakeRefused(verdict.refusal.error, request.address, verdict.message);
    }
    return verdict;
  }

  /**
   * Counts one answer of `POST /publish` by `result` (`published`, or the refusal's error code);
   * a refusal is also logged in aggregate and listed on the status page.
   */
  countPublishRequest(
    result: string,
    refusal?: { readonly address: string; readonly detail: string },
  ): void {
    this.#events.publishAnswered(result, refusal);
  }

  /** The last message of each region and the latest refusals, for the status page. */
  activity(): ActivitySnapshot {
    return this.#events.activity.snapshot();
  }

  /** Gives back the slot of a reserved handshake that did not upgrade. */
  cancel(address: string): void {
    this.#connections.cancel(address);
  }

  /**
   * Wraps an upgraded socket whose slot was reserved; it joins its regions once open. A client that
   * asked for recovery (`?since=`) first gets, per region, its recovery and replay.
   */
  accept(socket: WebSocket, handshake: AcceptedHandshake, address: string): Client {
    return this.#connections.accept(socket, {
      regions: handshake.regions,
      since: handshake.since,
      remoteAddress: address,
    });
  }

  /**
   * Stops taking clients and closes the open ones with the restart code, spread over `windowMs`
   * (`delivery/drain.ts`).
   */
  async drain(windowMs: number): Promise<void> {
    this.#logger.info("draining", { clients: this.#hub.size, windowMs });
    const { unconfirmed, ms, closeTimeouts } = await this.#connections.drain(windowMs);
    this.#logger.info("drained", { unconfirmed, ms, closeTimeouts });
  }

  /**
   * Stops the broker (records already sent still complete: the Redis client's close waits for
   * commands in flight) and flushes pending log summaries.
   */
  async close(): Promise<void> {
    this.#connections.stop();
    this.#streams.flush();
    await this.#broker.close();
    this.#events.logs.flush();
  }

  #process(region: string, payload: Uint8Array, arrivedAt: number): void {
    const counts = this.#metrics.region(region);
    counts.received++;
    const result = this.validate(payload, region);
    if (!result.ok) {
      this.#events.publicationRejected(region, result.reason, result.detail);
      return;
    }
    const { message } = result;
    this.#metrics.messageAccepted();
    for (const field of message.removed) this.#metrics.fieldsRemoved.inc({ field });
    const print = fingerprint(payload);
    if (!this.#streams.claim(region, print, message.dedupeKey)) {
      counts.deduplicated++;
      return;
    }
    const publication = { fingerprint: print, body: message.body, dedupeKey: message.dedupeKey };
    const frame = this.#streams.append(region, publication);
    const started = performance.now();
    const delivery = this.#hub.broadcast(region, frame);
    const handedAt = performance.now();
    const now = Date.now();
    this.#metrics.broadcastDuration.record((handedAt - started) / 1000);
    this.#metrics.deliveryLag.record((handedAt - arrivedAt) / 1000, "arrival");
    if (message.producedAt !== null) {
      this.#metrics.deliveryLag.record(Math.max(0, now - message.producedAt) / 1000, "producer");
    }
    counts.deliveries += delivery.delivered;
    this.#events.activity.sent(region, message.body, now);
    this.#connections.handed(delivery.delivered * frame.bytes);
    this.#streams.record(region, frame, publication);
  }

  /** Catches `client` up on `region` from `cursor`, then makes it live there. */
  async #recover(client: Client, region: string, cursor: Cursor | null): Promise<void> {
    const catchUp = await this.#streams.catchUp(region, cursor);
    this.#metrics.recoveries.inc({ result: catchUp.result });
    if (catchUp.result === "unavailable") {
      this.#events.brokerFailed("recover", catchUp.brokerError);
      // Telling the client "not recovered" would make it drop a cursor the history may still
      // cover once the broker is back: it reconnects with the cursor instead.
      client.close(CLOSE_CODES.tryAgainLater);
      return;
    }
    if (await replayAndGoLive(client, region, catchUp, this.#hub)) {
      this.#metrics.replayedMessages.inc(catchUp.frames.length);
    }
  }
}
