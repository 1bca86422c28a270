/**
 * The gateway's events off the hot path, each recorded the three ways an operator reads them:
 * counted in `/metrics`, logged in aggregate, and listed among the status page's recent refusals.
 *
 * @module
 */

import { Activity } from "../observe/activity.ts";
import { EventLogs } from "../observe/event_logs.ts";
import { errorFields, type Logger } from "../observe/log.ts";
import type { Metrics } from "../observe/metrics.ts";

/** A broker operation that can fail without stopping delivery. */
export type BrokerOperation = "record" | "recover" | "seed";

/** Where the gateway's events are counted, logged and listed. */
export class GatewayEvents {
  /** The aggregated logs, for the connections' own events. */
  readonly logs: EventLogs;
  /** Last messages and recent refusals, for the status page. */
  readonly activity = new Activity();
  readonly #metrics: Metrics;

  /** Events counted in `metrics` and logged through `logger`. */
  constructor(metrics: Metrics, logger: Logger) {
    this.#metrics = metrics;
    this.logs = new EventLogs(logger);
  }

  /** A WebSocket handshake refused with `reason` (the answer's `error`). */
  handshakeRefused(reason: string, address: string, detail: string): void {
    this.#metrics.handshakeRefusals.inc({ reason });
    this.logs.refusals.record(reason, { reason, address, detail });
    this.activity.refused({ kind: "handshake", reason, detail: `${address}: ${detail}` });
  }

  /** One answer of `POST /publish`: `published`, or the refusal's error code and its message. */
  publishAnswered(
    result: string,
    refusal?: { readonly address: string; readonly detail: string },
  ): void {
    this.#metrics.publishRequests.inc({ result });
    if (refusal === undefined) return;
    this.logs.publishRefusals.record(result, { result, ...refusal });
    this.activity.refused({
      kind: "publish_request",
      reason: result,
      detail: `${refusal.address}: ${refusal.detail}`,
    });
  }

  /** A publication on `region` that validation rejected. */
  publicationRejected(region: string, reason: string, detail: string): void {
    this.#metrics.messagesRejected.inc({ reason });
    this.logs.rejections.record(reason, { region, reason, detail });
    this.activity.refused({ kind: "publication", reason, region, detail });
  }

  /** A broker operation that failed; delivery went on. */
  brokerFailed(operation: BrokerOperation, error: unknown): void {
    this.#metrics.brokerErrors.inc({ operation });
    this.logs.brokerFailures.record(operation, { operation, ...errorFields(error) });
  }
}
