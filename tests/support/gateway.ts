/**
 * Gateways for tests: in this process on a free port, with their log lines captured.
 *
 * @module
 */

import { loadConfig } from "../../lib/config/config.ts";
import { Logger } from "../../lib/observe/log.ts";
import { type RunningGateway, startGateway } from "../../lib/process/server.ts";
import { type RunningCluster, startCluster } from "../../lib/process/workers/supervisor.ts";
import { fetchMetrics, isReady } from "./metrics.ts";
import { RedisServer } from "./redis_server.ts";
import { waitFor } from "./wait.ts";

/** An in-process gateway with its captured logs. */
export interface TestGateway extends RunningGateway, AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly http: string;
  /** `ws://127.0.0.1:<port>`. */
  readonly ws: string;
  /** Every log line, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Body of `GET /metrics`. */
  metricsText(): Promise<string>;
  /** Whether `GET /readyz` answers 200, as a load balancer's probe asks. */
  ready(): Promise<boolean>;
}

/** Settings every test gateway starts with unless `env` says otherwise. */
const TEST_DEFAULTS: Readonly<Record<string, string>> = {
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "debug",
  // As under `deno task dev`: local requests may publish without a token.
  PUBLISH_INSECURE_LOOPBACK: "true",
};

/** A running gateway with the test's conveniences. */
function testGateway<T extends RunningGateway>(running: T, logs: Record<string, unknown>[]) {
  const http = `http://127.0.0.1:${running.port}`;
  return Object.assign(running, {
    [Symbol.asyncDispose]: async () => {
      await running.close();
    },
    http,
    ws: `ws://127.0.0.1:${running.port}`,
    logs,
    metricsText: () => fetchMetrics(http),
    ready: () => isReady(http),
  });
}

/** The settings of a test gateway, the configuration they make and a logger capturing lines. */
function prepare(env: Record<string, string>) {
  const settings = { ...TEST_DEFAULTS, ...env };
  const config = loadConfig({ env: (name) => settings[name] });
  const logs: Record<string, unknown>[] = [];
  const logger = new Logger(config.logLevel, (line) => logs.push(JSON.parse(line)));
  return { settings, config, logs, logger };
}

/** Starts a gateway on 127.0.0.1 and a free port, configured by `env` (variable names). */
export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const { config, logs, logger } = prepare(env);
  return testGateway(await startGateway(config, logger), logs);
}

/** A test process of workers, whose workers a test may end as a crash would. */
export interface TestCluster extends TestGateway, RunningCluster {}

/**
 * Starts a process of `env.WORKERS` workers (2 unless given) in this one, on 127.0.0.1 and a free
 * port; the supervisor's and the workers' lines are all captured.
 */
export async function startTestCluster(env: Record<string, string> = {}): Promise<TestCluster> {
  const { settings, config, logs, logger } = prepare({ WORKERS: "2", ...env });
  return testGateway(await startCluster(settings, config, logger), logs);
}

/** A gateway on its own test Redis, both stopped on dispose. */
export interface RedisGateway extends AsyncDisposable {
  readonly gateway: TestGateway;
  readonly redis: RedisServer;
}

/** Starts a Redis on a free port and a gateway subscribed to it, and waits until it is ready. */
export async function startRedisGateway(env: Record<string, string> = {}): Promise<RedisGateway> {
  const redis = await RedisServer.start();
  const gateway = await startTestGateway({ REDIS_URL: redis.url, ...env });
  await waitFor(() => gateway.ready(), { what: "gateway ready" });
  return {
    gateway,
    redis,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await redis.stop();
    },
  };
}
