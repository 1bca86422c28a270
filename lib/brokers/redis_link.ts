/**
 * What a link to Redis is (`redis_links.ts` opens one per topology): the connection the broker
 * sends commands on, where its subscriber connects, and what the link reports.
 *
 * @module
 */

import type { RedisClientOptions } from "@redis/client";
import type { ChannelSubscriber, RegionSubscriberEvents } from "./redis_subscriber.ts";
import type { RedisAccess } from "./redis_target.ts";

/** The commands the broker and the producer send, whatever the topology. */
export interface RedisCommands {
  readonly isReady: boolean;
  ping(): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** What a link reports. */
export interface LinkEvents {
  /** A connection failed, or Sentinel could not name the master: `message` says which. */
  error(message: string): void;
  /** The commands connection came up, went down or is retrying. */
  changed(): void;
  /**
   * The topology changed: Sentinel named another master (the subscriber must move to it), or a
   * Cluster shard's master is another node. `master` names where to, for the log.
   */
  failover(master: string): void;
}

/** Socket options every connection of a link shares. */
export interface LinkSocketOptions {
  readonly reconnectStrategy: (retries: number) => number;
  readonly connectTimeout: number;
  readonly socketTimeout: number;
}

/** The connection for commands, and where a subscriber connects. */
export interface RedisLink {
  /** Commands, with node-redis's command timeout. */
  readonly commands: RedisCommands;
  /** The same connection without a command timeout (records: `redis.ts`). */
  readonly recorder: RedisCommands;
  /** Options of a subscriber client now: null while no master is known. */
  subscriberOptions(): RedisClientOptions | null;
  /**
   * The subscriber of `channels` (by region) for this topology. @default one plain client
   * (`RegionSubscriber`) where {@link subscriberOptions} says
   */
  subscriber?(
    channels: ReadonlyMap<string, string>,
    events: RegionSubscriberEvents,
  ): ChannelSubscriber;
  /**
   * Whether a script call must keep to one region's keys (a Cluster: one slot per call), rather
   * than take a batch of several regions.
   */
  readonly oneRegionPerScript: boolean;
  /** Connects, reporting to `events`; reconnects on its own. */
  start(events: LinkEvents): void;
  close(): Promise<void>;
}

/** `socket` with TLS on or off, as node-redis's option types tell the two apart. */
export function socketWithTls<T extends object>(socket: T, tls: boolean) {
  return tls ? { ...socket, tls: true as const } : { ...socket, tls: false as const };
}

/** A data node's client options under `access`: its credentials, and `socket` with its TLS. */
export function nodeOptions<T extends object>(access: RedisAccess, socket: T) {
  return {
    ...(access.username === undefined ? {} : { username: access.username }),
    ...(access.password === undefined ? {} : { password: access.password }),
    socket: socketWithTls(socket, access.tls),
  };
}
