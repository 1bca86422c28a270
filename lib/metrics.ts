/**
 * Prometheus metrics of one gateway, in its own registry (two gateways in one process, as in
 * tests, never share counters). prom-client needs no Deno permission; process metrics come from
 * `Deno.memoryUsage()` because its default collectors read `/proc`, which the gateway may not.
 *
 * Hot-path counts are summed per broadcast by the caller and added once, never per delivery.
 *
 * @module
 */

import { Counter, Gauge, Registry } from "prom-client";

/** Live values read at scrape time rather than tracked on every change. */
export interface MetricsSources {
  /** Configured regions. */
  readonly regions: readonly string[];
  /** Clients currently subscribed to `region`. */
  connections(region: string): number;
}

/** Every metric of the gateway. Names follow Prometheus conventions: `tvs_` prefix, base units. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();

  /** Publications received from the broker, valid or not. */
  readonly messagesReceived = new Counter({
    name: "tvs_messages_received_total",
    help: "Publications received from the broker, valid or not",
    labelNames: ["region"],
    registers: [this.registry],
  });

  /** Publications dropped by validation, by reason. */
  readonly messagesRejected = new Counter({
    name: "tvs_messages_rejected_total",
    help: "Publications dropped by validation, by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });

  /** Valid publications not sent because their key repeated within the window. */
  readonly messagesDeduplicated = new Counter({
    name: "tvs_messages_deduplicated_total",
    help: "Valid publications not sent: same (region, video_id) within the window",
    labelNames: ["region"],
    registers: [this.registry],
  });

  /** Fields removed from accepted messages (a thumbnail that is not https). */
  readonly fieldsRemoved = new Counter({
    name: "tvs_message_fields_removed_total",
    help: "Fields removed from accepted messages, by field",
    labelNames: ["field"],
    registers: [this.registry],
  });

  /** Broker operations that failed; the message still went out when it could. */
  readonly brokerErrors = new Counter({
    name: "tvs_broker_errors_total",
    help: "Broker operations that failed, by operation",
    labelNames: ["operation"],
    registers: [this.registry],
  });

  /** Frames handed to client sockets. */
  readonly deliveries = new Counter({
    name: "tvs_deliveries_total",
    help: "Message frames handed to client sockets",
    labelNames: ["region"],
    registers: [this.registry],
  });

  /** Subscriptions currently open, by region (a client of two regions counts in both). */
  readonly connections: Gauge;

  /** Whether the broker is subscribed to every region. */
  readonly brokerConnected = new Gauge({
    name: "tvs_broker_connected",
    help: "1 when the broker is connected and subscribed to every region, else 0",
    labelNames: ["broker"],
    registers: [this.registry],
  });

  /** Times the broker connection was lost and came back. */
  readonly brokerReconnects = new Counter({
    name: "tvs_broker_reconnects_total",
    help: "Times the broker connection came back after being lost",
    registers: [this.registry],
  });

  /** Resident memory of the process. */
  readonly residentMemory = new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes",
    registers: [this.registry],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });

  /** Creates the metrics; gauges of `sources` are read at every scrape, so they cannot drift. */
  constructor(sources: MetricsSources) {
    this.connections = new Gauge({
      name: "tvs_connections",
      help: "Open client subscriptions by region",
      labelNames: ["region"],
      registers: [this.registry],
      collect() {
        for (const region of sources.regions) this.set({ region }, sources.connections(region));
      },
    });
  }

  /** Renders every metric in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
