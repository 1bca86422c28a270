/**
 * Gateway configuration: the settings of `settings.ts`, read once at start-up from the
 * environment (and `.env` through `--env-file`), overridable by command-line flags, validated
 * before anything listens. Every value that cannot be used is reported at once, each as a
 * {@link ConfigError} naming the variable and what is allowed.
 *
 * @module
 */

import { maskRedisUrl } from "../brokers/redis_target.ts";
import { RETIRED_SETTINGS, type Setting, SETTINGS } from "./settings.ts";
import { publishTokenErrors } from "./publish_tokens.ts";
import { tokenSettingErrors } from "./token_settings.ts";

/** One setting of the table. */
type Entry = typeof SETTINGS[number];

/** The validated configuration the gateway runs with: one field per setting. */
export type Config = { readonly [S in Entry as S["key"]]: ReturnType<S["parse"]> };

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;

  /** Creates an error for `variable` with a sentence-case `message`. */
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/** Every unusable value of one configuration, so an operator fixes them all in one go. */
export class ConfigErrors extends AggregateError {
  declare readonly errors: ConfigError[];

  /** Collects `errors` (at least one). */
  constructor(errors: ConfigError[]) {
    super(errors, errors.map((error) => error.message).join("\n"));
    this.name = "ConfigErrors";
  }
}

/** Names of the environment variables of the settings. */
export const CONFIG_VARIABLES: readonly string[] = SETTINGS.map((setting) => setting.env);

/** Where raw values come from: the environment, then flag overrides by variable name. */
export interface ConfigSources {
  /** Reads one environment variable. */
  readonly env: (name: string) => string | undefined;
  /** Values given as flags, keyed by environment variable name; they win over `env`. */
  readonly overrides?: Readonly<Record<string, string>>;
}

/** Raw setting values by variable name, as `loadConfig` reads them. */
export type SettingValues = Readonly<Record<string, string>>;

/** The raw value of every variable `sources` set (flags over the environment), by name. */
export function settingValues(sources: ConfigSources): Record<string, string> {
  const values: Record<string, string> = {};
  for (const variable of [...CONFIG_VARIABLES, ...RETIRED_SETTINGS.keys()]) {
    const value = sources.overrides?.[variable] ?? sources.env(variable);
    if (value !== undefined) values[variable] = value;
  }
  return values;
}

const MIB = 1_048_576;

/**
 * Resident memory a gateway needs for what the other settings allow: the runtime and the code, a
 * thread's worth per worker, each connection's socket (about 17 KiB measured, bench/), and the
 * clients' queues with what Deno keeps beside each queued frame.
 */
export function residentBytesNeeded(
  settings: {
    readonly workers: number;
    readonly maxConnections: number;
    readonly maxQueuedBytes: number;
  },
): number {
  return 64 * MIB + 48 * MIB * settings.workers + 20 * 1024 * settings.maxConnections +
    1.25 * settings.maxQueuedBytes;
}

/** `MAX_RSS_BYTES` must leave room for what the other settings allow, or it sheds for ever. */
function residentBoundCheck(config: Partial<Config>): ConfigError[] {
  const { maxResidentBytes, workers, maxConnections, maxQueuedBytes } = config;
  if (
    maxResidentBytes === undefined || workers === undefined || maxConnections === undefined ||
    maxQueuedBytes === undefined
  ) {
    return [];
  }
  const needed = residentBytesNeeded({ workers, maxConnections, maxQueuedBytes });
  if (maxResidentBytes >= needed) return [];
  const mib = (bytes: number) => `${Math.ceil(bytes / MIB)} MiB`;
  return [
    new ConfigError(
      "MAX_RSS_BYTES",
      `${mib(maxResidentBytes)} is less than the other settings need: 64 MiB, 48 MiB per worker, ` +
        `20 KiB per connection of MAX_CONNECTIONS and 1.25 × MAX_QUEUED_BYTES make ${
          mib(needed)
        } ` +
        `(raise it or the unit's MemoryMax=, or lower MAX_CONNECTIONS or MAX_QUEUED_BYTES)`,
    ),
  ];
}

