/**
 * Prometheus metrics of one gateway, in its own registry (two gateways in one process, as in
 * tests, never share counters). prom-client needs no Deno permission; process metrics come from
 * `Deno.memoryUsage()` because its default collectors read `/proc`, which the gateway may not.
 *
 * Hot-path counts are plain numbers ({@link RegionCounts}), summed per broadcast by the caller and
 * read at scrape time.
 *
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Live values read at scrape time rather than tracked on every change. */
export interface MetricsSources {
  /** Configured regions. */
  readonly regions: readonly string[];
  /** Clients currently subscribed to `region`. */
  connections(region: string): number;
  /** Open client sockets (in the registry). */
  openSockets(): number;
  /** Sockets still holding memory and a connection slot: connecting, or closing. */
  pendingSockets(): number;
  /** Whether the gateway is draining. */
  draining(): boolean;
}

/**
 * The hot-path counts of one region: plain numbers the gateway adds to, copied into their counters
 * at scrape time. A prom-client counter hashes its labels on every `inc`, and on the cold caches a
 * trending message finds after an idle spell that is several times the cost of adding to a number
 * (figures: bench/results/).
 */
export interface RegionCounts {
  /** Publications received from the broker, valid or not. */
  received: number;
  /** Valid publications not sent because their key repeated within the window. */
  deduplicated: number;
  /** Frames handed to client sockets. */
  deliveries: number;
}

/**
 * Registers a counter by region whose value is `key` of each region's counts, copied at every
 * scrape. No reference to it is kept: an `inc` on it would be undone by the next scrape.
 */
function registerRegionCounter(
  registry: Registry,
  counts: ReadonlyMap<string, RegionCounts>,
  key: keyof RegionCounts,
  about: { readonly name: string; readonly help: string },
): void {
  new Counter({
    ...about,
    labelNames: ["region"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [region, count] of counts) this.inc({ region }, count[key]);
    },
  });
}

