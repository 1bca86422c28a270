/**
 * Gateway configuration: one table of settings, read once at start-up from the environment (and
 * `.env` through `--env-file`), overridable by command-line flags, validated before anything
 * listens. A bad value is a {@link ConfigError} naming the variable and what is allowed.
 *
 * @module
 */

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

/** Log verbosity, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The validated configuration the gateway runs with. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** `null` means the embedded in-process broker. */
  readonly redisUrl: string | null;
  readonly regions: readonly string[];
  readonly defaultRegion: string;
  readonly channelPrefix: string;
  /** `null` means `POST /publish` accepts loopback clients only. */
  readonly publishToken: string | null;
  readonly logLevel: LogLevel;
  /** Largest publication accepted, in bytes. */
  readonly maxMessageBytes: number;
  /** A `(region, video_id)` repeated within this many seconds goes out once; 0 disables. */
  readonly dedupeWindowSeconds: number;
  /** Most `video_id`s remembered per region for de-duplication. */
  readonly dedupeCapacity: number;
}

type Parse<T> = (raw: string, variable: string) => T;

/** How one setting is named, documented, defaulted and parsed. */
interface Setting<K extends keyof Config> {
  readonly key: K;
  readonly env: string;
  readonly help: string;
  /** The raw default; `undefined` means the setting is unset unless given. */
  readonly fallback?: string;
  readonly secret?: boolean;
  readonly parse: Parse<Config[K]>;
}

const REGION_PATTERN = /^[A-Z][A-Z0-9]{1,7}$/;

function integer(min: number, max: number): Parse<number> {
  return (raw, variable) => {
    if (!/^\d+$/.test(raw)) {
      throw new ConfigError(variable, `Expected an integer from ${min} to ${max}, got "${raw}"`);
    }
    const value = Number(raw);
    if (value < min || value > max) {
      throw new ConfigError(variable, `Expected an integer from ${min} to ${max}, got ${raw}`);
    }
    return value;
  };
}

function nonEmpty(raw: string, variable: string): string {
  if (raw.trim() === "") throw new ConfigError(variable, "Must not be empty");
  return raw.trim();
}

