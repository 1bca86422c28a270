/**
 * Gateways for tests: in this process on a free port, with their log lines captured.
 *
 * @module
 */

import { loadConfig } from "../../lib/ops/config.ts";
import { Logger } from "../../lib/ops/log.ts";
import { type RunningGateway, startGateway } from "../../lib/server.ts";
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

/**
 * Starts a gateway on 127.0.0.1 and a free port, configured by `env` (variable names). As under
 * `deno task dev`, local requests may publish without a token unless `env` says otherwise.
 */
export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const defaults = {
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "debug",
    PUBLISH_INSECURE_LOOPBACK: "true",
  };
  const config = loadConfig({ env: (name) => ({ ...defaults, ...env })[name] });
  const logs: Record<string, unknown>[] = [];
  const logger = new Logger(config.logLevel, (line) => logs.push(JSON.parse(line)));
  const running = await startGateway(config, logger);
  const http = `http://127.0.0.1:${running.port}`;
  return {
    ...running,
    close: () => running.close(),
    [Symbol.asyncDispose]: async () => {
      await running.close();
    },
    http,
    ws: `ws://127.0.0.1:${running.port}`,
    logs,
    metricsText: () => fetchMetrics(http),
    ready: () => isReady(http),
  };
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
