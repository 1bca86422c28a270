/**
 * `/metrics` of a process of workers: every worker's figures summed (or, where each worker counts
 * the same thing, as every publication, combined as its metric says: `scrape_metrics.ts`), plus
 * the supervisor's own: how many workers run, how often one was replaced, the reloads of the
 * settings it ran, and the one figure where a `worker` label helps, its open sockets (is the
 * kernel spreading connections evenly?).
 *
 * @module
 */

import { AggregatorRegistry, Counter, Gauge, Registry } from "prom-client";
import { type MetricsJson, SETTINGS_RELOADS } from "../../observe/metrics.ts";

/** One worker's metrics, as `getMetricsAsJSON` gave them. */
export interface WorkerMetrics {
  readonly worker: number;
  readonly metrics: MetricsJson;
}

/** The supervisor's own metrics. */
export class SupervisorMetrics {
  readonly registry = new Registry();

  /** Workers running. */
  readonly workers = new Gauge({
    name: "tvs_workers",
    help: "Worker threads serving connections",
    registers: [this.registry],
  });

  /** Workers that died or stopped answering and were replaced. */
  readonly restarts = new Counter({
    name: "tvs_worker_restarts_total",
    help: "Workers that died or stopped answering pings, and were replaced",
    registers: [this.registry],
  });

  /** Reloads of the settings, which the supervisor runs for the process. */
  readonly settingsReloads = new Counter({ ...SETTINGS_RELOADS, registers: [this.registry] });

  /** Open sockets of each worker. */
  readonly workerSockets = new Gauge({
    name: "tvs_worker_sockets",
    help: "Open client sockets by worker",
    labelNames: ["worker"],
    registers: [this.registry],
  });
}

/** The process's metrics: the workers' combined, and the supervisor's own. */
export async function aggregateMetrics(
  workers: readonly WorkerMetrics[],
  own: SupervisorMetrics,
): Promise<Registry> {
  own.workers.set(workers.length);
  own.workerSockets.reset();
  for (const { worker, metrics } of workers) {
    const sockets = metrics.find((metric) => metric.name === "tvs_sockets");
    const open = sockets?.values.find((value) => value.labels.state === "open")?.value ?? 0;
    own.workerSockets.set({ worker: String(worker) }, open);
  }
  return AggregatorRegistry.aggregate([
    ...workers.map((entry) => [...entry.metrics]),
    await own.registry.getMetricsAsJSON(),
  ]);
}

/** Per region, the clients of every worker summed. */
export function sumViewers(counts: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const [region, viewers] of counts.flatMap(Object.entries)) {
    total[region] = (total[region] ?? 0) + viewers;
  }
  return total;
}
