/**
 * Gateway configuration: one table of settings, read once at start-up from the environment (and
 * `.env` through `--env-file`), overridable by command-line flags, validated before anything
 * listens. A bad value is a {@link ConfigError} naming the variable and what is allowed.
 *
 * @module
 */

import { canonicalIp } from "../http/ip_address.ts";
import { describeOriginPolicy, type OriginPolicy } from "../http/origin.ts";
import { TrustedProxies } from "../http/trusted_proxies.ts";

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
  /** Bearer token `POST /publish` requires; `null` turns HTTP publishing off (see below). */
  readonly publishToken: string | null;
  /**
   * Without a token, let direct loopback requests (no proxy headers, a loopback `Host`) publish.
   * For development only: the name says it.
   */
  readonly publishInsecureLoopback: boolean;
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
  /** Peers whose `X-Forwarded-For` names the client (the proxies in front). */
  readonly trustedProxies: TrustedProxies;
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
  /** A yes/no setting: its flag may be given bare (`--flag` means true). */
  readonly boolean?: true;
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

function listenHost(raw: string, variable: string): string {
  const host = raw.trim();
  if (canonicalIp(host) !== null || /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(host)) {
    return host;
  }
  throw new ConfigError(variable, `Expected an IP address or host name to listen on, got "${raw}"`);
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

function trustedProxies(raw: string, variable: string): TrustedProxies {
  try {
    return TrustedProxies.parse(raw);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ConfigError(variable, `Expected addresses and CIDR ranges: ${error.message}`);
  }
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
    help: "Address to listen on (127.0.0.1 behind a proxy on this host)",
    fallback: "0.0.0.0",
    parse: listenHost,
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
    help:
      "Bearer token POST /publish requires (at least 16 characters); unset: HTTP publishing off",
    secret: true,
    parse: optionalSecret,
  },
  {
    key: "publishInsecureLoopback",
    env: "PUBLISH_INSECURE_LOOPBACK",
    help: "Without PUBLISH_TOKEN, let direct loopback requests publish (development only; " +
      "never with a proxy in front)",
    fallback: "false",
    boolean: true,
    parse: boolean,
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
    key: "trustedProxies",
    env: "TRUSTED_PROXIES",
    help: "Proxies in front (addresses, CIDR ranges) whose X-Forwarded-For names the client",
    fallback: "",
    parse: trustedProxies,
    show: (proxies: TrustedProxies) => proxies.none ? "(none)" : proxies.describe(),
  },
  {
    key: "drainSeconds",
    env: "DRAIN_SECONDS",
    help: "On SIGTERM, spread closing the clients (code 1012) over this many seconds",
    fallback: "10",
    parse: integer(0, 600),
  },
] as const satisfies readonly Setting<keyof Config>[];

/** Names of the environment variables of the settings. */
export const CONFIG_VARIABLES: readonly string[] = SETTINGS.map((setting) => setting.env);

/**
 * Settings that no longer exist, with what replaced them. Set to anything but a "no", one stops
 * the gateway: silently ignoring it would change what an upgraded deployment does.
 */
export const RETIRED_SETTINGS: ReadonlyMap<string, string> = new Map([
  [
    "TRUST_PROXY",
    "Replaced by TRUSTED_PROXIES, which names the proxies to believe " +
    "(a proxy on this host: TRUSTED_PROXIES=127.0.0.1,::1)",
  ],
]);

/** Where raw values come from: the environment, then flag overrides by variable name. */
export interface ConfigSources {
  /** Reads one environment variable. */
  readonly env: (name: string) => string | undefined;
  /** Values given as flags, keyed by environment variable name; they win over `env`. */
  readonly overrides?: Readonly<Record<string, string>>;
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

/**
 * Reads and validates every setting.
 *
 * @throws {ConfigErrors} listing every value that cannot be used.
 */
export function loadConfig(sources: ConfigSources): Config {
  const values: Record<string, unknown> = {};
  const errors: ConfigError[] = [];
  for (const [variable, replacement] of RETIRED_SETTINGS) {
    const raw = sources.env(variable)?.trim().toLowerCase() ?? "";
    if (!["", "0", "false", "no", "off"].includes(raw)) {
      errors.push(new ConfigError(variable, replacement));
    }
  }
  for (const setting of SETTINGS) {
    const raw = sources.overrides?.[setting.env] ?? sources.env(setting.env) ??
      ("fallback" in setting ? setting.fallback : undefined);
    try {
      values[setting.key] = raw === undefined ? null : setting.parse(raw, setting.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error);
    }
  }
  errors.push(...crossChecks(values as Partial<Config>));
  if (errors.length > 0) throw new ConfigErrors(errors);
  return values as unknown as Config;
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
