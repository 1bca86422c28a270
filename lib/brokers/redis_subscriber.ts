/**
 * The broker's subscriber: one connection subscribed to every region's channel, and the bookkeeping
 * that makes sure it really is. node-redis resubscribes after a reconnect only what Redis
 * confirmed: a SUBSCRIBE whose connection dropped before the answer (a Redis that accepted and
 * died, a proxy that closed) is forgotten, and the subscriber comes back ready and deaf to it. So
 * an unconfirmed region is asked again on the next ready, and the subscriber counts as subscribed
 * only once every region is confirmed. When the master moves (Sentinel), the connection is
 * replaced by one on the new master, and every region is subscribed again.
 *
 * @module
 */

import { createClient, type RedisClientOptions, type RedisClientType } from "@redis/client";

/** Pause before asking again for a subscription Redis refused on a ready connection, in ms. */
const RESUBSCRIBE_MS = 1000;

/** What the subscriber reports. */
export interface RegionSubscriberEvents {
  /** A raw publication on `region`'s channel. */
  publication(region: string, payload: Uint8Array): void;
  /** The connection came up (a new one: what a ping of the one before waits for is moot). */
  connected(): void;
  /** Something changed (up, down, a region confirmed); `error` says what failed, if anything. */
  changed(error?: string): void;
}

/** What the broker asks of its subscriber, whatever the topology. */
export interface ChannelSubscriber {
  /** Whether it has connected (or tried to): the link knew where. */
  readonly opened: boolean;
  /** Whether its connections are up and every region's subscription is confirmed on them. */
  readonly ready: boolean;
  /** Whether its connections are up (a ping would go out at once). */
  readonly isReady: boolean;
  /** Pings its connections. */
  ping(): Promise<unknown>;
  /** Connects with `options` and subscribes every region; again when the master moved. */
  open(options: RedisClientOptions): void;
  close(): Promise<void>;
}

/** One subscriber connection for every region, replaced when the master moves. */
export class RegionSubscriber implements ChannelSubscriber {
  /** Channel name by region. */
  readonly #channels: ReadonlyMap<string, string>;
  readonly #events: RegionSubscriberEvents;
  #client: RedisClientType | undefined;
  /** Regions whose SUBSCRIBE Redis confirmed on the current connection, and those waiting. */
  readonly #subscribed = new Set<string>();
  readonly #subscribing = new Set<string>();
  #resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** A subscriber of `channels` (by region); nothing connects before {@link open}. */
  constructor(channels: ReadonlyMap<string, string>, events: RegionSubscriberEvents) {
    this.#channels = channels;
    this.#events = events;
  }

  /** Whether a connection exists (the link knew where to open it). */
  get opened(): boolean {
    return this.#client !== undefined;
  }

  /** Whether the connection is up and every region's subscription is confirmed on it. */
  get ready(): boolean {
    return this.#client?.isReady === true && this.#subscribed.size === this.#channels.size;
  }

  /** Whether the connection is up (a ping would go out at once). */
  get isReady(): boolean {
    return this.#client?.isReady === true;
  }

  /** Pings the connection. */
  ping(): Promise<unknown> {
    return this.#client?.ping() ?? Promise.reject(new Error("No subscriber connection"));
  }

  /**
   * Connects with `options` and subscribes every region, replacing the connection there was (its
   * subscriptions go with it).
   */
  open(options: RedisClientOptions): void {
    if (this.#closed) return;
    this.#client?.destroy();
    this.#subscribed.clear();
    this.#subscribing.clear();
    const client: RedisClientType = createClient({ ...options, name: "tvs-realtime-sub" });
    this.#client = client;
    const current = () => client === this.#client;
    client.on("error", (error: Error) => current() && this.#events.changed(error.message));
    client.on("ready", () => {
      if (!current()) return;
      this.#events.connected();
      this.#subscribeMissing();
      this.#events.changed();
    });
    for (const event of ["end", "reconnecting"]) {
      client.on(event, () => current() && this.#events.changed());
    }
    client.connect().catch(() => current() && this.#events.changed());
    // Queued until connected; node-redis resubscribes what was confirmed after every reconnect.
    this.#subscribeMissing();
  }

  /** Closes the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#resubscribeTimer);
    await this.#client?.close().catch(() => {});
  }

  /** Subscribes every region neither confirmed nor waiting for its answer. */
  #subscribeMissing(): void {
    const client = this.#client;
    if (client === undefined || this.#closed) return;
    for (const [region, channel] of this.#channels) {
      if (this.#subscribed.has(region) || this.#subscribing.has(region)) continue;
      this.#subscribing.add(region);
      // One listener per channel carries its region, so no channel name is decoded per message;
      // buffer mode hands over the producer's bytes, so invalid UTF-8 is caught, not replaced.
      client.subscribe(
        channel,
        (message: Uint8Array) => this.#events.publication(region, message),
        true,
      ).then(() => {
        if (client !== this.#client) return;
        this.#subscribing.delete(region);
        this.#subscribed.add(region);
        this.#events.changed();
      }, (error: Error) => {
        if (client !== this.#client) return;
        this.#subscribing.delete(region);
        this.#events.changed(`SUBSCRIBE ${channel}: ${error.message}`);
        // Asked again on the next ready; if the connection is ready already (Redis refused the
        // command itself: an ACL without the channel), after a pause rather than at once.
        if (client.isReady) {
          clearTimeout(this.#resubscribeTimer);
          this.#resubscribeTimer = setTimeout(() => this.#subscribeMissing(), RESUBSCRIBE_MS);
        }
      });
    }
  }
}
