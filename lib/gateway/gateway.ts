/**
 * One gateway: the facade its callers (the HTTP edge, the process, a worker) use, and the place its
 * parts are wired. A publication's way out is `publications.ts`; who may connect is
 * `handshake.ts`; a resuming client's catch-up is `recovery.ts`; what is counted and logged is
 * `event_recorder.ts`; the connections themselves are `delivery/`. It knows the broker only through
 * its interface and sockets only through {@link Client}.
 *
 * Why the class is long: the constructor is the one place the parts are wired, and the rest is the
 * facade's verbs, a line or two each that hand over to the module that decides.
 *
 * @module
 */

import type { Broker } from "../brokers/broker.ts";
import { parsePublication, type ParseResult } from "../contract/message.ts";
import type { ConnectionLimits } from "../delivery/admission.ts";
import type { Client } from "../delivery/client.ts";
import { Connections } from "../delivery/connections.ts";
import { Hub } from "../delivery/hub.ts";
import { SendQueues } from "../delivery/send_queues.ts";
import { SharedQueuedBytes } from "../delivery/shared_queued_bytes.ts";
import type { Logger } from "../observe/log.ts";
import { Metrics, type MetricsJson } from "../observe/metrics.ts";
import type { ActivitySnapshot } from "../observe/recent_activity.ts";
import { fingerprint } from "../contract/fingerprint.ts";
import { messageId } from "../streams/frames.ts";
import { Streams } from "../streams/streams.ts";
import { BrokerStateHandler } from "./broker_state.ts";
import { ConnectTokens } from "./connect_tokens.ts";
import { EventRecorder, type PublishRefusal } from "./event_recorder.ts";
import type { GatewayDependencies, GatewayOptions } from "./gateway_options.ts";
import {
  type AcceptedHandshake,
  checkHandshake,
  connectionOptions,
  type HandshakeRequest,
  type HandshakeVerdict,
} from "./handshake.ts";
import { Publications } from "./publications.ts";
import { recoverClient } from "./recovery.ts";

/** Whether the gateway (or the process) takes clients, and why not. */
export type Readiness = { readonly ready: true } | {
  readonly ready: false;
  readonly reason: string;
};

/** What a publication would be, as {@link Gateway.preview} tells it. */
export interface PublicationPreview {
  /** The id clients will get it with. */
  readonly id: string;
  /** Present when it repeats a publication delivered within the window: that one's id, if known. */
  readonly repeats?: string | null;
}

const ENCODER = new TextEncoder();

/** What a gateway reports of itself: its metrics and its recent activity. */
export interface GatewaySnapshot {
  readonly metrics: MetricsJson;
  readonly activity: ActivitySnapshot;
}

/** Runs the fan-out of one process, or of one worker of it. */
export class Gateway {
  #options: GatewayOptions;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #limits: ConnectionLimits;
  readonly #metrics: Metrics;
  readonly #events: EventRecorder;
  readonly #hub: Hub;
  readonly #streams: Streams;
  readonly #connections: Connections;
  readonly #publications: Publications;
  #tokens: ConnectTokens;

