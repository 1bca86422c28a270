/**
 * The Redis broker: subscribes to `<prefix><REGION>` for every region on a dedicated connection,
 * so today's producers (`PUBLISH tvs:AE <json>`) work unchanged, and every gateway instance on the
 * same Redis sees every publication. A second connection records the stream (`redis_scripts.ts`).
 * With `redis_publisher.ts`, the only module that imports the Redis client (`@redis/client`,
 * node-redis without the modules for Redis Stack's commands: `bench/redis_import.ts`).
 *
 * Reconnection is node-redis's own, with a capped, jittered backoff; it resubscribes before it
 * reports `ready`. Under Deno, node-redis stops reconnecting for good when a client has no
 * `'error'` listener, so both clients get one before they connect. A connection that goes silent
 * without closing is noticed by pinging it (`connection_watch.ts`) and dropped by its socket's
 * idle timeout, and node-redis reconnects it.
 *
 * Why the class is long: node-redis's two connections, their events and their watches are one
 * state machine, whose `ready` needs all of them.
 *
 * @module
 */

import { createClient, type RedisClientType } from "@redis/client";
import type {
  Broker,
  BrokerListener,
  BrokerState,
  Cursor,
  DedupeOptions,
  HistoryOptions,
  RecentKey,
  Recovery,
  RegionRecord,
  StreamPosition,
} from "./broker.ts";
import { DEFAULT_DEDUPE, DEFAULT_HISTORY } from "./broker.ts";
import { ConnectionWatch } from "./connection_watch.ts";
import {
  recentKeysCall,
  recordCall,
  recoverCall,
  type ScriptCall,
  type StreamSettings,
} from "./redis_scripts.ts";

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions {
  /** Channel of a region is `channelPrefix + region`. */
  readonly channelPrefix: string;
  /** Regions to subscribe to. */
  readonly regions: readonly string[];
  /** Longest wait between two reconnect attempts, in milliseconds. @default 1000 */
  readonly maxReconnectDelayMs?: number;
  /** De-duplication rule. @default DEFAULT_DEDUPE */
  readonly dedupe?: DedupeOptions;
  /** History kept per region. @default DEFAULT_HISTORY */
  readonly history?: HistoryOptions;
  /**
   * How both connections are pinged: every `intervalMs`, silent once a ping waits `timeoutMs`.
   * @default {intervalMs: 1000, timeoutMs: 2000}
   */
  readonly healthCheck?: { readonly intervalMs: number; readonly timeoutMs: number };
}

/** Pause before asking again for a subscription Redis refused on a ready connection, in ms. */
const RESUBSCRIBE_MS = 1000;

/** The two connections of a broker, as logs and metrics name them. */
export type RedisConnection = "subscriber" | "commands";

/** Milliseconds before reconnect attempt `retries` (0-based): doubling from 50, capped, jittered. */
export function reconnectDelay(retries: number, maxDelayMs: number): number {
  const ceiling = Math.min(50 * 2 ** Math.min(retries, 16), maxDelayMs);
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
}

/** A {@link Broker} over Redis Pub/Sub. */
export class RedisBroker implements Broker {
  readonly kind = "redis";
  readonly #subscriber: RedisClientType;
  readonly #commands: RedisClientType;
  /** {@link #commands} without node-redis's command timeout, for records: see {@link record}. */
  readonly #recorder: RedisClientType;
  /** Channel name by region. */
  readonly #channels: ReadonlyMap<string, string>;
  /** Key prefix, de-duplication and history: what the scripts are called with. */
  readonly #streams: StreamSettings;
  readonly #watches: ReadonlyMap<RedisConnection, ConnectionWatch>;
  #listener: BrokerListener | undefined;
  /**
   * Regions whose SUBSCRIBE Redis confirmed, and those waiting for an answer. node-redis
   * resubscribes after a reconnect only what was confirmed: a SUBSCRIBE whose connection dropped
   * before the answer (a Redis that accepted and died, a proxy that closed) is forgotten, and the
   * subscriber comes back ready and deaf to it. So an unconfirmed region is asked again on the
   * next ready, and the broker is not ready until every region is confirmed.
   */
  readonly #subscribed = new Set<string>();
  readonly #subscribing = new Set<string>();
  #resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
  #state: BrokerState = "connecting";
  #lastError: string | undefined;