function redisUrl(raw: string, variable: string): string | null {
  if (raw.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(variable, `Expected a redis:// or rediss:// URL, got "${mask(raw)}"`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError(variable, `Expected a redis:// or rediss:// URL, got "${mask(raw)}"`);
  }
  if (url.hostname === "") throw new ConfigError(variable, "The URL has no host");
  return url.href;
}

function regionList(raw: string, variable: string): string[] {
  const regions = raw.split(",").map((region) => region.trim().toUpperCase()).filter(Boolean);
  if (regions.length === 0) throw new ConfigError(variable, "Expected at least one region code");
  for (const region of regions) {
    if (!REGION_PATTERN.test(region)) {
      throw new ConfigError(
        variable,
        `Invalid region code "${region}": expected 2 to 8 letters or digits, starting with a letter`,
      );
    }
  }
  if (new Set(regions).size !== regions.length) {
    throw new ConfigError(variable, `Region codes repeat in "${raw}"`);
  }
  return regions;
}

function region(raw: string, variable: string): string {
  const [code] = regionList(raw, variable);
  if (code === undefined || raw.includes(",")) {
    throw new ConfigError(variable, `Expected one region code, got "${raw}"`);
  }
  return code;
}

function channelPrefix(raw: string, variable: string): string {
  if (raw.length > 64 || /[\s*?[\]]/.test(raw)) {
    throw new ConfigError(
      variable,
      "Expected at most 64 characters without spaces or glob characters (* ? [ ])",
    );
  }
  return raw;
}

function optionalSecret(raw: string, variable: string): string | null {
  if (raw === "") return null;
  if (raw.length < 16) {
    throw new ConfigError(variable, "Expected at least 16 characters (or unset it)");
  }
  return raw;
}

function logLevel(raw: string, variable: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === raw.trim().toLowerCase());
  if (level === undefined) {
    throw new ConfigError(variable, `Expected one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  }
  return level;
}

/** Every setting, in the order `--help` and `check-config` show them. */
export const SETTINGS = [
  {
    key: "port",
    env: "PORT",
    help: "TCP port to listen on (0 picks a free port)",
    fallback: "8765",
    parse: integer(0, 65535),
  },
  {
    key: "host",
    env: "HOST",
    help: "Address to listen on",
    fallback: "0.0.0.0",
    parse: nonEmpty,
  },
  {
    key: "redisUrl",
    env: "REDIS_URL",
    help: "redis:// URL of the Pub/Sub server; unset runs the embedded in-process broker",
    secret: true,
    parse: redisUrl,
  },
  {
    key: "regions",
    env: "REGIONS",
    help: "Comma-separated region codes a client may subscribe to",
    fallback: "AE,FI,CZ,DK,BE,GB,CH,US",
    parse: regionList,
  },
  {
    key: "defaultRegion",
    env: "DEFAULT_REGION",
    help: "Region of a client that names none",
    fallback: "US",
    parse: region,
  },
  {
    key: "channelPrefix",
    env: "CHANNEL_PREFIX",
    help: "Redis channel of a region is <prefix><REGION>",
    fallback: "tvs:",
    parse: channelPrefix,
  },
  {
    key: "publishToken",
    env: "PUBLISH_TOKEN",
    help: "Bearer token for POST /publish; unset accepts loopback clients only",
    secret: true,
    parse: optionalSecret,
  },
  {
    key: "logLevel",
    env: "LOG_LEVEL",
    help: `Least severe log level written (${LOG_LEVELS.join(", ")})`,
    fallback: "info",
    parse: logLevel,
  },
  {
    key: "maxMessageBytes",
    env: "MAX_MESSAGE_BYTES",
    help: "Largest publication accepted, in bytes",
    fallback: "16384",
    parse: integer(256, 1_048_576),
  },
  {
    key: "dedupeWindowSeconds",
    env: "DEDUPE_WINDOW_SECONDS",
    help: "The same (region, video_id) within this many seconds goes out once; 0 disables",
    fallback: "3600",
    parse: integer(0, 7 * 86_400),
  },
  {
    key: "dedupeCapacity",
    env: "DEDUPE_CAPACITY",
    help: "Most video_ids remembered per region for de-duplication (oldest forgotten first)",
    fallback: "10000",
    parse: integer(1, 1_000_000),
  },
] as const satisfies readonly Setting<keyof Config>[];

/** Names of the environment variables the gateway reads. */
export const CONFIG_VARIABLES: readonly string[] = SETTINGS.map((setting) => setting.env);

/** Where raw values come from: the environment, then flag overrides by variable name. */
export interface ConfigSources {
  /** Reads one environment variable. */
  readonly env: (name: string) => string | undefined;
  /** Values given as flags, keyed by environment variable name; they win over `env`. */
  readonly overrides?: Readonly<Record<string, string>>;
}

/**
 * Reads and validates every setting.
 *
 * @throws {ConfigError} on the first value that cannot be used.
 */
export function loadConfig(sources: ConfigSources): Config {
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const raw = sources.overrides?.[setting.env] ?? sources.env(setting.env) ??
      ("fallback" in setting ? setting.fallback : undefined);
    values[setting.key] = raw === undefined ? null : setting.parse(raw, setting.env);
  }
  const config = values as unknown as Config;
  if (!config.regions.includes(config.defaultRegion)) {
    throw new ConfigError(
      "DEFAULT_REGION",
      `"${config.defaultRegion}" is not one of REGIONS (${config.regions.join(",")})`,
    );
  }
  return config;
}

/** Hides the password of a URL, or the whole value when it cannot be parsed as one. */
export function mask(value: string): string {
  try {
    const url = new URL(value);
    if (url.password === "" && url.username === "") return value;
    if (url.password !== "") url.password = "***";
    else url.username = "***";
    return url.href;
  } catch {
    return "***";
  }
}

/** The effective configuration as `VARIABLE=value` lines, secrets masked. */
export function describeConfig(config: Config): string[] {
  return SETTINGS.map((setting) => {
    const value = config[setting.key];
    let shown: string;
    if (value === null) shown = "(unset)";
    else if (Array.isArray(value)) shown = value.join(",");
    else if (setting.key === "redisUrl") shown = mask(String(value));
    else if ("secret" in setting && setting.secret) shown = "***";
    else shown = String(value);
    return `${setting.env}=${shown}`;
  });
}
