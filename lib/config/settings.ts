/**
 * The settings table: every variable the gateway reads, with its flag's name (derived), help,
 * default and parser, in the order `--help` and `check-config` show them. The configuration's
 * type is derived from it (`config.ts`), so a setting is declared here and nowhere else.
 *
 * @module
 */

import { DEFAULT_DEDUPE, DEFAULT_HISTORY } from "../brokers/broker.ts";
import { describeRedisTarget, parseRedisTarget } from "../brokers/redis_target.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../contract/message.ts";
import { describeOriginPolicy, type OriginPolicy } from "../net/origin.ts";
import type { TrustedProxies } from "../net/trusted_proxies.ts";
import { LOG_LEVELS } from "../observe/log.ts";
import {
  boolean,
  channelPrefix,
  integer,
  listenHost,
  logLevel,
  optionalText,
  optionalToken,
  originPolicy,
  type Parse,
  redisUrl,
  region,
  regionList,
  residentBytes,
  trustedProxies,
  workerCount,
} from "./setting_parsers.ts";
import { type PublishTokenFile, readPublishTokens } from "./publish_tokens.ts";
import { TOKEN_SETTINGS } from "./token_settings.ts";

/** How one setting is named, documented, defaulted and parsed. */
export interface Setting<K extends string = string, T = unknown> {
  /** Its name in the configuration. */
  readonly key: K;
  /** Its environment variable (the flag is the same in lower case, `-` for `_`). */
  readonly env: string;
  readonly help: string;
  /** The raw default; absent means the setting is unset (`null`) unless given. */
  readonly fallback?: string;
  /** `check-config` shows `***` instead of the value. */
  readonly secret?: boolean;
  /** A yes/no setting: its flag may be given bare (`--flag` means true). */
  readonly boolean?: true;
  readonly parse: Parse<T>;
  /** How `check-config` shows the parsed value. @default String(value) */
  show?(value: T): string;
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
    help: "redis:// or rediss:// (TLS) URL of the Pub/Sub server, " +
      "redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER_NAME for Sentinel's master, or " +
      "redis+cluster://HOST:PORT[,HOST:PORT…] for a Cluster; unset runs the embedded " +
      "in-process broker",
    secret: true,
    parse: redisUrl,
    show: (url: string) => describeRedisTarget(parseRedisTarget(url)),
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
    parse: optionalToken,
  },
  {
    key: "publishTokensFile",
    env: "PUBLISH_TOKENS_FILE",
    help: "File of named publish tokens, one name:token or name:token:REGIONS a line; the " +
      "name is what logs and metrics show",
    parse: readPublishTokens,
    show: (file: PublishTokenFile) => file.path,
  },
  {
    key: "statusToken",
    env: "STATUS_TOKEN",
    help: "Bearer token that reads /status.json and nothing else (the status page's token)",
    secret: true,
    parse: optionalToken,
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
    fallback: String(DEFAULT_MAX_MESSAGE_BYTES),
    parse: integer(256, 1_048_576),
  },
  {
    key: "dedupeWindowSeconds",
    env: "DEDUPE_WINDOW_SECONDS",
    help: "The same (region, video_id) within this many seconds goes out once; 0 disables",
    fallback: String(DEFAULT_DEDUPE.windowMs / 1000),
    parse: integer(0, 7 * 86_400),
  },
  {
    key: "dedupeCapacity",
    env: "DEDUPE_CAPACITY",
    help: "Most video_ids remembered per region for de-duplication (oldest forgotten first)",
    fallback: String(DEFAULT_DEDUPE.capacity),
    parse: integer(1, 1_000_000),
  },
  {
    key: "historySize",
    env: "HISTORY_SIZE",
    help: "Messages kept per region for clients that reconnect (?since=)",
    fallback: String(DEFAULT_HISTORY.size),
    parse: integer(1, 10_000),
  },
  {
    key: "historyTtlSeconds",
    env: "HISTORY_TTL_SECONDS",
    help: "Seconds a message stays in the history",
    fallback: String(DEFAULT_HISTORY.ttlMs / 1000),
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
    key: "maxQueuedBytes",
    env: "MAX_QUEUED_BYTES",
    help: "Bytes queued for all clients of the process; over it the clients with the most queued " +
      "are closed first (code 4002)",
    fallback: String(256 * 1_048_576),
    parse: integer(65_536, 64 * 1_073_741_824),
  },
  {
    key: "overloadLagSeconds",
    env: "OVERLOAD_LAG_SECONDS",
    help: "Seconds publications may wait to go out while more come than the process writes; " +
      "past it the clients with the most queued are closed first (code 4002)",
    fallback: "10",
    parse: integer(2, 3600),
  },
  {
    key: "maxResidentBytes",
    env: "MAX_RSS_BYTES",
    help: "Resident memory of the process, in bytes, or auto (80% of the host's memory; set it " +
      "below a unit's MemoryMax= or a container's limit); over it the clients most likely to " +
      "hold unfinished inbound messages are closed first (code 4003)",
    fallback: "auto",
    parse: residentBytes(64 * 1_048_576, 1024 * 1_073_741_824),
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
    help: "Most WebSocket connections per client address (429 beyond); an IPv6 client counts " +
      "by its prefix (IPV6_PREFIX_LENGTH)",
    fallback: "100",
    parse: integer(1, 1_000_000),
  },
  {
    key: "ipv6PrefixLength",
    env: "IPV6_PREFIX_LENGTH",
    help: "Leading bits of an IPv6 address that name one client for MAX_CONNECTIONS_PER_IP " +
      "(64: one host owns a /64; 128: every address alone)",
    fallback: "64",
    parse: integer(32, 128),
  },
  {
    key: "allowedOrigins",
    env: "ALLOWED_ORIGINS",
    help: "Comma-separated origins whose pages may connect (https://*.example.com for every " +
      "subdomain), or *; unset: same origin only",
    fallback: "",
    parse: originPolicy,
    show: (policy: OriginPolicy) =>
      policy.kind === "list"
        ? policy.origins.map((pattern) => pattern.text).join(",")
        : describeOriginPolicy(policy),
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
    key: "workers",
    env: "WORKERS",
    help: "Threads serving connections on one port, or auto (one per core available); " +
      "limits, metrics and drain hold for the whole process",
    fallback: "1",
    parse: workerCount(256),
  },
  {
    key: "drainSeconds",
    env: "DRAIN_SECONDS",
    help: "On SIGTERM, spread closing the clients (code 1012) over this many seconds",
    fallback: "10",
    parse: integer(0, 600),
  },
  ...TOKEN_SETTINGS,
  {
    key: "settingsFile",
    env: "SETTINGS_FILE",
    help: "File of settings (NAME=value lines, the names above), read at start and again on " +
      "SIGHUP; it wins over the environment",
    parse: optionalText,
  },
] as const satisfies readonly Setting[];

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
