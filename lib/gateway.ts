/**
 * The gateway's decisions: what a publication becomes (validated, normalised, serialised once),
 * whether it is new (`streams.ts`), who gets it (the hub of its region), which handshakes are let
 * in, and what each connection's lifecycle does to the registry, the limits and the metrics. It
 * knows the broker only through its interface and sockets only through {@link Client}.
 *
 * @module
 */

import { CLOSE_CODES, HANDSHAKE_REFUSALS } from "../static/close_codes.js";
import { Admission } from "./http/admission.ts";
import type { Broker, BrokerState, Cursor } from "./brokers/broker.ts";
import { Client, type ClientContext } from "./delivery/client.ts";
import type { Config } from "./ops/config.ts";
import { fingerprint } from "./streams/fingerprint.ts";
import {
  type AcceptedHandshake,
  checkRegions,
  type HandshakeVerdict,
  refused,
} from "./http/handshake.ts";
import { Hub } from "./delivery/hub.ts";
import { AggregatedLog, errorFields, type LogFields, type Logger } from "./ops/log.ts";
import { parsePublication, type ParseResult } from "./contract/message.ts";
import { Metrics, type RegionCounts } from "./ops/metrics.ts";
import { originAllowed } from "./http/origin.ts";
import { PublicationPacer } from "./delivery/publication_pacer.ts";
import { QueueBounds } from "./delivery/queue_bounds.ts";
import type { RecentFrame } from "./streams/recent_frames.ts";
import { Streams } from "./streams/streams.ts";
import { utf8Length } from "./contract/utf8.ts";

/** How long a closing socket may take to confirm before it is given up, in ms. */
export const CLOSE_TIMEOUT_MS = 5000;
/** Interval between two batches of a drain, in ms. */
const DRAIN_TICK_MS = 100;
/**
 * After its last batch, how long a drain waits for close handshakes, in ms. Long enough for every
 * close frame to be written (stopping the server earlier cuts sockets with 1001 instead of 1012),
 * short enough that reconnecting clients soon meet a closed port instead of a draining server.
 */
const DRAIN_FLUSH_MS = 500;

/** What the gateway needs to know of a WebSocket handshake. */
export interface HandshakeRequest {
  readonly params: URLSearchParams;
  /** The `Origin` header, or `null`. */
  readonly origin: string | null;
  /** The `Host` header. */
  readonly host: string;
  /** Address of the client (behind a trusted proxy, the one it names). */
  readonly address: string;
  /** `Sec-WebSocket-Version` of an upgrade; `null` for the plain-HTTP probe, which has none. */
  readonly version: string | null;
}

/** The one WebSocket protocol version (RFC 6455 §4.4: refuse others with 426 naming it). */
const WEBSOCKET_VERSION = "13";

/** Runs the fan-out of one process. */
export class Gateway {
  readonly #config: Config;
  readonly #broker: Broker;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #hub: Hub;
  readonly #admission: Admission;
  readonly #rejections: AggregatedLog;
  readonly #refusals: AggregatedLog;
  readonly #closes: AggregatedLog;
  readonly #brokerFailures: AggregatedLog;
  readonly #publishRefusals: AggregatedLog;
  /** Settings and callbacks shared by every client. */
  readonly #clientContext: ClientContext;
  #everReady = false;
  #draining = false;
  #closeTimeouts = 0;
  readonly #streams: Streams;
  /**
   * Publications in order: held while the de-duplication keys are loaded (after a start or a
   * reconnect), then handled at most half a client's byte budget per event-loop turn.
   */
  readonly #publications: PublicationPacer;
  /** Clients the drain has yet to close, oldest first; `null` once its window has passed. */
  #drainQueue: Client[] | null = [];
  /** Resolves the drain's wait once no socket is left. */
  #onIdle: (() => void) | undefined;

