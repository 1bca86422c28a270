/**
 * Prometheus metrics of one gateway, in its own registry (two gateways in one process, as in
 * tests, never share counters). prom-client needs no Deno permission; process metrics come from
 * `Deno.memoryUsage()` because its default collectors read `/proc`, which the gateway may not.
 * These are the ones the gateway counts as things happen; `scrape_metrics.ts` has those read at
 * scrape time, the hot-path counts among them.
 *
 * Why the class is long: it is a table, one declared field per metric, each with its help text.
 *
 * @module
 */

import {
  Counter,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import { BucketHistogram } from "./bucket_histogram.ts";
import { type MetricsSources, type RegionCounts, registerScrapeMetrics } from "./scrape_metrics.ts";

/** Metrics as prom-client's `getMetricsAsJSON` gives them. */
export type MetricsJson = readonly MetricObjectWithValues<MetricValue<string>>[];

/**
 * `tvs_settings_reloads_total`, which a gateway that is the whole process counts, and a process of
 * workers counts in its supervisor (the workers' zeros sum in).
 */
export const SETTINGS_RELOADS = {
  name: "tvs_settings_reloads_total",
  help: "Reloads of the settings (SIGHUP), by result: applied, unchanged, refused or failed",
  labelNames: ["result"],
} as const;

/** Every metric of the gateway. Names follow Prometheus conventions: `tvs_` prefix, base units. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly #registry = new Registry();

  readonly #regionCounts = new Map<string, RegionCounts>();
  #lastMessageMs = 0;

  /** Publications dropped by validation, by reason. */
  readonly messagesRejected = new Counter({
    name: "tvs_messages_rejected_total",
    help: "Publications dropped by validation, by reason",
    labelNames: ["reason"],
    registers: [this.#registry],
    aggregator: "max",
  });

  /** Fields removed from accepted messages (a thumbnail that is not https). */
  readonly fieldsRemoved = new Counter({
    name: "tvs_message_fields_removed_total",
    help: "Fields removed from accepted messages, by field",
    labelNames: ["field"],
    registers: [this.#registry],
    aggregator: "max",
  });

  /** Broker operations that failed; the message still went out when it could. */
  readonly brokerErrors = new Counter({
    name: "tvs_broker_errors_total",
    help: "Broker operations that failed, by operation",
    labelNames: ["operation"],
    registers: [this.#registry],
  });

  /** Whether the broker is subscribed to every region. */
  readonly brokerConnected = new Gauge({
    name: "tvs_broker_connected",
    help: "1 when the broker is connected and subscribed to every region, else 0",
    labelNames: ["broker"],
    registers: [this.#registry],
    // The process is subscribed when every worker is.
    aggregator: "min",
  });

  /** Times the broker connection was lost and came back. */
  readonly brokerReconnects = new Counter({
    name: "tvs_broker_reconnects_total",
    help: "Times the broker connection came back after being lost",
    registers: [this.#registry],
  });

  /** Broker connections found silent (no answer to a ping, not closed) and replaced. */
  readonly brokerSilences = new Counter({
    name: "tvs_broker_silent_connections_total",
    help: "Broker connections that stopped answering pings without closing, then replaced",
    labelNames: ["connection"],
    registers: [this.#registry],
  });

  /** Times the broker's Redis failed over to another master (as Sentinel named it). */
  readonly brokerFailovers = new Counter({
    name: "tvs_broker_failovers_total",
    help: "Times the broker's Redis failed over to another master and the gateway followed",
    registers: [this.#registry],
    // Every worker follows the same failover.
    aggregator: "max",
  });

  /** Clients closed to keep the process under its queued-bytes bound. */
  readonly overloadCloses = new Counter({
    name: "tvs_overload_closes_total",
    help: "Clients closed to keep the process under MAX_QUEUED_BYTES, code 4002",
    registers: [this.#registry],
  });

  /** Clients closed to keep the process under its resident-memory bound. */
  readonly memoryCloses = new Counter({
    name: "tvs_memory_closes_total",
    help: "Clients closed to keep the process under MAX_RSS_BYTES, code 4003",
    registers: [this.#registry],
  });

  /** Clients closed for going over their byte budget. */
  readonly slowConsumerCloses = new Counter({
    name: "tvs_slow_consumer_closes_total",
    help: "Clients closed as slow consumers (over MAX_BUFFERED_BYTES), code 4001",
    registers: [this.#registry],
  });

  /** Client connections that ended, by close code. */
  readonly disconnects = new Counter({
    name: "tvs_disconnects_total",
    help: "Client connections that ended, by close code",
    labelNames: ["code"],
    registers: [this.#registry],
  });

  /** Closing sockets given up after the close timeout (the peer never confirmed). */
  readonly closeTimeouts = new Counter({
    name: "tvs_close_timeouts_total",
    help: "Closing sockets given up after the close timeout",
    registers: [this.#registry],
  });

  /** Handshakes refused before the upgrade, by reason. */
  readonly handshakeRefusals = new Counter({
    name: "tvs_handshake_refusals_total",
    help: "WebSocket handshakes refused before the upgrade, by reason",
    labelNames: ["reason"],
    registers: [this.#registry],
  });

  /** Reloads of the settings, by result. */
  readonly settingsReloads = new Counter({ ...SETTINGS_RELOADS, registers: [this.#registry] });

  /** Answers of `POST /publish`, by result. */
  readonly publishRequests = new Counter({
    name: "tvs_publish_requests_total",
    help: "POST /publish requests by result (published, or the error code of the refusal) and " +
      "by producer (the name of its token; none for a request not let in)",
    labelNames: ["result", "producer"],
    registers: [this.#registry],
  });

  /** Clients closed for breaking an inbound limit. */
  readonly inboundViolations = new Counter({
    name: "tvs_inbound_violations_total",
    help: "Clients closed for an inbound frame over 4 KiB (too_big) or too many frames (flood)",
    labelNames: ["kind"],
    registers: [this.#registry],
  });

  /** Time to hand one message to every client of its region. */
  readonly broadcastDuration = new BucketHistogram({
    name: "tvs_broadcast_duration_seconds",
    help: "Time to hand one message to every client of its region",
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registry: this.#registry,
  });

  /**
   * From a publication to its frames handed to the sockets: since it reached the gateway
   * (`from="arrival"`: pacing, validation, the broadcast), and since its producer's `ts`
   * (`from="producer"`, whole seconds: Redis, the network, clocks).
   */
  readonly deliveryLag = new BucketHistogram({
    name: "tvs_delivery_lag_seconds",
    help: "From a publication's arrival (from=arrival) or its producer's ts (from=producer) " +
      "to its frames handed to the client sockets",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    label: { name: "from", values: ["arrival", "producer"] },
    registry: this.#registry,
  });

  /** Clients catching up on a region, by outcome. */
  readonly recoveries = new Counter({
    name: "tvs_recoveries_total",
    help: "Regions a client caught up on: subscribed (no position), recovered, not_recovered, " +
      "unavailable (broker unreachable, client told to reconnect)",
    labelNames: ["result"],
    registers: [this.#registry],
  });

  /** Messages replayed from the history to recovering clients. */
  readonly replayedMessages = new Counter({
    name: "tvs_replayed_messages_total",
    help: "Messages replayed from the history to recovering clients",
    registers: [this.#registry],
  });

  /** Creates the metrics; those of `sources` are read at every scrape (`scrape_metrics.ts`). */
  constructor(sources: MetricsSources) {
    // Every configured region has its series from the start, so `rate()` sees the first message.
    for (const region of sources.regions) this.region(region);
    registerScrapeMetrics(this.#registry, sources, {
      regions: this.#regionCounts,
      lastMessageMs: () => this.#lastMessageMs,
    });
  }

  /** The counts of `region`, to add to; `/metrics` shows them from the next scrape. */
  region(region: string): RegionCounts {
    let counts = this.#regionCounts.get(region);
    if (counts === undefined) {
      counts = { received: 0, deduplicated: 0, deliveries: 0 };
      this.#regionCounts.set(region, counts);
    }
    return counts;
  }

  /** Notes that a valid publication arrived now (`tvs_last_message_timestamp_seconds`). */
  messageAccepted(): void {
    this.#lastMessageMs = Date.now();
  }

  /** Renders every metric in the Prometheus text format. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** Every metric as prom-client's JSON, for a status report or a process's aggregation. */
  json(): Promise<MetricsJson> {
    return this.#registry.getMetricsAsJSON();
  }
}
