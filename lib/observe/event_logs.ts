/**
 * The gateway's repetitive events, each logged in aggregate (`AggregatedLog`): the first of a kind
 * at once, then one count per interval, never a line per message or per handshake.
 *
 * @module
 */

import { AggregatedLog, type Logger } from "./log.ts";

/** The aggregated logs of one gateway. */
export class EventLogs {
  /** Publications dropped by validation. */
  readonly rejections: AggregatedLog;
  /** Handshakes refused before the upgrade. */
  readonly refusals: AggregatedLog;
  /** Clients closed by the gateway: slow consumers, inbound limits. */
  readonly closes: AggregatedLog;
  /** Broker operations that failed. */
  readonly brokerFailures: AggregatedLog;
  /** `POST /publish` requests refused. */
  readonly publishRefusals: AggregatedLog;

  /** The logs, written through `logger`. */
  constructor(logger: Logger) {
    this.rejections = new AggregatedLog(logger, "publication rejected");
    this.refusals = new AggregatedLog(logger, "handshake refused", { level: "info" });
    this.closes = new AggregatedLog(logger, "client closed", { level: "info" });
    this.brokerFailures = new AggregatedLog(logger, "broker operation failed", { level: "error" });
    this.publishRefusals = new AggregatedLog(logger, "publish refused");
  }

  /** Writes every pending summary. */
  flush(): void {
    for (
      const log of [
        this.rejections,
        this.refusals,
        this.closes,
        this.brokerFailures,
        this.publishRefusals,
      ]
    ) {
      log.flush();
    }
  }
}
