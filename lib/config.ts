/**
 * Gateway configuration: one table of settings, read once at start-up from the environment (and
 * `.env` through `--env-file`), overridable by command-line flags, validated before anything
 * listens. A bad value is a {@link ConfigError} naming the variable and what is allowed.
 *
 * @module
 */

import { describeOriginPolicy, type OriginPolicy } from "./origin.ts";

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
  /** Messages kept per region for clients that reconnect. */
  readonly historySize: number;
  /** Seconds a message stays in the history. */
  readonly historyTtlSeconds: number;
  /** Bytes queued for one client before it is closed as a slow consumer. */
  readonly maxBufferedBytes: number;
  /** A client silent this long (no pong) is closed; pings go out at half of it. */
  readonly idleTimeoutSeconds: number;
  /** Most WebSocket connections in all. */
  readonly maxConnections: number;
  /** Most WebSocket connections per client address. */
  readonly maxConnectionsPerIp: number;
  /** Origins whose pages may open a WebSocket. */
  readonly allowedOrigins: OriginPolicy;
  /** Take the client address from `X-Forwarded-For` (behind a load balancer). */
  readonly trustProxy: boolean;
  /** Seconds over which a draining gateway spreads the closing of its clients. */
  readonly drainSeconds: number;
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
  /** How `check-config` shows the parsed value. @default String(value) */
  show?(value: Config[K]): string;
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

function boolean(raw: string, variable: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  throw new ConfigError(variable, `Expected true or false, got "${raw}"`);
}

function originPolicy(raw: string, variable: string): OriginPolicy {
  const value = raw.trim();
  if (value === "") return { kind: "same-origin" };
  if (value === "*") return { kind: "any" };
  const origins = value.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError(
        variable,
        `Expected *, or origins like https://example.com, got "${entry}"`,
      );
    }
    if (!["http:", "https:"].includes(url.protocol) || url.origin !== entry.replace(/\/$/, "")) {
      throw new ConfigError(
        variable,
        `Expected an origin (scheme://host[:port], no path), got "${entry}"`,
      );
    }
    return url.origin;
  });
  return { kind: "list", origins };
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
  {
    key: "historySize",
    env: "HISTORY_SIZE",
    help: "Messages kept per region for clients that reconnect (?since=)",
    fallback: "100",
    parse: integer(1, 10_000),
  },
  {
    key: "historyTtlSeconds",
    env: "HISTORY_TTL_SECONDS",
    help: "Seconds a message stays in the history",
    fallback: "600",
    parse: integer(1, 7 * 86_400),
  },
  {
    key: "maxBufferedBytes",
    env: "MAX_BUFFERED_BYTES",
    help: "Bytes queued for one client before it is closed as a slow consumer (code 4001)",
    fallback: "262144",
    parse: integer(4096, 64 * 1_048_576),
  },
  {
    key: "idleTimeoutSeconds",
    env: "IDLE_TIMEOUT_SECONDS",
    help: "A client that answers no ping for this long is closed (pings at half of it)",
    fallback: "30",
    parse: integer(2, 3600),
  },
  {
    key: "maxConnections",
    env: "MAX_CONNECTIONS",
    help: "Most WebSocket connections in all (503 beyond)",
    fallback: "10000",
    parse: integer(1, 1_000_000),
  },
  {
    key: "maxConnectionsPerIp",
    env: "MAX_CONNECTIONS_PER_IP",
    help: "Most WebSocket connections per client address (429 beyond)",
    fallback: "100",
    parse: integer(1, 1_000_000),
  },
  {
    key: "allowedOrigins",
    env: "ALLOWED_ORIGINS",
    help: "Comma-separated origins whose pages may connect, or *; unset: same origin only",
    fallback: "",
    parse: originPolicy,
    show: (policy: OriginPolicy) =>
      policy.kind === "list" ? policy.origins.join(",") : describeOriginPolicy(policy),
  },
  {
    key: "trustProxy",
    env: "TRUST_PROXY",
    help: "Take the client address from the last X-Forwarded-For entry (behind a load balancer)",
    fallback: "false",
    parse: boolean,
  },
  {
    key: "drainSeconds",
    env: "DRAIN_SECONDS",
    help: "On SIGTERM, spread closing the clients (code 1012) over this many seconds",
    fallback: "10",
    parse: integer(0, 600),
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
  if (config.maxBufferedBytes < 2 * config.maxMessageBytes) {
    throw new ConfigError(
      "MAX_BUFFERED_BYTES",
      `Must be at least twice MAX_MESSAGE_BYTES (${2 * config.maxMessageBytes}), ` +
        `or a client could not receive one message`,
    );
  }
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
  return SETTINGS.map((setting: Setting<keyof Config>) => {
    const value = config[setting.key];
    let shown: string;
    if (value === null) shown = "(unset)";
    else if (setting.show !== undefined) shown = setting.show(value);
    else if (Array.isArray(value)) shown = value.join(",");
    else if (setting.key === "redisUrl") shown = mask(String(value));
    else if (setting.secret) shown = "***";
    else shown = String(value);
    return `${setting.env}=${shown}`;
  });
}
