/**
 * The process with several workers (`WORKERS`): the main thread starts one gateway per worker on
 * one port (the kernel spreads connections over them, `SO_REUSEPORT`) and keeps what must hold for
 * the whole process: the connection counts, the embedded broker when there is no Redis, readiness,
 * the metrics of all workers summed, the drain, and the workers themselves. A worker that dies, or
 * stops answering, is logged and replaced (its clients reconnect to the others and recover); one
 * that keeps dying ends the process, which then exits non-zero.
 *
 * Long, as the one keeper of what spans workers: lives, counts, figures, settings.
 *
 * @module
 */

import { SharedQueuedBytes } from "../../delivery/shared_queued_bytes.ts";
import type { GatewaySnapshot, Readiness } from "../../gateway/gateway.ts";
import type { Config, SettingValues } from "../../config/config.ts";
import type { Logger } from "../../observe/log.ts";
import { probeListen } from "../listen.ts";
import { logListening, type RunningGateway } from "../server.ts";
import { mergeActivity } from "../../observe/recent_activity.ts";
import { buildStatus, type StatusReport } from "../../gateway/report.ts";
import { AdmissionAuthority } from "./admission_authority.ts";
import { BrokerHost } from "./broker_host.ts";
import { aggregateMetrics, sumViewers, SupervisorMetrics } from "./cluster_metrics.ts";
import { WorkerHandle } from "./worker_handle.ts";
import type { WorkerRequest } from "./protocol.ts";

/** Options of {@link startCluster}, for tests that need it faster. */
export interface ClusterOptions {
  /** Time between two pings of every worker, in ms. @default 1000 */
  readonly heartbeatMs?: number;
  /** A worker that has not answered a ping for this long is replaced, in ms. @default 5000 */
  readonly heartbeatTimeoutMs?: number;
}

/** Restarts of one worker within {@link RESTART_WINDOW_MS} that end the process. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** A running process of workers; `terminate` is what the heartbeat does to a hung worker. */
export interface RunningCluster extends RunningGateway {
  /** Ends worker `index` as if it had crashed: it is replaced, its clients reconnect. */
  terminate(index: number): void;
}

/** Starts `config.workers` workers with `settings`; resolves once all listen on one port. */
export async function startCluster(
  settings: SettingValues,
  config: Config,
  logger: Logger,
  options: ClusterOptions = {},
): Promise<RunningCluster> {
  const supervisor = new Supervisor(settings, config, logger, options);
  await supervisor.start();
  return supervisor;
}

