/**
 * What `/status.json` answers, for the status page: the figures an operator looks at first, read
 * from the same metrics `/metrics` renders (so the two never disagree), with the activity no
 * metric holds (`recent_activity.ts`) and, with workers, each worker's own figures.
 *
 * @module
 */

import type { MetricValue } from "prom-client";
import type { Readiness } from "./gateway.ts";
import type { MetricsJson } from "../observe/metrics.ts";
import type {
  ActivitySnapshot,
  LastMessage,
  Refusal,
  RefusalCount,
} from "../observe/recent_activity.ts";

/** One region's figures. */
export interface RegionStatus {
  readonly region: string;
  readonly subscribers: number;
  /** Frames handed to sockets since the start: the page turns it into a rate. */
  readonly deliveries: number;
  readonly lastMessage: LastMessage | null;
}

/** A limit and how much of it is used. */
export interface LimitStatus {
  /** The setting that sets it. */
  readonly setting: "MAX_CONNECTIONS" | "MAX_QUEUED_BYTES";
  readonly unit: "sockets" | "bytes";
  readonly used: number;
  readonly limit: number;
}

/** One worker's figures (with `WORKERS` above 1). */
export interface WorkerStatus {
  readonly worker: number;
  readonly sockets: number;
  readonly queuedBytes: number;
  readonly deliveries: number;
  readonly heapUsedBytes: number;
}

/** The body of `/status.json`. */
export interface StatusReport {
  readonly version: string;
  /** Unix seconds. */
  readonly startedAt: number;
  /** Unix ms. */
  readonly generatedAt: number;
  readonly ready: boolean;
  /** Why not, when not ready. */
  readonly notReady: string | null;
  readonly broker: { readonly kind: string; readonly connected: boolean };
  readonly draining: boolean;
  readonly regions: readonly RegionStatus[];
  /** Open clients by transport. */
  readonly transports: { readonly websocket: number; readonly sse: number };
  readonly limits: readonly LimitStatus[];
  readonly refusals: readonly Refusal[];
  readonly refusalCounts: readonly RefusalCount[];
  readonly workers: readonly WorkerStatus[];
  /** The process's resident memory, in bytes. */
  readonly residentBytes: number;
}

/** What a status report is made of. */
export interface StatusInput {
  /** The process's metrics (with workers, aggregated). */
  readonly metrics: MetricsJson;
  readonly activity: ActivitySnapshot;
  readonly readiness: Readiness;
  /** Each worker's own metrics; empty for a single gateway. */
  readonly workers: readonly { readonly worker: number; readonly metrics: MetricsJson }[];
}

/** The samples of metric `name`. */
function samples(metrics: MetricsJson, name: string): readonly MetricValue<string>[] {
  return metrics.find((metric) => metric.name === name)?.values ?? [];
}

/** The value of `name` with `labels` (every one given must match), or 0. */
function value(metrics: MetricsJson, name: string, labels: Record<string, string> = {}): number {
  const sample = samples(metrics, name).find((candidate) =>
    Object.entries(labels).every(([label, wanted]) => String(candidate.labels[label]) === wanted)
  );
  return sample?.value ?? 0;
}

/** The sum of every sample of `name`. */
function total(metrics: MetricsJson, name: string): number {
  return samples(metrics, name).reduce((sum, sample) => sum + sample.value, 0);
}

/** Builds the status report. */
export function buildStatus(input: StatusInput): StatusReport {
  const { metrics, activity, readiness } = input;
  const regions = samples(metrics, "tvs_subscriptions").map((sample): RegionStatus => {
    const region = String(sample.labels.region);
    return {
      region,
      subscribers: sample.value,
      deliveries: value(metrics, "tvs_deliveries_total", { region }),
      lastMessage: activity.lastMessages[region] ?? null,
    };
  });
  const broker = samples(metrics, "tvs_broker_connected")[0];
  const build = samples(metrics, "tvs_build_info")[0];
  return {
    version: String(build?.labels.version ?? "unknown"),
    startedAt: value(metrics, "process_start_time_seconds"),
    generatedAt: Date.now(),
    ready: readiness.ready,
    notReady: readiness.ready ? null : readiness.reason,
    broker: { kind: String(broker?.labels.broker ?? "unknown"), connected: broker?.value === 1 },
    draining: value(metrics, "tvs_draining") === 1,
    regions,
    transports: {
      websocket: value(metrics, "tvs_clients", { transport: "websocket" }),
      sse: value(metrics, "tvs_clients", { transport: "sse" }),
    },
    limits: [
      {
        setting: "MAX_CONNECTIONS",
        unit: "sockets",
        used: total(metrics, "tvs_sockets"),
        limit: value(metrics, "tvs_sockets_limit"),
      },
      {
        setting: "MAX_QUEUED_BYTES",
        unit: "bytes",
        used: value(metrics, "tvs_queued_bytes"),
        limit: value(metrics, "tvs_queued_bytes_limit"),
      },
    ],
    refusals: activity.refusals,
    refusalCounts: activity.refusalCounts,
    workers: input.workers.map(({ worker, metrics: own }) => ({
      worker,
      sockets: value(own, "tvs_sockets", { state: "open" }),
      queuedBytes: value(own, "tvs_queued_bytes"),
      deliveries: total(own, "tvs_deliveries_total"),
      heapUsedBytes: value(own, "nodejs_heap_size_used_bytes"),
    })),
    residentBytes: value(metrics, "process_resident_memory_bytes"),
  };
}
