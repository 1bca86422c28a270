/**
 * Assembles one running gateway: the broker chosen by the configuration, the gateway, and the
 * HTTP server; and takes it down again in order: drain the clients, close the broker, stop the
 * server. `main.ts` runs one per process; tests run several in one process.
 *
 * @module
 */

import type { Broker } from "./brokers/broker.ts";
import { MemoryBroker } from "./brokers/memory.ts";
import { RedisBroker } from "./brokers/redis.ts";
import type { Config } from "./ops/config.ts";
import { mask } from "./ops/setting_parsers.ts";
import { Gateway } from "./gateway.ts";
import { createHandler } from "./http/routes.ts";
import { errorFields, type Logger } from "./ops/log.ts";
import { describeOriginPolicy } from "./http/origin.ts";
import { jsonError } from "./http/responses.ts";

/**
 * How long to wait for the HTTP server to finish once every client was told to go, in ms. A
 * stalled peer can keep `server.shutdown()` pending forever; past this the process goes anyway.
 */
export const SHUTDOWN_GRACE_MS = 2000;

/** A gateway that is listening. */
export interface RunningGateway {
  /** The port it listens on (useful with `PORT=0`). */
  readonly port: number;
  /** The gateway behind the server. */
  readonly gateway: Gateway;
  /**
   * Drains the clients over `drainMs` (default: none), closes the broker and stops the server.
   * Resolves `true` when the server stopped within the grace period. Idempotent.
   */
  close(drainMs?: number): Promise<boolean>;
}

function createBroker(config: Config): Broker {
  const dedupe = { windowMs: config.dedupeWindowSeconds * 1000, capacity: config.dedupeCapacity };
  const history = { size: config.historySize, ttlMs: config.historyTtlSeconds * 1000 };
  if (config.redisUrl === null) return new MemoryBroker({ dedupe, history });
  return new RedisBroker(config.redisUrl, {
    channelPrefix: config.channelPrefix,
    regions: config.regions,
    dedupe,
    history,
  });
}

/** Starts a gateway for `config`; resolves once it listens. */
export function startGateway(config: Config, logger: Logger): Promise<RunningGateway> {
  const gateway = new Gateway(config, { broker: createBroker(config), logger });
  gateway.start();
  const handler = createHandler({ config, gateway, logger });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: resolve,
    onError(error) {
      logger.error("request failed", errorFields(error));
      return jsonError(500, "internal_error", "Internal error");
    },
  }, handler);
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
    logger.info("listening", {
      host: address.hostname,
      port: address.port,
      broker: config.redisUrl === null ? "memory" : mask(config.redisUrl),
      regions: config.regions,
      allowedOrigins: describeOriginPolicy(config.allowedOrigins),
      trustedProxies: config.trustedProxies.describe(),
      httpPublish: config.publishToken !== null
        ? "token"
        : config.publishInsecureLoopback
        ? "insecure_loopback"
        : "off",
    });
    if (config.publishToken === null && config.publishInsecureLoopback) {
      logger.warn("HTTP publishing needs no token from direct local requests", {
        setting: "PUBLISH_INSECURE_LOOPBACK",
        advice: "for development only: set PUBLISH_TOKEN wherever a proxy or others can reach",
      });
    }
    return {
      port: address.port,
      gateway,
      close(drainMs = 0) {
        closing ??= stop(drainMs);
        return closing;
      },
    };
  });
}
