/**
 * The subscriber on a Redis Cluster: every region's channel subscribed both ways. `SSUBSCRIBE` on
 * the shard that owns the channel hears `SPUBLISH` (node-redis keeps those subscriptions and moves
 * them with the shard). `SUBSCRIBE` hears a plain `PUBLISH`, which the cluster bus hands to every
 * node: so it is held on two masters at once, each its own connection, and their copies merged
 * (`copy_merge.ts`). One subscription on one node (node-redis's way) would be deaf from the moment
 * that node dies until the cluster promotes its replica and node-redis reads the slots again, about
 * `cluster-node-timeout` plus a second, and the producers cannot tell: a plain `PUBLISH` answers
 * the subscribers of the node it went to. A plain subscription whose connection fails moves at once
 * to a master the other is not on (at most once a second), and each moves off a node that is no
 * longer a master at the next failover.
 *
 * @module
 */

import type { createCluster, RedisClientOptions } from "@redis/client";
import { CopyMerge } from "./copy_merge.ts";
import {
  type ChannelSubscriber,
  RegionSubscriber,
  type RegionSubscriberEvents,
} from "./redis_subscriber.ts";

type Cluster = ReturnType<typeof createCluster>;

/** Pause before asking again for a subscription that failed, in ms. */
const RESUBSCRIBE_MS = 1000;
/** Least time between two moves of one plain subscription, in ms. */
const MOVE_EVERY_MS = 1000;

/** One of the two plain subscriptions, and where it is. */
interface PlainSubscription {
  readonly subscriber: RegionSubscriber;
  /** `host:port` of its master, once placed. */
  address: string | undefined;
  /** Its connection failed there: it moves at the next placement. */
  failed: boolean;
  movedAt: number;
}

/** Every region's channel, subscribed both ways. */
export class ClusterSubscriber implements ChannelSubscriber {
  readonly #cluster: () => Cluster;
  readonly #channels: ReadonlyMap<string, string>;
  readonly #events: RegionSubscriberEvents;
  readonly #nodeClient: (host: string, port: number) => RedisClientOptions;
  readonly #plain: readonly [PlainSubscription, PlainSubscription];
  readonly #merge = new CopyMerge();
  /** Sharded subscriptions Redis confirmed, and those waiting, by region. */
  readonly #confirmed = new Set<string>();
  readonly #pending = new Set<string>();
  #opened = false;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #placeLater: ReturnType<typeof setTimeout> | undefined;

  /**
   * A subscriber of `channels` (by region) on the cluster `cluster()`; `nodeClient` gives the
   * options of a client of one node, for the plain subscriptions. Nothing connects before
   * {@link open}.
   */
  constructor(
    cluster: () => Cluster,
    channels: ReadonlyMap<string, string>,
    events: RegionSubscriberEvents,
    nodeClient: (host: string, port: number) => RedisClientOptions,
  ) {
    this.#cluster = cluster;
    this.#channels = channels;
    this.#events = events;
    this.#nodeClient = nodeClient;
    this.#plain = [this.#plainSubscription(0), this.#plainSubscription(1)];
  }

  get opened(): boolean {
    return this.#opened;
  }

  /** Up when a plain subscription's connection and every master, with its shard's, is up. */
  get isReady(): boolean {
    const cluster = this.#cluster();
    if (!cluster.isReady || !this.#plain.some((plain) => plain.subscriber.isReady)) return false;
    return cluster.masters.every((master) =>
      master.client?.isReady === true && master.pubSub?.client.isReady !== false
    );
  }

  get ready(): boolean {
    return this.isReady && this.#confirmed.size === this.#channels.size &&
      this.#plain.some((plain) => plain.subscriber.ready);
  }

  /** Pings the plain subscriptions' connections that are up, and every shard's. */
  ping(): Promise<unknown> {
    const cluster = this.#cluster();
    return Promise.all([
      ...this.#plain.filter((plain) => plain.subscriber.isReady)
        .map((plain) => plain.subscriber.ping()),
      ...cluster.masters.map((master) => master.pubSub?.client.ping()),
    ]);
  }

  /**
   * Subscribes every region both ways; again (the broker calls it at every failover) moves a plain
   * subscription off a node that is no longer a master.
   */
  open(): void {
    if (this.#closed) return;
    this.#opened = true;
    this.#subscribeSharded();
    this.#place();
  }

  /** Closes the plain subscriptions; the sharded ones end with the cluster's connections. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#placeLater);
    await Promise.all(this.#plain.map((plain) => plain.subscriber.close()));
  }

  #plainSubscription(source: 0 | 1): PlainSubscription {
    const plain: PlainSubscription = {
      subscriber: new RegionSubscriber(this.#channels, {
        publication: (region, payload) => {
          if (this.#merge.pass(source, region, payload)) this.#events.publication(region, payload);
        },
        connected: () => this.#events.connected(),
        changed: (error) => {
          // A connection that failed (not a refused SUBSCRIBE on a live one) moves.
          if (error !== undefined && !plain.subscriber.isReady && !plain.failed) {
            plain.failed = true;
            this.#place();
          }
          this.#events.changed(error);
        },
      }),
      address: undefined,
      failed: false,
      movedAt: -Infinity,
    };
    return plain;
  }

  /** Puts each plain subscription on a master of its own, moving those that failed or overlap. */
  #place(): void {
    if (this.#closed || !this.#opened) return;
    const masters = this.#cluster().masters;
    const addresses = masters.map((master) => master.address);
    const now = performance.now();
    for (const [index, plain] of this.#plain.entries()) {
      const other = this.#plain[1 - index]!.address;
      const placed = plain.address !== undefined && !plain.failed &&
        addresses.includes(plain.address) && (plain.address !== other || masters.length < 2);
      if (placed) continue;
      const next = masters.find((master) =>
        master.address !== other && master.address !== plain.address
      ) ?? masters.find((master) => master.address !== other) ?? masters[0];
      const wait = plain.movedAt + MOVE_EVERY_MS - now;
      if (wait > 0 || next === undefined) {
        // No master known yet, or moved a moment ago: the placement looks at both again later.
        this.#placeLater ??= setTimeout(() => {
          this.#placeLater = undefined;
          this.#place();
        }, next === undefined ? MOVE_EVERY_MS : wait);
        continue;
      }
      plain.address = next.address;
      plain.failed = false;
      plain.movedAt = now;
      plain.subscriber.open(this.#nodeClient(next.host, next.port));
    }
  }

  #subscribeSharded(): void {
    const cluster = this.#cluster();
    for (const [region, channel] of this.#channels) {
      if (this.#confirmed.has(region) || this.#pending.has(region)) continue;
      this.#pending.add(region);
      const listener = (message: Uint8Array) => this.#events.publication(region, message);
      cluster.sSubscribe(channel, listener, true).then(() => {
        this.#pending.delete(region);
        this.#confirmed.add(region);
        this.#events.changed();
      }, (error: Error) => {
        this.#pending.delete(region);
        this.#events.changed(`SSUBSCRIBE ${channel}: ${error.message}`);
        clearTimeout(this.#retry);
        if (!this.#closed) this.#retry = setTimeout(() => this.#subscribeSharded(), RESUBSCRIBE_MS);
      });
    }
  }
}