  /** Wires a gateway; nothing happens before {@link start}. */
  constructor(options: GatewayOptions, dependencies: GatewayDependencies) {
    const { broker, limits } = dependencies;
    this.#options = options;
    this.#broker = broker;
    this.#logger = dependencies.logger;
    this.#limits = limits;
    const queues = new SendQueues(options.maxBufferedBytes);
    const hub = new Hub(options.regions, queues, { maxHeldBytes: 2 * options.maxBufferedBytes });
    this.#hub = hub;
    this.#tokens = new ConnectTokens(options.connectTokens);
    this.#metrics = new Metrics({
      regions: options.regions,
      connections: (region) => hub.count(region),
      openSockets: () => hub.size,
      clients: (transport) => hub.sizeOf(transport),
      pendingSockets: () => limits.held - hub.size,
      draining: () => this.#connections.draining,
      queuedBytes: () => this.#connections.queuedBytes(),
      limits: {
        sockets: options.maxConnections,
        queuedBytes: options.maxQueuedBytes,
        residentBytes: options.maxResidentBytes,
      },
    });
    const events = new EventRecorder(this.#metrics, this.#logger);
    this.#events = events;
    this.#streams = new Streams(broker, {
      regions: options.regions,
      dedupeWindowMs: options.dedupe.windowMs,
      dedupeCapacity: options.dedupe.capacity,
      recentFrames: options.recentFrames,
      // A record that fails costs recovery of that message, never its delivery.
      onRecordError: (error) => events.brokerFailed("record", error),
    });
    const recovery = { streams: this.#streams, hub, metrics: this.#metrics, events };
    this.#connections = new Connections({
      hub,
      queues,
      limits,
      maxQueuedBytes: options.maxQueuedBytes,
      overloadLagMs: options.overloadLagMs,
      maxResidentBytes: options.maxResidentBytes,
      heartbeatMs: options.heartbeatMs,
      sharedQueuedBytes: dependencies.sharedQueuedBytes ?? SharedQueuedBytes.single(),
      backlog: () => this.#publications.backlog(),
      events,
      onOpen: (client) => {
        for (const [region, cursor] of client.since ?? []) {
          void recoverClient(client, { region, cursor }, recovery);
        }
      },
    });
    this.#publications = new Publications({
      ...recovery,
      maxMessageBytes: options.maxMessageBytes,
      // Half a client's budget and a sixteenth of the process's: `publications.ts`, "Pacing".
      perTurn: {
        payloadBytes: options.maxBufferedBytes / 2,
        handedBytes: options.maxQueuedBytes / 16,
      },
      handed: (frameBytes, sockets) => this.#connections.handed(frameBytes, sockets),
      room: () => this.#connections.hasRoom(),
    });
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
    const state = new BrokerStateHandler({
      broker: this.#broker.kind,
      regions: this.#options.regions,
      streams: this.#streams,
      publications: this.#publications,
      metrics: this.#metrics,
      logger: this.#logger,
      failed: (operation, error) => this.#events.brokerFailed(operation, error),
    });
    this.#broker.start(state);
  }

  /** Publishes as a producer does, through the broker; resolves to the receivers it reached. */
  publish(region: string, payload: string): Promise<number> {
    return this.#broker.publish(region, payload);
  }

  /**
   * What publishing `body` (a validated message with `dedupeKey`) on `region` would give: its id,
   * and, when it repeats one delivered within the de-duplication window, that one's id (`null` if
   * this gateway knows the key but not its message). Remembers nothing: the broadcast decides.
   */
  preview(region: string, body: string, dedupeKey: string | null): PublicationPreview {
    const print = fingerprint(ENCODER.encode(body));
    const repeats = this.#streams.repeatOf(region, print, dedupeKey);
    return { id: messageId(region, print), ...(repeats !== undefined && { repeats }) };
  }

  /**
   * Validates a payload as a publication on `region`'s channel would be; `null` means the message
   * must name its region (for `POST /publish`).
   */
  validate(payload: Uint8Array, region: string | null): ParseResult {
    return parsePublication(payload, { region, maxBytes: this.#options.maxMessageBytes });
  }

  /**
   * Checks a handshake (`handshake.ts`). With `reserve`, an accepted handshake takes its connection
   * slot, to be handed to {@link accept} or given back with {@link cancel}. Refusals are counted
   * and logged in aggregate.
   */
  async handshake(
    request: HandshakeRequest,
    options: { readonly reserve: boolean },
  ): Promise<HandshakeVerdict> {
    const { allowedOrigins, regions, defaultRegion } = this.#options;
    const verdict = await checkHandshake(request, {
      draining: this.draining,
      origins: allowedOrigins,
      regions,
      defaultRegion,
      limits: this.#limits,
      tokens: this.#tokens,
    }, options);
    if (!verdict.ok) {
      this.#events.handshakeRefused(verdict.refusal.error, request.address, verdict.message);
    }
    return verdict;
  }

  /**
   * Wraps an upgraded socket whose slot was reserved; it joins its regions once open. A client that
   * asked for recovery (`?since=`) first gets, per region, its recovery and replay.
   */
  accept(socket: WebSocket, handshake: AcceptedHandshake, address: string): Client {
    return this.#connections.accept(socket, connectionOptions(handshake, address));
  }

  /**
   * Opens a Server-Sent Events stream for a handshake whose slot was reserved, and returns the
   * response that carries it; the client joins its regions once the response starts, as a socket
   * does once open, and is from then on served, bounded, shed and drained as one.
   */
  openStream(handshake: AcceptedHandshake, address: string): Response {
    return this.#connections.openStream(connectionOptions(handshake, address));
  }

  /**
   * Takes on the settings of `options` that change live (a reload): the origins and the token
   * checks apply to the next handshake; no open client is touched.
   */
  reconfigure(options: GatewayOptions): void {
    const { allowedOrigins, connectTokens } = options;
    this.#options = { ...this.#options, allowedOrigins, connectTokens };
    this.#tokens = new ConnectTokens(connectTokens);
  }

  /** Counts a reload of the settings that ended with `result`. */
  settingsReloaded(result: string): void {
    this.#metrics.settingsReloads.inc({ result });
  }

  /** Gives back the slot of a reserved handshake that did not upgrade. */
  cancel(address: string): void {
    this.#connections.cancel(address);
  }

  /**
   * Counts one answer of `POST /publish` to `producer` (`null`: not let in); a refusal is also
   * logged, and listed or counted.
   */
  publishAnswered(result: string, producer: string | null, refusal?: PublishRefusal): void {
    this.#events.publishAnswered(result, producer, refusal);
  }

  /** `/metrics` of this gateway: the body, in the Prometheus text format, and its type. */
  async scrape(): Promise<{ readonly body: string; readonly contentType: string }> {
    return { body: await this.#metrics.render(), contentType: this.#metrics.contentType };
  }

  /** Clients of each region now. */
  viewers(): Record<string, number> {
    return Object.fromEntries(
      this.#options.regions.map((region) => [region, this.#hub.viewers(region)]),
    );
  }

  /** This gateway's metrics and activity, for the status page and a process of workers. */
  async snapshot(): Promise<GatewaySnapshot> {
    return { metrics: await this.#metrics.json(), activity: this.#events.activity.snapshot() };
  }

  /** Stops taking clients and closes the open ones with the restart code over `windowMs`. */
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
    this.#events.flush();
  }
}