/** The checks that relate two settings; each runs when both parsed. */
function crossChecks(config: Partial<Config>): ConfigError[] {
  const errors: ConfigError[] = [];
  const { maxBufferedBytes, maxMessageBytes, regions, defaultRegion } = config;
  if (
    maxBufferedBytes !== undefined && maxMessageBytes !== undefined &&
    maxBufferedBytes < 2 * maxMessageBytes
  ) {
    errors.push(
      new ConfigError(
        "MAX_BUFFERED_BYTES",
        `Must be at least twice MAX_MESSAGE_BYTES (${2 * maxMessageBytes}), ` +
          `or a client could not receive one message`,
      ),
    );
  }
  const { maxQueuedBytes } = config;
  if (
    maxQueuedBytes !== undefined && maxBufferedBytes !== undefined &&
    maxQueuedBytes < maxBufferedBytes
  ) {
    errors.push(
      new ConfigError(
        "MAX_QUEUED_BYTES",
        `Must be at least MAX_BUFFERED_BYTES (${maxBufferedBytes}): one client may queue that much`,
      ),
    );
  }
  errors.push(...residentBoundCheck(config));
  for (
    const [variable, message] of [...tokenSettingErrors(config), ...publishTokenErrors(config)]
  ) {
    errors.push(new ConfigError(variable, message));
  }
  if (regions !== undefined && defaultRegion !== undefined && !regions.includes(defaultRegion)) {
    errors.push(
      new ConfigError(
        "DEFAULT_REGION",
        `"${defaultRegion}" is not one of REGIONS (${regions.join(",")})`,
      ),
    );
  }
  return errors;
}

/** Errors for the retired settings that are set (to anything but a "no"). */
function retiredSettings(sources: ConfigSources): ConfigError[] {
  return [...RETIRED_SETTINGS].flatMap(([variable, replacement]) => {
    const raw = sources.env(variable)?.trim().toLowerCase() ?? "";
    const unset = ["", "0", "false", "no", "off"].includes(raw);
    return unset ? [] : [new ConfigError(variable, replacement)];
  });
}

/**
 * Reads and validates every setting.
 *
 * @throws {ConfigErrors} listing every value that cannot be used.
 */
export function loadConfig(sources: ConfigSources): Config {
  const values: Record<string, unknown> = {};
  const errors = retiredSettings(sources);
  for (const setting of SETTINGS as readonly Setting[]) {
    const raw = sources.overrides?.[setting.env] ?? sources.env(setting.env) ?? setting.fallback;
    try {
      values[setting.key] = raw === undefined ? null : setting.parse(raw);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      errors.push(new ConfigError(setting.env, error.message));
    }
  }
  // Each field was set by its own setting's parser (or is null where the table allows it).
  const config = values as Config;
  errors.push(...crossChecks(config));
  if (errors.length > 0) throw new ConfigErrors(errors);
  return config;
}

/** A setting that works, but probably not as its operator meant: said at start and by check-config. */
export interface ConfigWarning {
  readonly variable: string;
  readonly message: string;
}

/** What is worth a warning in `config`. */
export function configWarnings(config: Config): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const wide = config.trustedProxies.wide;
  if (wide.length > 0) {
    warnings.push({
      variable: "TRUSTED_PROXIES",
      message: `${wide.join(", ")} covers the Internet: any client may then claim any address ` +
        "in X-Forwarded-For, and lock another address out of its quota; name the proxies' own " +
        "addresses or networks",
    });
  }
  return warnings;
}

/**
 * The effective configuration as an env file (`VARIABLE=value` lines, as `--env-file` and
 * systemd's `EnvironmentFile=` read them), so `check-config > gateway.env` gives a file that
 * configures the same gateway: each value as given (or its default), an unset one empty. What the
 * value resolves to, where that says more (a policy, `auto`), is a comment line above it; a secret
 * is a comment saying it is set, never its value, and so is a URL with a password.
 */
export function describeConfig(config: Config, sources: ConfigSources): string[] {
  const values: Readonly<Record<string, unknown>> = config;
  const given = settingValues(sources);
  return (SETTINGS as readonly Setting[]).flatMap((setting) => {
    const value = values[setting.key];
    const raw = given[setting.env] ?? setting.fallback ?? "";
    if (setting.env === "REDIS_URL" && value !== null) {
      if (maskRedisUrl(raw) !== raw) {
        return [`# ${setting.env}=${maskRedisUrl(raw)} (its password not shown)`];
      }
    } else if (value !== null && setting.secret) {
      return [`# ${setting.env} is set (not shown); copy it from where it is kept`];
    }
    const resolved = value === null
      ? "unset"
      : setting.show !== undefined
      ? setting.show(value)
      : Array.isArray(value)
      ? value.join(",")
      : String(value);
    // Quoted when a reader would otherwise cut it (at a space, a `#`) or unescape it.
    const line = `${setting.env}=${/[\s#"'\\]/.test(raw) ? JSON.stringify(raw) : raw}`;
    return resolved === raw || (value === null && raw === "")
      ? [line]
      : [`# ${setting.env}: ${resolved}`, line];
  });
}
