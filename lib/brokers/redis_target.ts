/**
 * What `REDIS_URL` names: one Redis (`redis://`, `rediss://` for TLS), a master that Sentinel
 * watches (`redis+sentinel://[user:pass@]HOST:PORT[,HOST:PORT…]/MASTER_NAME`, `rediss+sentinel://`)
 * or a Cluster (`redis+cluster://[user:pass@]HOST:PORT[,HOST:PORT…]`, `rediss+cluster://`), as
 * Centrifugo spells them. Parsed once, at start and by `check-config`, so a URL that cannot
 * work is refused in one line (exit 78) rather than retried for ever.
 *
 * @module
 */

/** A host and port, as Sentinel and node-redis name a node. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Credentials and TLS, shared by every connection of a target. */
export interface RedisAccess {
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
}

/** Where the gateway finds Redis. */
export type RedisTarget =
  | { readonly kind: "single"; readonly url: string }
  | RedisAccess & {
    readonly kind: "sentinel";
    /** The sentinels to ask (any one that answers is enough). */
    readonly sentinels: readonly RedisNode[];
    /** The master's name in Sentinel's configuration. */
    readonly masterName: string;
  }
  | RedisAccess & {
    readonly kind: "cluster";
    /** Nodes to learn the topology from (any one that answers is enough). */
    readonly nodes: readonly RedisNode[];
  };

const DEFAULT_PORTS = { single: 6379, sentinel: 26379, cluster: 6379 } as const;

/**
 * Parses `REDIS_URL`.
 *
 * @throws {TypeError} naming what is wrong, with any password masked.
 */
export function parseRedisTarget(raw: string): RedisTarget {
  const text = raw.trim();
  const scheme = /^([a-z+]+):\/\//i.exec(text)?.[1]?.toLowerCase();
  const expected = "redis://, rediss://, redis+sentinel://, redis+cluster:// (or rediss+…)";
  if (scheme === "redis" || scheme === "rediss") {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new TypeError(`Expected a ${expected} URL, got "${maskRedisUrl(text)}"`);
    }
    if (url.hostname === "") throw new TypeError("The URL has no host");
    return { kind: "single", url: url.href };
  }
  if (scheme === "redis+sentinel" || scheme === "rediss+sentinel") {
    const { access, hosts, path } = splitMultiHost(text, scheme);
    const masterName = decodeURIComponent(path.replace(/^\//, ""));
    if (masterName === "" || masterName.includes("/")) {
      throw new TypeError(
        `A sentinel URL names the master after the hosts: ${scheme}://HOST:PORT[,HOST:PORT…]/MASTER_NAME`,
      );
    }
    return {
      kind: "sentinel",
      ...access,
      sentinels: parseNodes(hosts, DEFAULT_PORTS.sentinel),
      masterName,
    };
  }
  if (scheme === "redis+cluster" || scheme === "rediss+cluster") {
    const { access, hosts, path } = splitMultiHost(text, scheme);
    if (path !== "" && path !== "/") {
      throw new TypeError("A cluster URL has no database or name after the hosts");
    }
    return { kind: "cluster", ...access, nodes: parseNodes(hosts, DEFAULT_PORTS.cluster) };
  }
  throw new TypeError(`Expected a ${expected} URL, got "${maskRedisUrl(text)}"`);
}

/**
 * A Redis URL with its password (or a lone user name, which is a password) shown as `***`; also
 * when the URL is malformed (`redis//user:pass@host`), since that is when it is printed.
 */
export function maskRedisUrl(text: string): string {
  return text.replace(
    /^([a-z+]*:\/\/)?(.*)@/i,
    (_, scheme: string | undefined, userInfo: string) => {
      const colon = userInfo.indexOf(":", userInfo.lastIndexOf("/") + 1);
      const shown = colon === -1 ? "***" : `${userInfo.slice(0, colon)}:***`;
      return `${scheme ?? ""}${shown}@`;
    },
  );
}

/** One line for `check-config` and the start log: what the gateway will connect to. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.kind === "single") return `one Redis at ${maskRedisUrl(target.url)}`;
  if (target.kind === "cluster") {
    const nodes = target.nodes.map(({ host, port }) => `${host}:${port}`).join(", ");
    return `the Cluster that ${nodes} belong to${target.tls ? " (TLS)" : ""}, ` +
      "listening with SUBSCRIBE and SSUBSCRIBE, publishing with SPUBLISH";
  }
  const nodes = target.sentinels.map(({ host, port }) => `${host}:${port}`).join(", ");
  return `the master "${target.masterName}" that Sentinel at ${nodes} names` +
    `${target.tls ? " (TLS)" : ""}, followed through failovers`;
}

/** The user info, the comma-separated hosts and the path of a multi-host URL. */
function splitMultiHost(text: string, scheme: string) {
  const rest = text.slice(scheme.length + 3);
  const at = rest.lastIndexOf("@", rest.indexOf("/") === -1 ? undefined : rest.indexOf("/"));
  const userInfo = at === -1 ? "" : rest.slice(0, at);
  const afterUser = rest.slice(at + 1);
  const slash = afterUser.indexOf("/");
  const hosts = slash === -1 ? afterUser : afterUser.slice(0, slash);
  const path = slash === -1 ? "" : afterUser.slice(slash);
  const colon = userInfo.indexOf(":");
  const username = decodeURIComponent(colon === -1 ? userInfo : userInfo.slice(0, colon));
  const password = colon === -1 ? undefined : decodeURIComponent(userInfo.slice(colon + 1));
  const access: RedisAccess = {
    tls: scheme.startsWith("rediss"),
    // A lone user name is a password, as in redis:// URLs (`redis://secret@host`).
    ...(password === undefined
      ? username === "" ? {} : { password: username }
      : { password, ...(username === "" ? {} : { username }) }),
  };
  return { access, hosts, path };
}

/** `HOST:PORT,HOST:PORT…`, a missing port being `defaultPort`. */
function parseNodes(hosts: string, defaultPort: number): RedisNode[] {
  const nodes = hosts.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const match = /^(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::(\d+))?$/i.exec(entry);
    const port = Number(match?.[2] ?? defaultPort);
    if (match === null || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError(`Expected HOST:PORT, got "${entry}"`);
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ""), port };
  });
  if (nodes.length === 0) throw new TypeError("The URL names no host");
  return nodes;
}
