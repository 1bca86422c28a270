/**
 * The gateway's events off the hot path, each recorded the ways an operator reads them: counted in
 * `/metrics`, logged in aggregate (the first of a kind at once, then one count per interval, never
 * a line per message or per handshake), and for refusals listed on the status page.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Client } from "../delivery/client.ts";
import type { ConnectionEvents } from "../delivery/connections.ts";
import { AggregatedLog, errorFields, type Logger } from "../observe/log.ts";
import type { Metrics } from "../observe/metrics.ts";
import { RecentActivity } from "../observe/recent_activity.ts";

/** A refused `POST /publish`: who sent it and what it was told. */
export interface PublishRefusal {
  readonly address: string;
  readonly detail: string;
}

/** A broker operation that can fail without stopping delivery. */
export type BrokerOperation = "record" | "recover" | "seed";

/** Where the gateway's events are counted, logged and listed. */
export class EventRecorder implements ConnectionEvents {
  /** Last messages and recent refusals, for the status page. */
  readonly activity = new RecentActivity();
  readonly #metrics: Metrics;
  /** Publications dropped by validation. */
  readonly #rejections: AggregatedLog;
  /** Handshakes refused before the upgrade. */
  readonly #refusals: AggregatedLog;
  /** Clients closed by the gateway: slow consumers, limits. */
  readonly #closes: AggregatedLog;
  readonly #brokerFailures: AggregatedLog;
  /** `POST /publish` requests refused. */
  readonly #publishRefusals: AggregatedLog;

  /** Events counted in `metrics` and logged through `logger`. */
  constructor(metrics: Metrics, logger: Logger) {
    this.#metrics = metrics;
    this.#rejections = new AggregatedLog(logger, "publication rejected");
    this.#refusals = new AggregatedLog(logger, "handshake refused", { level: "info" });
    this.#closes = new AggregatedLog(logger, "client closed", { level: "info" });
    this.#brokerFailures = new AggregatedLog(logger, "broker operation failed", { level: "error" });
    this.#publishRefusals = new AggregatedLog(logger, "publish refused");
  }

  /** A WebSocket handshake refused with `reason` (the answer's `error`). */
  handshakeRefused(reason: string, address: string, detail: string): void {
    this.#metrics.handshakeRefusals.inc({ reason });
    this.#refusals.record(reason, { reason, address, detail });
    this.activity.counted({ kind: "handshake", reason, detail: `${address}: ${detail}` });
  }

  /**
   * One answer of `POST /publish` to `producer` (`null`: a request not let in): `published`, or the
   * refusal's error code and its message. A refusal of a producer's request is listed with its
   * name, the others counted.
   */
  publishAnswered(result: string, producer: string | null, refusal?: PublishRefusal): void {
    this.#metrics.publishRequests.inc(producer === null ? { result } : { result, producer });
    if (refusal === undefined) return;
    const { address, detail } = refusal;
    const from = producer === null ? address : `${producer} (${address})`;
    this.#publishRefusals.record(result, {
      result,
      address,
      ...(producer !== null && { producer }),
      detail,
    });
    const entry = {
      kind: "publish_request" as const,
      reason: result,
      detail: `${from}: ${detail}`,
    };
    if (producer !== null) this.activity.refused(entry);
    else this.activity.counted(entry);
  }

  /** A publication on `region` that validation rejected. */
  publicationRejected(region: string, reason: string, detail: string): void {
    this.#metrics.messagesRejected.inc({ reason });
    this.#rejections.record(reason, { region, reason, detail });
    this.activity.refused({ kind: "publication", reason, region, detail });
  }

  /** A broker operation that failed; delivery went on. */
  brokerFailed(operation: BrokerOperation, error: unknown): void {
    this.#metrics.brokerErrors.inc({ operation });
    this.#brokerFailures.record(operation, { operation, ...errorFields(error) });
  }

  /** A client left, closed by either side with `code`. */
  clientClosed(client: Client, code: number): void {
    this.#metrics.disconnects.inc({ code: String(code) });
    if (code === CLOSE_CODES.tokenExpired.code) {
      this.#closes.record("token_expired", { reason: "token_expired", ...who(client) });
    }
    if (code !== CLOSE_CODES.slowConsumer.code) return;
    this.#metrics.slowConsumerCloses.inc();
    this.#closes.record("slow_consumer", {
      reason: "slow_consumer",
      ...who(client),
      regions: client.regions,
    });
  }

  /** A client closed to bring the process under `MAX_QUEUED_BYTES`. */
  clientShed(client: Client, queuedBytes: number): void {
    this.#metrics.overloadCloses.inc();
    this.#closes.record("overload", {
      reason: "overload",
      ...who(client),
      queuedBytes,
    });
  }

  /** A client closed to bring the process under `MAX_RSS_BYTES`. */
  memoryShed(client: Client, residentBytes: number): void {
    this.#metrics.memoryCloses.inc();
    this.#closes.record("memory", {
      reason: "memory",
      ...who(client),
      residentBytes,
    });
  }

  /** A client closed for breaking an inbound limit. */
  inboundViolation(client: Client, kind: "too_big" | "flood"): void {
    this.#metrics.inboundViolations.inc({ kind });
    this.#closes.record(kind, { reason: kind, ...who(client) });
  }

  /** A closing socket was given up: its peer never confirmed. */
  closeTimedOut(): void {
    this.#metrics.closeTimeouts.inc();
  }

  /** Writes every pending summary. */
  flush(): void {
    for (
      const log of [
        this.#rejections,
        this.#refusals,
        this.#closes,
        this.#brokerFailures,
        this.#publishRefusals,
      ]
    ) {
      log.flush();
    }
  }
}

/** Who a client is, for a log line: its address, and its token's `sub` when it had one. */
function who(client: Client): { address: string; sub?: string } {
  const { remoteAddress: address, subject } = client;
  return subject === null ? { address } : { address, sub: subject };
}
