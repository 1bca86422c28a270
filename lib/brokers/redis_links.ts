/**
 * Opens the broker's link to Redis for a topology (`redis_target.ts`): one Redis is one
 * `createClient` (here); Sentinel's master is `redis_sentinel_link.ts`; a Cluster is
 * `redis_cluster_link.ts`. With those two, `redis_subscriber.ts` and `redis_publisher.ts`, the only
 * modules that import the Redis client (`@redis/client`, node-redis without the modules for Redis
 * Stack's commands: `bench/redis_import.ts`).
 *
 * @module
 */

import { createClient, type RedisClientOptions, type RedisClientType } from "@redis/client";
import { ClusterLink } from "./redis_cluster_link.ts";
import {
  type LinkEvents,
  type LinkSocketOptions,
  nodeOptions,
  type RedisCommands,
  type RedisLink,
  socketWithTls,
} from "./redis_link.ts";
import { SentinelLink } from "./redis_sentinel_link.ts";
import type { RedisTarget } from "./redis_target.ts";

/**
 * Options of a short-lived client of the node that takes writes now: the one Redis, or the master
 * that the first sentinel to answer names. For one-off commands (the `publish` command; a Cluster
 * routes them itself).
 *
 * @throws {Error} when no sentinel answers or none knows the master.
 */
export async function currentMaster(
  target: Exclude<RedisTarget, { kind: "cluster" }>,
  connectTimeout: number,
): Promise<RedisClientOptions> {
  const socket = { reconnectStrategy: false as const, connectTimeout };
  if (target.kind === "single") return { url: target.url, socket };
  const { tls } = target;
  const failures: string[] = [];
  for (const { host, port } of target.sentinels) {
    const sentinel = createClient({ socket: { ...socketWithTls(socket, tls), host, port } });
    sentinel.on("error", () => {});
    try {
      await sentinel.connect();
      const reply = await sentinel.sendCommand(
        ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", target.masterName],
      ) as [string, string] | null;
      if (reply === null) throw new Error(`no master named "${target.masterName}"`);
      return nodeOptions(target, { ...socket, host: reply[0], port: Number(reply[1]) });
    } catch (error) {
      failures.push(`${host}:${port}: ${error instanceof Error ? error.message : error}`);
    } finally {
      if (sentinel.isOpen) await sentinel.close().catch(() => {});
    }
  }
  throw new Error(`No sentinel named the master: ${failures.join("; ")}`);
}

/** The link for `target`. */
export function openLink(target: RedisTarget, socket: LinkSocketOptions): RedisLink {
  if (target.kind === "single") return new SingleLink(target.url, socket);
  if (target.kind === "sentinel") return new SentinelLink(target, socket);
  return new ClusterLink(target, socket);
}

/** One Redis. */
class SingleLink implements RedisLink {
  readonly #url: string;
  readonly #socket: LinkSocketOptions;
  readonly #client: RedisClientType;
  readonly commands: RedisCommands;
  readonly recorder: RedisCommands;
  readonly oneRegionPerScript = false;

  constructor(url: string, socket: LinkSocketOptions) {
    this.#url = url;
    this.#socket = socket;
    // Fail fast while disconnected: a queued command would hold up delivery until Redis returns.
    this.#client = createClient({
      url,
      socket,
      name: "tvs-realtime-cmd",
      disableOfflineQueue: true,
    });
    this.commands = this.#client;
    this.recorder = this.#client.withCommandOptions({ timeout: 0 });
  }

  subscriberOptions(): RedisClientOptions {
    return { url: this.#url, socket: this.#socket };
  }

  start(events: LinkEvents): void {
    this.#client.on("error", (error: Error) => events.error(error.message));
    for (const event of ["ready", "end", "reconnecting"]) this.#client.on(event, events.changed);
    // With a reconnect strategy, connect() settles only once connected, or rejects when the
    // client is closed first: nothing to do then.
    this.#client.connect().catch(events.changed);
  }

  async close(): Promise<void> {
    await this.#client.close().catch(() => {});
  }
}
