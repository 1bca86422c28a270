/**
 * The metrics read at scrape time rather than counted on every change: what is connected, queued
 * and remembered now, and the hot-path counts the gateway keeps as plain numbers. Read from their
 * sources at every scrape, they cannot drift.
 *
 * With several workers every worker registers these, and a scrape sums the workers' figures; an
 * `aggregator` says how a figure combines where a sum would be wrong (every worker sees every
 * publication, so its counts are the same in each: the largest is the process's).
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import { VERSION } from "./version.ts";

/**
 * When this thread started, in Unix seconds; with workers, the earliest running worker's start
 * stands for the process's (its main thread starts a moment before).
 */
const PROCESS_START_SECONDS = Math.round(performance.timeOrigin) / 1000;

/** Live values read at scrape time rather than tracked on every change. */
export interface MetricsSources {
  /** Configured regions. */
  readonly regions: readonly string[];
  /** Clients currently subscribed to `region`. */
  connections(region: string): number;
  /** Open client sockets (in the registry). */
  openSockets(): number;
  /** Of those, the ones over `transport`. */
  clients(transport: "websocket" | "sse"): number;
  /** Sockets still holding memory and a connection slot: connecting, or closing. */
  pendingSockets(): number;
  /** Whether the gateway is draining. */
  draining(): boolean;
  /** Bytes queued for this gateway's clients, measured. */
  queuedBytes(): number;
  /** The process's limits: most client sockets, queued bytes and resident bytes. */
  readonly limits: {
    readonly sockets: number;
    readonly queuedBytes: number;
    readonly residentBytes: number;
  };
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
  about: { readonly name: string; readonly help: string; readonly aggregator: "sum" | "max" },
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

/** What the scrape-time metrics read that the gateway keeps itself. */
export interface KeptCounts {
  /** Hot-path counts by region. */
  readonly regions: ReadonlyMap<string, RegionCounts>;
  /** Unix time of the last valid publication, in ms (0 for none yet). */
  lastMessageMs(): number;
}

/** Registers every scrape-time metric of `sources` and `kept` in `registry`. */
export function registerScrapeMetrics(
  registry: Registry,
  sources: MetricsSources,
  kept: KeptCounts,
): void {
  const registers = [registry];
  registerRegionCounter(registry, kept.regions, "received", {
    name: "tvs_messages_received_total",
    help: "Publications received from the broker, valid or not",
    aggregator: "max",
  });
  registerRegionCounter(registry, kept.regions, "deduplicated", {
    name: "tvs_messages_deduplicated_total",
    help: "Valid publications not sent: same (region, video_id) within the window",
    aggregator: "max",
  });
  registerRegionCounter(registry, kept.regions, "deliveries", {
    name: "tvs_deliveries_total",
    help: "Message frames handed to client sockets",
    aggregator: "sum",
  });
  // For "no messages for a while" alerts.
  new Gauge({
    name: "tvs_last_message_timestamp_seconds",
    help: "Unix time of the last valid publication received",
    registers,
    aggregator: "max",
    collect() {
      this.set(kept.lastMessageMs() / 1000);
    },
  });
  new Gauge({
    name: "tvs_subscriptions",
    help: "Clients subscribed to each region (a client of two regions counts in both)",
    labelNames: ["region"],
    registers,
    collect() {
      for (const region of sources.regions) this.set({ region }, sources.connections(region));
    },
  });
  new Gauge({
    name: "tvs_sockets",
    help: "Client sockets: open (in the registry) or pending (connecting, or closing)",
    labelNames: ["state"],
    registers,
    collect() {
      this.set({ state: "open" }, sources.openSockets());
      this.set({ state: "pending" }, sources.pendingSockets());
    },
  });
  new Gauge({
    name: "tvs_clients",
    help: "Open clients by transport: websocket, or sse (Server-Sent Events)",
    labelNames: ["transport"],
    registers,
    collect() {
      for (const transport of ["websocket", "sse"] as const) {
        this.set({ transport }, sources.clients(transport));
      }
    },
  });
  new Gauge({
    name: "tvs_queued_bytes",
    help: "Memory of the frames queued for the clients and not yet written, with what the " +
      "runtime keeps beside each (bounded by MAX_QUEUED_BYTES)",
    registers,
    collect() {
      this.set(sources.queuedBytes());
    },
  });
  // Limits as metrics, so an alert or a dashboard says how close the process is to them.
  const limits: [string, string, number][] = [
    [
      "tvs_sockets_limit",
      "Most client sockets of the process (MAX_CONNECTIONS)",
      sources.limits.sockets,
    ],
    [
      "tvs_queued_bytes_limit",
      "Most bytes queued for the clients of the process (MAX_QUEUED_BYTES)",
      sources.limits.queuedBytes,
    ],
    [
      "tvs_resident_bytes_limit",
      "Most resident memory of the process (MAX_RSS_BYTES)",
      sources.limits.residentBytes,
    ],
  ];
  for (const [name, help, limit] of limits) {
    new Gauge({
      name,
      help,
      registers,
      // Every worker has the process's.
      aggregator: "max",
      collect() {
        this.set(limit);
      },
    });
  }
  new Gauge({
    name: "tvs_draining",
    help: "1 while the gateway drains its clients before stopping, else 0",
    registers,
    aggregator: "max",
    collect() {
      this.set(sources.draining() ? 1 : 0);
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes",
    registers,
    // Every worker reads the one process's.
    aggregator: "max",
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  // The names prom-client's default Node.js metrics use (its collectors read /proc, which the
  // gateway may not): dashboards know them. With workers, every worker's heap adds up.
  const memory: [string, string, (usage: Deno.MemoryUsage) => number][] = [
    ["nodejs_heap_size_used_bytes", "JavaScript heap in use, in bytes", (u) => u.heapUsed],
    ["nodejs_heap_size_total_bytes", "JavaScript heap reserved, in bytes", (u) => u.heapTotal],
    ["nodejs_external_memory_bytes", "Memory held outside the heap, in bytes", (u) => u.external],
  ];
  for (const [name, help, read] of memory) {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(Deno.memoryUsage()));
      },
    });
  }
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since the Unix epoch, in seconds",
    registers,
    aggregator: "min",
    collect() {
      this.set(PROCESS_START_SECONDS);
    },
  });
  new Gauge({
    name: "tvs_build_info",
    help: "1, with the build's version as a label",
    labelNames: ["version"],
    registers,
    aggregator: "max",
    collect() {
      this.set({ version: VERSION }, 1);
    },
  });
}
