/**
 * The gateway's network permissions are baked into its binary (deno.json `permissions.gateway`).
 * Checking the configured addresses against them at start-up turns a permission error deep in a
 * socket call into one line naming the variable and the fix.
 *
 * @module
 */

import { type Config, ConfigError } from "./config.ts";

function granted(host: string): boolean {
  return Deno.permissions.querySync({ name: "net", host }).state === "granted";
}

/** The first configured address outside the network permissions, as a {@link ConfigError}. */
export function checkNetworkAccess(config: Config): ConfigError | undefined {
  const listen = `${config.host}:${config.port}`;
  if (!granted(listen)) {
    return new ConfigError(
      "HOST",
      `Listening on ${listen} is outside the network permissions ` +
        `(deno.json permissions.gateway.net); add the address there and rebuild`,
    );
  }
  if (config.redisUrl !== null) {
    const url = new URL(config.redisUrl);
    const redis = `${url.hostname}:${url.port || "6379"}`;
    if (!granted(redis)) {
      return new ConfigError(
        "REDIS_URL",
        `${redis} is outside the network permissions ` +
          `(deno.json permissions.gateway.net); add the host there and rebuild`,
      );
    }
  }
  return undefined;
}
