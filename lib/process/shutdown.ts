/**
 * What SIGTERM and SIGINT do to a running gateway: the first one drains it (readiness drops at
 * once, clients are closed with the restart code over `DRAIN_SECONDS`, the broker closes, the
 * process exits 0); a second one exits at once; a hard deadline exits even if something hangs. A
 * gateway that cannot go on (its workers keep dying) is drained the same way, and exits 1; one
 * stopped for another cause (its terminal hung up: `main.ts`) as on SIGTERM.
 *
 * @module
 */

import type { Logger } from "../observe/log.ts";
import type { RunningGateway } from "./server.ts";

/** Extra time past the drain window before the hard deadline forces the exit, in ms. */
export const HARD_DEADLINE_MARGIN_MS = 10_000;

/** Options of {@link waitForShutdown}. */
export interface ShutdownOptions {
  /** The drain window in milliseconds. */
  readonly drainMs: number;
  readonly logger: Logger;
  /** Ends the process. @default Deno.exit */
  readonly exit?: (code: number) => never;
  /** Another cause to stop, as on SIGTERM: its `reason` (log fields) says which. */
  readonly stopOn?: AbortSignal;
}

/** Waits for a stop signal, then drains `running`; resolves with the exit status. */
export function waitForShutdown(
  running: RunningGateway,
  options: ShutdownOptions,
): Promise<number> {
  const { logger, drainMs } = options;
  const exit = options.exit ?? Deno.exit;
  const { promise, resolve } = Promise.withResolvers<number>();
  let stopping = false;
  let status = 0;
  const stop = (cause: Record<string, unknown>) => {
    if (stopping) {
      logger.warn("second signal, exiting now", cause);
      exit(1);
    }
    stopping = true;
    logger.info("stopping", { ...cause, drainSeconds: drainMs / 1000 });
    const deadline = setTimeout(() => {
      logger.error("shutdown deadline passed, exiting", {
        deadlineMs: drainMs + HARD_DEADLINE_MARGIN_MS,
      });
      exit(1);
    }, drainMs + HARD_DEADLINE_MARGIN_MS);
    running.close(drainMs).then((stoppedCleanly) => {
      clearTimeout(deadline);
      if (!stoppedCleanly) logger.warn("server did not stop in time; peers still connected");
      logger.info("stopped");
      resolve(status);
    }, (error) => {
      clearTimeout(deadline);
      logger.error("shutdown failed", { error: String(error) });
      resolve(1);
    });
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop({ signal }));
  }
  const { stopOn } = options;
  stopOn?.addEventListener("abort", () => stop(stopOn.reason), { once: true });
  running.failure.then((reason) => {
    logger.error("cannot go on serving", { reason });
    status = 1;
    if (!stopping) stop({ failure: reason });
  });
  return promise;
}
