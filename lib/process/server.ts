/**
 * Assembles one running gateway: the broker chosen by the configuration, the gateway, and the
 * HTTP server; and takes it down again in order: drain the clients, close the broker, stop the
 * server. With one worker this is the whole process; with several, each worker runs one on the
 * shared port (`workers/`). Tests run several in one process.
 *
 * @module
 */

import type { Broker } from "../brokers/broker.ts";
import { MemoryBroker } from "../brokers/memory.ts";
import { RedisBroker } from "../brokers/redis.ts";
import { Gateway } from "../gateway/gateway.ts";
import type { GatewayDependencies, GatewayOptions } from "../gateway/gateway_options.ts";
import { type ConnectionLimits, LocalLimits } from "../delivery/admission.ts";
import { describeOriginPolicy } from "../net/origin.ts";
import { jsonError } from "../http/responses.ts";
import { createHandler, type ProcessReport } from "../http/routes.ts";
import { type Config, configWarnings, type SettingValues } from "../config/config.ts";
import { producersOf } from "../config/publish_tokens.ts";
import { errorFields, type Logger } from "../observe/log.ts";
import { listenFailure } from "./listen.ts";
import { maskRedisUrl, parseRedisTarget } from "../brokers/redis_target.ts";
import { buildStatus } from "../gateway/report.ts";

/**
 * How long to wait for the HTTP server to finish once every client was told to go, in ms. A
 * stalled peer can keep `server.shutdown()` pending forever; past this the process goes anyway.
 */
export const SHUTDOWN_GRACE_MS = 2000;

/** A gateway, or a process of workers, that is listening. */
export interface RunningGateway {
  /** The port it listens on (useful with `PORT=0`). */
  readonly port: number;
  /** Publishes as a producer would, through the broker (for the demo feed). */
  publish(region: string, payload: string): Promise<number>;
  /** Clients of each region now, over every worker (for the demo feed). */
  viewers(): Promise<Record<string, number>>;
  /**
   * Drains the clients over `drainMs` (default: none), closes the broker and stops the server.
   * Resolves `true` when the server stopped within the grace period. Idempotent.
   */
  close(drainMs?: number): Promise<boolean>;
  /**
   * Runs from now on with the live settings of `config` (read from `values`, validated): every
   * worker's next handshake and request sees them; no connection is dropped (`reload.ts`).
   */
  reconfigure(values: SettingValues, config: Config): Promise<void>;
  /** Counts a reload of the settings that ended with `result` (`tvs_settings_reloads_total`). */
  countReload(result: string): void;
  /** Settles with a reason when it cannot go on serving (workers that keep dying). */
  readonly failure: Promise<string>;
}

/** One gateway that is listening, and the gateway itself. */
export interface RunningServer extends RunningGateway {
  readonly gateway: Gateway;
}

/** What a worker's gateway gets from its supervisor instead of making it itself. */
export interface ServerOptions {
  /** The broker. @default the configuration's (memory, or Redis) */
  readonly broker?: Broker;
  /** Where connection slots are counted. @default this gateway */
  readonly limits?: ConnectionLimits;
  /** Where queued bytes are shared with the other workers. @default this gateway's alone */
  readonly sharedQueuedBytes?: GatewayDependencies["sharedQueuedBytes"];
  /** What `/readyz` and `/metrics` answer for. @default this gateway */
  readonly report?: ProcessReport;
  /** Shares the port with other workers of the process (`SO_REUSEPORT`). @default false */
  readonly reusePort?: boolean;
  /** Writes the `listening` line (the supervisor writes the process's). @default true */
  readonly announce?: boolean;
}

/** The broker the configuration names. */
export function createBroker(config: Config): Broker {
  const dedupe = { windowMs: config.dedupeWindowSeconds * 1000, capacity: config.dedupeCapacity };
  const history = { size: config.historySize, ttlMs: config.historyTtlSeconds * 1000 };
  if (config.redisUrl === null) return new MemoryBroker({ dedupe, history });
  return new RedisBroker(parseRedisTarget(config.redisUrl), {
    channelPrefix: config.channelPrefix,
    regions: config.regions,
    dedupe,
    history,
  });
}

