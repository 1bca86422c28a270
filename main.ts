/**
 * tvs-realtime: the real-time gateway of TrendVidStream. Producers `PUBLISH tvs:<REGION> <json>`
 * on Redis (or `POST /publish`); every browser connected to `/?region=<REGION>` gets the message as
 * one JSON text frame.
 *
 * @module
 */

import { ConfigError, loadConfig } from "./lib/config.ts";
import { Logger } from "./lib/log.ts";
import { startGateway } from "./lib/server.ts";

/** Exit status of a configuration error (sysexits EX_CONFIG): systemd should not restart it. */
const EXIT_CONFIG = 78;

/** Runs the gateway until SIGTERM or SIGINT; returns the exit status. */
export async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig({ env: (name) => Deno.env.get(name) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`tvs-realtime: invalid configuration: ${error.message}`);
    return EXIT_CONFIG;
  }
  const logger = new Logger(config.logLevel);
  const running = await startGateway(config, logger);
  const { promise: stopped, resolve } = Promise.withResolvers<string>();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => resolve(signal));
  }
  const signal = await stopped;
  logger.info("stopping", { signal });
  await running.close();
  logger.info("stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