  /** Creates a broker for the server at `url`; nothing connects before {@link start}. */
  constructor(url: string, options: RedisBrokerOptions) {
    const maxDelayMs = options.maxReconnectDelayMs ?? 1000;
    const health = options.healthCheck ?? { intervalMs: 1000, timeoutMs: 2000 };
    const clientOptions = {
      url,
      socket: {
        reconnectStrategy: (retries: number) => reconnectDelay(retries, maxDelayMs),
        connectTimeout: 2000,
        // A healthy connection carries a ping at least every interval; one quiet for longer
        // than interval plus timeout is silent (and no longer written to): close it.
        socketTimeout: health.intervalMs + health.timeoutMs,
      },
    };
    this.#subscriber = createClient({ ...clientOptions, name: "tvs-realtime-sub" });
    // Fail fast while disconnected: a queued command would hold up delivery until Redis returns.
    this.#commands = createClient({
      ...clientOptions,
      name: "tvs-realtime-cmd",
      disableOfflineQueue: true,
    });
    this.#recorder = this.#commands.withCommandOptions({ timeout: 0 });
    this.#streams = {
      keyPrefix: options.channelPrefix,
      dedupe: options.dedupe ?? DEFAULT_DEDUPE,
      history: options.history ?? DEFAULT_HISTORY,
    };
    this.#channels = new Map(
      options.regions.map((region) => [region, options.channelPrefix + region]),
    );
    const clients = { subscriber: this.#subscriber, commands: this.#commands };
    this.#watches = new Map(
      (["subscriber", "commands"] as const).map((connection) => {
        const client = clients[connection];
        return [
          connection,
          new ConnectionWatch({
            ...health,
            ping: () => client.ping(),
            isReady: () => client.isReady,
            onSilent: (silentMs) => {
              this.#lastError = `${connection} connection silent for ${Math.round(silentMs)} ms`;
              this.#listener?.connectionSilent?.(connection, silentMs);
              this.#refreshState();
            },
            onHeard: () => this.#refreshState(),
          }),
        ];
      }),
    );
  }

  /** Current state: `ready` when both connections are up and every channel is subscribed. */
  get state(): BrokerState {
    return this.#state;
  }

  /** Connects both clients in the background and subscribes; reconnects on its own after that. */
  start(listener: BrokerListener): void {
    if (this.#listener !== undefined) throw new Error("Broker already started");
    this.#listener = listener;
    const clients = [["subscriber", this.#subscriber], ["commands", this.#commands]] as const;
    for (const [connection, client] of clients) {
      const watch = this.#watches.get(connection)!;
      client.on("error", (error: Error) => {
        this.#lastError = error.message;
        this.#refreshState();
      });
      client.on("ready", () => {
        watch.reset();
        if (connection === "subscriber") this.#subscribeMissing();
        this.#refreshState();
      });
      watch.start();
      client.on("end", () => this.#refreshState());
      client.on("reconnecting", () => this.#refreshState());
      // With a reconnect strategy, connect() settles only once connected, or rejects when the
      // client is closed first: nothing to do then.
      client.connect().catch(() => this.#refreshState());
    }
    // Queued until connected; node-redis resubscribes what was confirmed after every reconnect.
    this.#subscribeMissing();
  }

  /** Subscribes every region neither confirmed nor waiting for its answer. */
  #subscribeMissing(): void {
    const listener = this.#listener;
    if (listener === undefined || this.#state === "closed") return;
    for (const [region, channel] of this.#channels) {
      if (this.#subscribed.has(region) || this.#subscribing.has(region)) continue;
      this.#subscribing.add(region);
      // One listener per channel carries its region, so no channel name is decoded per message;
      // buffer mode hands over the producer's bytes, so invalid UTF-8 is caught, not replaced.
      this.#subscriber.subscribe(
        channel,
        (message: Uint8Array) => listener.publication(region, message),
        true,
      ).then(() => {
        this.#subscribing.delete(region);
        this.#subscribed.add(region);
        this.#refreshState();
      }, (error: Error) => {
        this.#subscribing.delete(region);
        this.#lastError = `SUBSCRIBE ${channel}: ${error.message}`;
        this.#refreshState();
        // Asked again on the next ready; if the subscriber is ready already (Redis refused the
        // command itself: an ACL without the channel), after a pause rather than at once.
        if (this.#subscriber.isReady) {
          clearTimeout(this.#resubscribeTimer);
          this.#resubscribeTimer = setTimeout(() => this.#subscribeMissing(), RESUBSCRIBE_MS);
        }
      });
    }
  }

  /** `PUBLISH <prefix><region> <payload>`; resolves to the number of subscribers reached. */
  async publish(region: string, payload: string): Promise<number> {
    const channel = this.#channels.get(region);
    if (channel === undefined) throw new RangeError(`Unknown region: ${region}`);
    return await this.#commandsClient().publish(channel, payload);
  }

  /**
   * Records a delivered publication in one script; the first instance to do so decides. Without a
   * command timeout: node-redis's only bounds the wait to be written (it is dropped once the command
   * is on the wire, and offline commands fail at once), no caller waits on a record, and its timer
   * and listeners are work on every publication.
   */
  record(records: readonly RegionRecord[]): Promise<readonly StreamPosition[]> {
    return this.#run(recordCall(this.#streams, records), this.#recorder);
  }

  /** The region's position and, if the history covers `cursor` without a gap, what followed. */
  recover(region: string, cursor: Cursor | null): Promise<Recovery> {
    return this.#run(recoverCall(this.#streams, region, cursor));
  }

  /** The de-duplication keys recorded within the window, with their age on Redis's clock. */
  async recentKeys(region: string): Promise<readonly RecentKey[]> {
    if (this.#streams.dedupe.windowMs === 0) return [];
    return await this.#run(recentKeysCall(this.#streams, region));
  }

  /** Closes both connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#resubscribeTimer);
    for (const watch of this.#watches.values()) watch.stop();
    this.#listener?.stateChange("closed");
    await Promise.allSettled([this.#subscriber, this.#commands].map((client) => client.close()));
  }

  /**
   * Runs a script with `EVAL`, never `EVALSHA` with a fallback: a `NOSCRIPT` retry would overtake
   * later commands and deliver a region's messages out of order. Redis caches the compiled script
   * by its hash either way; the cost is the script's text on the wire.
   */
  async #run<T>(call: ScriptCall<T>, client: RedisClientType = this.#commands): Promise<T> {
    const reply = await this.#commandsClient(client).eval(call.source, {
      keys: call.keys,
      arguments: call.args,
    });
    return call.read(reply);
  }

  /**
   * `client` (by default the commands connection) to send a command on, unless that connection
   * is silent: then every write would keep its socket from timing out, and the command would
   * wait for ever; it fails at once instead, as a disconnected one does.
   *
   * @throws {Error} while the commands connection is silent.
   */
  #commandsClient(client: RedisClientType = this.#commands): RedisClientType {
    if (this.#watches.get("commands")!.silent) {
      throw new Error("The Redis commands connection is silent; reconnecting");
    }
    return client;
  }

  #refreshState(): void {
    if (this.#state === "closed") return;
    let next: BrokerState;
    const silent = [...this.#watches.values()].some((watch) => watch.silent);
    const subscribed = this.#subscribed.size === this.#channels.size;
    if (this.#subscriber.isReady && this.#commands.isReady && subscribed && !silent) next = "ready";
    // A failed first attempt is an outage too: report it once, as retrying.
    else if (this.#state === "connecting" && this.#lastError === undefined) next = "connecting";
    else next = "reconnecting";
    if (next === this.#state) return;
    this.#state = next;
    this.#listener?.stateChange(next, next === "ready" ? undefined : this.#lastError);
    if (next === "ready") this.#lastError = undefined;
  }
}