/** What the configuration says of a gateway. */
export function gatewayOptions(config: Config): GatewayOptions {
  return {
    regions: config.regions,
    defaultRegion: config.defaultRegion,
    allowedOrigins: config.allowedOrigins,
    maxMessageBytes: config.maxMessageBytes,
    maxBufferedBytes: config.maxBufferedBytes,
    maxQueuedBytes: config.maxQueuedBytes,
    overloadLagMs: config.overloadLagSeconds * 1000,
    maxResidentBytes: config.maxResidentBytes,
    maxConnections: config.maxConnections,
    dedupe: { windowMs: config.dedupeWindowSeconds * 1000, capacity: config.dedupeCapacity },
    recentFrames: config.historySize,
    // Where Deno pings a WebSocket: at half the idle timeout.
    heartbeatMs: config.idleTimeoutSeconds * 500,
    connectTokens: {
      mode: config.connectToken,
      secret: config.connectTokenSecret,
      previousSecret: config.connectTokenPreviousSecret,
      previousUntilMs: config.connectTokenPreviousUntil,
      jwksUrl: config.connectTokenJwksUrl,
      audience: config.connectTokenAudience,
      issuer: config.connectTokenIssuer,
      leewaySeconds: config.connectTokenLeewaySeconds,
    },
  };
}

/** `/readyz`, `/metrics` and `/status.json` of a gateway that is the whole process. */
function ownReport(gateway: Gateway): ProcessReport {
  return {
    readiness: () => Promise.resolve(gateway.readiness()),
    metrics: () => gateway.scrape(),
    status: async () =>
      buildStatus({ ...await gateway.snapshot(), readiness: gateway.readiness(), workers: [] }),
  };
}

/** The `listening` line: where the process serves, and what it lets in. */
export function logListening(logger: Logger, config: Config, port: number): void {
  logger.info("listening", {
    host: config.host,
    port,
    broker: config.redisUrl === null ? "memory" : maskRedisUrl(config.redisUrl),
    regions: config.regions,
    workers: config.workers,
    allowedOrigins: describeOriginPolicy(config.allowedOrigins),
    trustedProxies: config.trustedProxies.describe(),
    httpPublish: producersOf(config).length > 0
      ? { producers: producersOf(config).map((producer) => producer.name) }
      : config.publishInsecureLoopback
      ? "insecure_loopback"
      : "off",
  });
  for (const { variable, message } of configWarnings(config)) {
    logger.warn("configuration works, but is probably not what was meant", {
      setting: variable,
      warning: message,
    });
  }
  if (producersOf(config).length === 0 && config.publishInsecureLoopback) {
    logger.warn("HTTP publishing needs no token from direct local requests", {
      setting: "PUBLISH_INSECURE_LOOPBACK",
      advice: "for development only: set PUBLISH_TOKEN wherever a proxy or others can reach",
    });
  }
}

/** Starts a gateway for `config`; resolves once it listens. */
export function startGateway(
  config: Config,
  logger: Logger,
  options: ServerOptions = {},
): Promise<RunningServer> {
  // Throws a ListenError (as a rejection) when the port cannot be had: `listen.ts`.
  const broker = options.broker ?? createBroker(config);
  // Counted here unless a supervisor counts for the process (and is reconfigured itself).
  const localLimits = options.limits === undefined ? new LocalLimits(config) : undefined;
  const gateway = new Gateway(gatewayOptions(config), {
    broker,
    logger,
    limits: options.limits ?? localLimits!,
    ...(options.sharedQueuedBytes !== undefined &&
      { sharedQueuedBytes: options.sharedQueuedBytes }),
  });
  const report = options.report ?? ownReport(gateway);
  // The routes read their settings from here at each request: a reload swaps them.
  const context = { config, gateway, logger, report };
  const handler = createHandler(context);
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.host,
      ...(options.reusePort === true && { reusePort: true }),
      onListen: resolve,
      onError(error) {
        logger.error("request failed", errorFields(error));
        return jsonError(500, "internal_error", "Internal error");
      },
    }, handler);
  } catch (error) {
    return gateway.close().then(() => {
      throw listenFailure(error, config.host, config.port);
    });
  }
  // Only once the port is had: a gateway that cannot listen never subscribes.
  gateway.start();
  let closing: Promise<boolean> | undefined;
  const stop = async (drainMs: number): Promise<boolean> => {
    await gateway.drain(drainMs);
    await gateway.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), SHUTDOWN_GRACE_MS);
    });
    const stopped = await Promise.race([server.shutdown().then(() => true), grace]);
    clearTimeout(timer);
    return stopped;
  };
  return listening.then((address) => {
    if (options.announce !== false) logListening(logger, config, address.port);
    return {
      port: address.port,
      gateway,
      publish: (region, payload) => gateway.publish(region, payload),
      viewers: () => Promise.resolve(gateway.viewers()),
      close(drainMs = 0) {
        closing ??= stop(drainMs);
        return closing;
      },
      reconfigure(_values, next) {
        context.config = next;
        gateway.reconfigure(gatewayOptions(next));
        localLimits?.relimit(next);
        return Promise.resolve();
      },
      countReload: (result) => gateway.settingsReloaded(result),
      failure: new Promise<string>(() => {}),
    };
  });
}