class Supervisor implements RunningCluster {
  #settings: SettingValues;
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #options: Required<ClusterOptions>;
  readonly #authority: AdmissionAuthority;
  readonly #board: SharedArrayBuffer;
  readonly #host: BrokerHost | undefined;
  readonly #metrics = new SupervisorMetrics();
  readonly #workers: (WorkerHandle | undefined)[];
  readonly #restarts: number[][];
  readonly #failure = Promise.withResolvers<string>();
  #port = 0;
  #draining = false;
  #closing: Promise<boolean> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(settings: SettingValues, config: Config, logger: Logger, options: ClusterOptions) {
    this.#settings = settings;
    this.#config = config;
    this.#logger = logger;
    this.#options = { heartbeatMs: 1000, heartbeatTimeoutMs: 5000, ...options };
    this.#authority = new AdmissionAuthority(config);
    this.#board = SharedQueuedBytes.buffer(config.workers);
    this.#workers = Array.from({ length: config.workers }, () => undefined);
    this.#restarts = Array.from({ length: config.workers }, () => []);
    if (config.redisUrl === null) {
      this.#host = new BrokerHost({
        dedupe: { windowMs: config.dedupeWindowSeconds * 1000, capacity: config.dedupeCapacity },
        history: { size: config.historySize, ttlMs: config.historyTtlSeconds * 1000 },
      }, {
        publication: (region, payload) => {
          for (const worker of this.#workers) worker?.publication(region, payload);
        },
        state: (state) => {
          for (const worker of this.#workers) worker?.brokerState(state);
        },
      });
    }
  }

  get port(): number {
    return this.#port;
  }

  get failure(): Promise<string> {
    return this.#failure.promise;
  }

  /**
   * Starts the first worker on the configured port, then the others on the port it got.
   *
   * @throws {ListenError} when the port is taken, before any worker binds it (`listen.ts`).
   */
  async start(): Promise<void> {
    probeListen(this.#config.host, this.#config.port);
    this.#port = await this.#spawn(0, this.#config.port);
    await Promise.all(this.#workers.slice(1).map((_, i) => this.#spawn(i + 1, this.#port)));
    this.#heartbeat = setInterval(() => this.#checkHeartbeats(), this.#options.heartbeatMs);
    logListening(this.#logger, this.#config, this.#port);
  }

  /** Publishes through worker 0's broker, or the embedded one. */
  publish(region: string, payload: string): Promise<number> {
    if (this.#host !== undefined) {
      return this.#host.call({ method: "publish", args: [region, payload] }) as Promise<number>;
    }
    const worker = this.#workers.find((handle) => handle !== undefined);
    if (worker === undefined) return Promise.reject(new Error("No worker is running"));
    return worker.request<number>({ type: "publish", region, payload });
  }

  /** Clients of each region now, summed over the workers that answer. */
  async viewers(): Promise<Record<string, number>> {
    const counts = await Promise.all(
      this.#running().map((worker) =>
        worker.request<Record<string, number>>({ type: "viewers" }).catch(() => ({}))
      ),
    );
    return sumViewers(counts);
  }

  /** Takes on the live settings: the process's limits here, the rest in every worker. */
  async reconfigure(values: SettingValues, config: Config): Promise<void> {
    this.#settings = values;
    this.#authority.relimit(config);
    const settings = { ...values, PORT: String(this.#port) };
    await Promise.all(
      this.#running().map((worker) => worker.request({ type: "reconfigure", settings })),
    );
  }

  countReload(result: string): void {
    this.#metrics.settingsReloads.inc({ result });
  }

  terminate(index: number): void {
    this.#replace(index, "terminated");
  }

  close(drainMs = 0): Promise<boolean> {
    this.#closing ??= this.#stop(drainMs);
    return this.#closing;
  }

  async #stop(drainMs: number): Promise<boolean> {
    this.#draining = true;
    clearInterval(this.#heartbeat);
    const stopped = await Promise.all(this.#workers.map(async (worker) => {
      if (worker === undefined) return true;
      try {
        return await worker.request<boolean>({ type: "drain", windowMs: drainMs });
      } catch {
        return false;
      } finally {
        worker.end();
      }
    }));
    await this.#host?.close();
    return stopped.every(Boolean);
  }

  /** Starts worker `index` on `port`; resolves with the port it listens on. */
  #spawn(index: number, port: number): Promise<number> {
    const handle = new WorkerHandle(index, {
      start: {
        type: "start",
        worker: index,
        settings: { ...this.#settings, PORT: String(port) },
        board: this.#board,
        relayBroker: this.#host !== undefined,
      },
      brokerState: this.#host?.state,
      onRequest: (body) => this.#answer(index, body),
      onRelease: (address) => this.#authority.release(index, address),
      onLog: (line) => this.#logger.sink(line),
      onError: (message) => this.#replace(index, message),
    });
    this.#workers[index] = handle;
    return handle.listening;
  }

  #answer(index: number, body: WorkerRequest): unknown {
    switch (body.type) {
      case "reserve":
        return this.#authority.reserve(index, body.address) ?? null;
      case "check":
        return this.#authority.check(body.address) ?? null;
      case "readiness":
        return this.#readiness();
      case "scrape":
        return this.#scrape();
      case "status":
        return this.#status();
      case "broker":
        if (this.#host === undefined) throw new Error("No embedded broker: the worker has Redis");
        return this.#host.call(body.call);
    }
  }

  async #readiness(): Promise<Readiness> {
    if (this.#draining) return { ready: false, reason: "draining" };
    const answers = await Promise.all(
      this.#workers.map((worker) =>
        worker === undefined
          ? { ready: false, reason: "worker_starting" } as const
          : worker.request<Readiness>({ type: "local-readiness" }).catch(() =>
            ({ ready: false, reason: "worker_starting" }) as const
          )
      ),
    );
    return answers.find((answer) => !answer.ready) ?? { ready: true };
  }

  #running(): WorkerHandle[] {
    return this.#workers.filter((worker) => worker !== undefined);
  }

  /** Every running worker's metrics and activity. */
  #snapshots(): Promise<(GatewaySnapshot & { readonly worker: number })[]> {
    return Promise.all(
      this.#running().map(async (worker) => ({
        worker: worker.index,
        ...await worker.request<GatewaySnapshot>({ type: "snapshot" }),
      })),
    );
  }

  async #scrape(): Promise<{ body: string; contentType: string }> {
    const registry = await aggregateMetrics(await this.#snapshots(), this.#metrics);
    return { body: await registry.metrics(), contentType: registry.contentType };
  }

  async #status(): Promise<StatusReport> {
    const [workers, readiness] = await Promise.all([this.#snapshots(), this.#readiness()]);
    const registry = await aggregateMetrics(workers, this.#metrics);
    return buildStatus({
      metrics: await registry.getMetricsAsJSON(),
      activity: mergeActivity(workers.map((worker) => worker.activity)),
      readiness,
      workers,
    });
  }

  #checkHeartbeats(): void {
    for (const worker of this.#workers) {
      if (worker === undefined) continue;
      if (worker.silentFor() > this.#options.heartbeatTimeoutMs) {
        this.#replace(worker.index, "no answer to pings");
      } else {
        worker.ping();
      }
    }
  }

  /** Ends worker `index` and starts another in its place, unless it keeps dying. */
  #replace(index: number, reason: string): void {
    const worker = this.#workers[index];
    if (worker === undefined || this.#draining) return;
    worker.end();
    this.#workers[index] = undefined;
    this.#authority.releaseAll(index);
    const now = performance.now();
    const recent = this.#restarts[index]!.filter((at) => now - at < RESTART_WINDOW_MS);
    recent.push(now);
    this.#restarts[index] = recent;
    this.#metrics.restarts.inc();
    this.#logger.error("worker died, replacing it", {
      worker: index,
      reason,
      restarts: recent.length,
    });
    if (recent.length > MAX_RESTARTS) {
      this.#failure.resolve(
        `worker ${index} died ${recent.length} times within ${RESTART_WINDOW_MS / 1000} s`,
      );
      return;
    }
    this.#spawn(index, this.#port).catch((error) => this.#replace(index, String(error)));
  }
}