  /** Wires a gateway; nothing happens before {@link start}. */
  constructor(
    config: Config,
    dependencies: { readonly broker: Broker; readonly logger: Logger },
  ) {
    this.#config = config;
    this.#broker = dependencies.broker;
    this.#logger = dependencies.logger;
    const bounds = new QueueBounds(config.maxBufferedBytes);
    const hub = new Hub(config.regions, bounds, { maxHeldBytes: 2 * config.maxBufferedBytes });
    this.#streams = new Streams(this.#broker, {
      regions: config.regions,
      dedupeWindowMs: config.dedupeWindowSeconds * 1000,
      dedupeCapacity: config.dedupeCapacity,
      recentFrames: config.historySize,
      // A record that fails costs recovery of that message, never its delivery.
      onRecordError: (error) => {
        this.#metrics.brokerErrors.inc({ operation: "record" });
        this.#brokerFailures.record("record", { operation: "record", ...errorFields(error) });
      },
    });
    // Half the budget: what one turn queues for a client stays within it, with room for what the
    // turns before left unwritten.
    this.#publications = new PublicationPacer(
      config.maxBufferedBytes / 2,
      (region, payload) => this.#process(region, payload),
    );
    const admission = new Admission(config);
    this.#hub = hub;
    this.#admission = admission;
    this.#metrics = new Metrics({
      regions: config.regions,
      connections: (region) => hub.count(region),
      openSockets: () => hub.size,
      pendingSockets: () => admission.total - hub.size,
      draining: () => this.#draining,
    });
    this.#rejections = new AggregatedLog(this.#logger, "publication rejected");
    this.#refusals = new AggregatedLog(this.#logger, "handshake refused", { level: "info" });
    this.#closes = new AggregatedLog(this.#logger, "client closed", { level: "info" });
    this.#brokerFailures = new AggregatedLog(this.#logger, "broker operation failed", {
      level: "error",
    });
    this.#publishRefusals = new AggregatedLog(this.#logger, "publish refused");
    this.#clientContext = {
      bounds,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      onOpen: (client) => this.#onClientOpen(client),
      onClose: (client, code) => this.#onClientClose(client, code),
      onRelease: (client, timedOut) => this.#onClientRelease(client, timedOut),
      onViolation: (client, kind) => {
        this.#metrics.inboundViolations.inc({ kind });
        this.#closes.record(kind, { reason: kind, address: client.remoteAddress });
      },
    };
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
    return this.#draining;
  }

  /** Starts the broker; publications flow from then on. */
  start(): void {
    this.#metrics.brokerConnected.set({ broker: this.#broker.kind }, 0);
    this.#broker.start({
      publication: (region, payload) => this.#publications.push(region, payload),
      stateChange: (state, cause) => this.#onBrokerState(state, cause),
      connectionSilent: (connection, silentMs) => {
        this.#metrics.brokerSilences.inc({ connection });
        this.#logger.warn("broker connection silent", {
          broker: this.#broker.kind,
          connection,
          silentMs: Math.round(silentMs),
          action: "dropping it and reconnecting",
        });
      },
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
   * Checks a handshake: draining, origin, regions, then capacity. With `reserve`, an accepted
   * handshake takes its connection slot, to be handed to {@link accept} or given back with
   * {@link cancel}. Refusals are counted and logged in aggregate.
   */
  handshake(request: HandshakeRequest, options: { readonly reserve: boolean }): HandshakeVerdict {
    const verdict = this.#check(request, options.reserve);
    if (!verdict.ok) {
      const reason = verdict.refusal.error;
      this.#metrics.handshakeRefusals.inc({ reason });
      this.#refusals.record(reason, { reason, address: request.address, detail: verdict.message });
    }
    return verdict;
  }

  /**
   * Counts one answer of `POST /publish` by `result` (`published`, or the refusal's error code);
   * a refusal is logged in aggregate with `fields`.
   */
  countPublishRequest(result: string, fields: LogFields = {}): void {
    this.#metrics.publishRequests.inc({ result });
    if (result !== "published") this.#publishRefusals.record(result, { result, ...fields });
  }

  /** Gives back the slot of a reserved handshake that did not upgrade. */
  cancel(address: string): void {
    this.#admission.release(address);
  }

  /**
   * Wraps an upgraded socket whose slot was reserved; it joins its regions once open. A client that
   * asked for recovery (`?since=`) first gets, per region, its recovery and replay.
   */
  accept(socket: WebSocket, handshake: AcceptedHandshake, address: string): Client {
    return new Client(socket, this.#clientContext, {
      regions: handshake.regions,
      remoteAddress: address,
      since: handshake.since,
    });
  }

  #onClientOpen(client: Client): void {
    this.#hub.add(client, { recovering: client.since !== null });
    // A handshake in flight when the drain began leaves with a later batch, or at once when the
    // drain's window has passed.
    if (this.#draining) {
      if (this.#drainQueue === null) client.close(CLOSE_CODES.serviceRestart);
      else this.#drainQueue.push(client);
    }
    for (const [region, cursor] of client.since ?? []) void this.#recover(client, region, cursor);
  }

  #onClientRelease(client: Client, timedOut: boolean): void {
    this.#admission.release(client.remoteAddress);
    if (timedOut) {
      this.#closeTimeouts++;
      this.#metrics.closeTimeouts.inc();
    }
    if (this.#admission.total === 0) this.#onIdle?.();
  }

  /**
   * Stops taking clients and closes the open ones with the restart code, in batches spread over
   * `windowMs`, so that a deploy does not make every client reconnect in the same instant. Resolves
   * once every close handshake has finished, or {@link DRAIN_FLUSH_MS} after the last batch.
   */
  async drain(windowMs: number): Promise<void> {
    this.#draining = true;
    const started = performance.now();
    const timeoutsBefore = this.#closeTimeouts;
    const queue: Client[] = this.#drainQueue ?? [];
    queue.push(...this.#hub.all());
    const ticks = Math.max(1, Math.floor(windowMs / DRAIN_TICK_MS));
    this.#logger.info("draining", { clients: queue.length, windowMs });
    // Sockets still connecting (or closing) may yet open and join the queue.
    const pending = () => queue.length > 0 || this.#admission.total > this.#hub.size;
    for (let tick = 0; tick < ticks && pending(); tick++) {
      const batch = queue.splice(0, Math.ceil(queue.length / (ticks - tick)));
      for (const client of batch) client.close(CLOSE_CODES.serviceRestart);
      if (tick + 1 < ticks) await new Promise((resolve) => setTimeout(resolve, DRAIN_TICK_MS));
    }
    // Past the window, whatever opened in its last moments goes at once, and so will later ones.
    this.#drainQueue = null;
    for (const client of queue.splice(0)) client.close(CLOSE_CODES.serviceRestart);
    if (this.#admission.total > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setTimeout(resolve, DRAIN_FLUSH_MS);
      });
      clearTimeout(timer);
    }
    this.#logger.info("drained", {
      unconfirmed: this.#admission.total,
      ms: Math.round(performance.now() - started),
      closeTimeouts: this.#closeTimeouts - timeoutsBefore,
    });
  }

  /**
   * Stops the broker (records already sent still complete: the Redis client's close waits for
   * commands in flight) and flushes pending log summaries.
   */
  async close(): Promise<void> {
    this.#streams.flush();
    await this.#broker.close();
    const logs = [
      this.#rejections,
      this.#refusals,
      this.#closes,
      this.#brokerFailures,
      this.#publishRefusals,
    ];
    for (const log of logs) {
      log.flush();
    }
  }

  #check(request: HandshakeRequest, reserve: boolean): HandshakeVerdict {
    if (this.#draining) {
      return refused(HANDSHAKE_REFUSALS.draining, "The gateway is restarting; try another one");
    }
    if (request.version !== null && request.version !== WEBSOCKET_VERSION) {
      return refused(
        HANDSHAKE_REFUSALS.unsupportedVersion,
        `WebSocket version ${WEBSOCKET_VERSION} only (RFC 6455)`,
        {},
        { "sec-websocket-version": WEBSOCKET_VERSION },
      );
    }
    if (!originAllowed(this.#config.allowedOrigins, request.origin, request.host)) {
      return refused(HANDSHAKE_REFUSALS.originNotAllowed, "Origin not allowed");
    }
    const verdict = checkRegions(request.params, this.#config);
    if (!verdict.ok) return verdict;
    const full = reserve
      ? this.#admission.admit(request.address)
      : this.#admission.check(request.address);
    if (full !== undefined) return refused(full, "Too many connections; retry later");
    return verdict;
  }

  #onClientClose(client: Client, code: number): void {
    this.#hub.remove(client);
    this.#metrics.disconnects.inc({ code: String(code) });
    if (code === CLOSE_CODES.slowConsumer.code) {
      this.#metrics.slowConsumerCloses.inc();
      this.#closes.record("slow_consumer", {
        reason: "slow_consumer",
        address: client.remoteAddress,
        regions: client.regions,
      });
    }
  }

  #process(region: string, payload: Uint8Array): void {
    const counts = this.#metrics.region(region);
    counts.received++;
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
    this.#metrics.messageAccepted();
    for (const field of message.removed) this.#metrics.fieldsRemoved.inc({ field });
    const print = fingerprint(payload);
    if (!this.#streams.admit(region, print, message.dedupeKey)) {
      counts.deduplicated++;
      return;
    }
    const request = { fingerprint: print, body: message.body, dedupeKey: message.dedupeKey };
    const frame = this.#streams.deliver(region, request);
    this.#broadcast(region, frame, counts);
    this.#streams.record(region, frame, request);
  }

  #broadcast(region: string, frame: RecentFrame, counts: RegionCounts): void {
    const started = performance.now();
    const result = this.#hub.broadcast(region, frame);
    this.#metrics.broadcastDuration.observe((performance.now() - started) / 1000);
    counts.deliveries += result.delivered;
  }

  /**
   * Catches `client` up on `region`: the control frame, the missed messages, then what was
   * broadcast meanwhile that the catch-up did not carry; then it is live. No gap, no duplicate.
   */
  async #recover(client: Client, region: string, cursor: Cursor | null): Promise<void> {
    const catchUp = await this.#streams.catchUp(region, cursor);
    this.#metrics.recoveries.inc({ result: catchUp.result });
    if (catchUp.result === "unavailable") {
      this.#metrics.brokerErrors.inc({ operation: "recover" });
      this.#brokerFailures.record("recover", {
        operation: "recover",
        ...errorFields(catchUp.brokerError),
      });
      // Telling the client "not recovered" would make it drop a cursor the history may still
      // cover once the broker is back: it reconnects with the cursor instead.
      client.close(CLOSE_CODES.tryAgainLater);
      return;
    }
    if (!client.open) return;
    client.send(catchUp.control, utf8Length(catchUp.control));
    const sent = new Set<string>();
    for (const frame of catchUp.frames) {
      if (!(await client.sendPaced(frame.frame, frame.bytes))) return;
      sent.add(frame.fingerprint);
    }
    this.#metrics.replayedMessages.inc(catchUp.frames.length);
    for (const held of this.#hub.goLive(client, region)) {
      if (!sent.has(held.fingerprint)) client.send(held.frame, held.bytes);
    }
  }

  /** Loads the broker's de-duplication keys, then lets waiting publications through, in order. */
  async #seed(): Promise<void> {
    this.#publications.hold();
    try {
      await this.#streams.seed();
    } catch (error) {
      this.#metrics.brokerErrors.inc({ operation: "seed" });
      this.#brokerFailures.record("seed", { operation: "seed", ...errorFields(error) });
    }
    this.#publications.release();
  }

  #onBrokerState(state: BrokerState, cause: string | undefined): void {
    const kind = this.#broker.kind;
    this.#metrics.brokerConnected.set({ broker: kind }, state === "ready" ? 1 : 0);
    if (state === "ready") {
      if (this.#everReady) this.#metrics.brokerReconnects.inc();
      this.#everReady = true;
      this.#streams.subscribed();
      void this.#seed();
      this.#logger.info("broker ready", { broker: kind, regions: this.#config.regions });
    } else if (state === "closed") {
      this.#logger.info("broker closed", { broker: kind });
    } else {
      this.#streams.brokerLost();
      this.#logger.warn("broker unavailable, retrying", { broker: kind, state, cause });
    }
  }
}
