/**
 * Which settings a running gateway takes on without a restart (`SIGHUP`, `systemctl reload`): who
 * may connect and publish, and how many may connect. The rest (ports, Redis, regions, budgets)
 * shape what is already running, so a change to them waits for the next start, and says so.
 *
 * @module
 */

import type { SettingValues } from "./config.ts";

/** The settings a reload applies. */
export const LIVE_SETTINGS: ReadonlySet<string> = new Set([
  "CONNECT_TOKEN",
  "CONNECT_TOKEN_SECRET",
  "CONNECT_TOKEN_PREVIOUS_SECRET",
  "CONNECT_TOKEN_PREVIOUS_UNTIL",
  "CONNECT_TOKEN_JWKS_URL",
  "CONNECT_TOKEN_LEEWAY_SECONDS",
  "CONNECT_TOKEN_AUDIENCE",
  "CONNECT_TOKEN_ISSUER",
  "PUBLISH_TOKEN",
  "PUBLISH_TOKENS_FILE",
  "STATUS_TOKEN",
  "ALLOWED_ORIGINS",
  "TRUSTED_PROXIES",
  "MAX_CONNECTIONS",
  "MAX_CONNECTIONS_PER_IP",
]);

/** What a reload does with the values it read. */
export interface ReloadPlan {
  /** The values to run with: the running ones, with every live setting as read. */
  readonly values: SettingValues;
  /** Live settings whose value changed. */
  readonly changed: readonly string[];
  /** Settings that changed but wait for a restart. */
  readonly restartNeeded: readonly string[];
}

/** How going from `running` to `read` is done live. */
export function planReload(running: SettingValues, read: SettingValues): ReloadPlan {
  const values: Record<string, string> = { ...running };
  const changed: string[] = [];
  const restartNeeded: string[] = [];
  for (const name of new Set([...Object.keys(running), ...Object.keys(read)])) {
    if (running[name] === read[name]) continue;
    if (!LIVE_SETTINGS.has(name)) {
      restartNeeded.push(name);
      continue;
    }
    changed.push(name);
    const value = read[name];
    if (value === undefined) delete values[name];
    else values[name] = value;
  }
  return { values, changed, restartNeeded };
}
