/**
 * Assembles one running gateway: the broker chosen by the configuration, the gateway, and the
 * HTTP server. `main.ts` runs one per process; tests run several in one process.
 *
 * @module
 */

import type { Broker } from "./broker.ts";
import { MemoryBroker } from "./broker_memory.ts";
import { RedisBroker } from "./broker_redis.ts";
import type { Config } from "./config.ts";
import { mask } from "./config.ts";
import { Gateway } from "./gateway.ts";
import { createHandler } from "./http.ts";
import { errorFields, type Logger } from "./log.ts";
import { jsonError } from "./responses.ts";

/** A gateway that is listening. */
export interface RunningGateway {
  /** The port it listens on (useful with `PORT=0`). */
  readonly port: number;
  /** The gateway behind the server. */
  readonly gateway: Gateway;
  /** Closes the broker and the server. Idempotent. */
  close(): Promise<void>;
}

function createBroker(config: Config): Broker {
  const dedupe = { windowMs: config.dedupeWindowSeconds * 1000, capacity: config.dedupeCapacity };
  if (config.redisUrl === null) return new MemoryBroker({ dedupe });
  return new RedisBroker(config.redisUrl, {
    channelPrefix: config.channelPrefix,
    regions: config.regions,
    dedupe,
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
  let closing: Promise<void> | undefined;
  return listening.then((address) => {
    logger.info("listening", {
      host: address.hostname,
      port: address.port,
      broker: config.redisUrl === null ? "memory" : mask(config.redisUrl),
      regions: config.regions,
    });
    return {
      port: address.port,
      gateway,
      close() {
        closing ??= Promise.all([gateway.close(), server.shutdown()]).then(() => undefined);
        return closing;
      },
    };
  });
}