/** Every metric of the gateway. Names follow Prometheus conventions: `tvs_` prefix, base units. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();

  readonly #regionCounts = new Map<string, RegionCounts>();
  #lastMessageMs = 0;

  /** Publications dropped by validation, by reason. */
  readonly messagesRejected = new Counter({
    name: "tvs_messages_rejected_total",
    help: "Publications dropped by validation, by reason",
    labelNames: ["reason"],
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

  /** Subscriptions currently open, by region (a client of two regions counts in both). */
  readonly connections: Gauge;
  /** Client sockets by state. */
  readonly sockets: Gauge;
  /** Whether the gateway is draining. */
  readonly drainingState: Gauge;

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

  /** Broker connections found silent (no answer to a ping, not closed) and replaced. */
  readonly brokerSilences = new Counter({
    name: "tvs_broker_silent_connections_total",
    help: "Broker connections that stopped answering pings without closing, then replaced",
    labelNames: ["connection"],
    registers: [this.registry],
  });

  /** Clients closed for going over their byte budget. */
  readonly slowConsumerCloses = new Counter({
    name: "tvs_slow_consumer_closes_total",
    help: "Clients closed as slow consumers (over MAX_BUFFERED_BYTES), code 4001",
    registers: [this.registry],
  });

  /** Client connections that ended, by close code. */
  readonly disconnects = new Counter({
    name: "tvs_disconnects_total",
    help: "Client connections that ended, by close code",
    labelNames: ["code"],
    registers: [this.registry],
  });

  /** Closing sockets given up after the close timeout (the peer never confirmed). */
  readonly closeTimeouts = new Counter({
    name: "tvs_close_timeouts_total",
    help: "Closing sockets given up after the close timeout",
    registers: [this.registry],
  });

  /** Handshakes refused before the upgrade, by reason. */
  readonly handshakeRefusals = new Counter({
    name: "tvs_handshake_refusals_total",
    help: "WebSocket handshakes refused before the upgrade, by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });

  /** Answers of `POST /publish`, by result. */
  readonly publishRequests = new Counter({
    name: "tvs_publish_requests_total",
    help: "POST /publish requests by result: published, or the error code of the refusal",
    labelNames: ["result"],
    registers: [this.registry],
  });

  /** Clients closed for breaking an inbound limit. */
  readonly inboundViolations = new Counter({
    name: "tvs_inbound_violations_total",
    help: "Clients closed for an inbound frame over 4 KiB (too_big) or too many frames (flood)",
    labelNames: ["kind"],
    registers: [this.registry],
  });

  /** Time to hand one message to every client of its region. */
  readonly broadcastDuration = new Histogram({
    name: "tvs_broadcast_duration_seconds",
    help: "Time to hand one message to every client of its region",
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });

  /** Clients catching up on a region, by outcome. */
  readonly recoveries = new Counter({
    name: "tvs_recoveries_total",
    help: "Regions a client caught up on: subscribed (no position), recovered, not_recovered, " +
      "unavailable (broker unreachable, client told to reconnect)",
    labelNames: ["result"],
    registers: [this.registry],
  });

  /** Messages replayed from the history to recovering clients. */
  readonly replayedMessages = new Counter({
    name: "tvs_replayed_messages_total",
    help: "Messages replayed from the history to recovering clients",
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

  /** The JavaScript heap and memory held outside it (socket buffers among it). */
  readonly heapMemory = new Gauge({
    name: "tvs_heap_bytes",
    help: "JavaScript heap in use and reserved, and memory held outside the heap, in bytes",
    labelNames: ["kind"],
    registers: [this.registry],
    collect() {
      const usage = Deno.memoryUsage();
      this.set({ kind: "used" }, usage.heapUsed);
      this.set({ kind: "total" }, usage.heapTotal);
      this.set({ kind: "external" }, usage.external);
    },
  });

  /** Creates the metrics; gauges of `sources` are read at every scrape, so they cannot drift. */
  constructor(sources: MetricsSources) {
    // Every configured region has its series from the start, so `rate()` sees the first message.
    for (const region of sources.regions) this.region(region);
    const counts = this.#regionCounts;
    registerRegionCounter(this.registry, counts, "received", {
      name: "tvs_messages_received_total",
      help: "Publications received from the broker, valid or not",
    });
    registerRegionCounter(this.registry, counts, "deduplicated", {
      name: "tvs_messages_deduplicated_total",
      help: "Valid publications not sent: same (region, video_id) within the window",
    });
    registerRegionCounter(this.registry, counts, "deliveries", {
      name: "tvs_deliveries_total",
      help: "Message frames handed to client sockets",
    });
    // For "no messages for a while" alerts; set from messageAccepted() at scrape time.
    const lastMessageSeconds = () => this.#lastMessageMs / 1000;
    new Gauge({
      name: "tvs_last_message_timestamp_seconds",
      help: "Unix time of the last valid publication received",
      registers: [this.registry],
      collect() {
        this.set(lastMessageSeconds());
      },
    });
    this.connections = new Gauge({
      name: "tvs_connections",
      help: "Open client subscriptions by region",
      labelNames: ["region"],
      registers: [this.registry],
      collect() {
        for (const region of sources.regions) this.set({ region }, sources.connections(region));
      },
    });
    this.sockets = new Gauge({
      name: "tvs_sockets",
      help: "Client sockets: open (in the registry) or pending (connecting, or closing)",
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        this.set({ state: "open" }, sources.openSockets());
        this.set({ state: "pending" }, sources.pendingSockets());
      },
    });
    this.drainingState = new Gauge({
      name: "tvs_draining",
      help: "1 while the gateway drains its clients before stopping, else 0",
      registers: [this.registry],
      collect() {
        this.set(sources.draining() ? 1 : 0);
      },
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
    return this.registry.metrics();
  }
}
