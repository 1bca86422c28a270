/**
 * The Redis broker: subscribes to `<prefix><REGION>` for every region on a dedicated connection
 * (`redis_subscriber.ts`), so today's producers (`PUBLISH tvs:AE <json>`) work unchanged, and
 * every gateway instance on the same Redis sees every publication. A second connection records the
 * stream (`redis_scripts.ts`). Where they connect is the link's (`redis_links.ts`: one Redis, or
 * the master Sentinel names); when Sentinel names another master, the subscriber moves there, and
 * until it is subscribed again the broker is not ready. Those two and `redis_subscriber.ts` are
 * the only modules that import the Redis client (`@redis/client`, node-redis without the modules
 * for Redis Stack's commands: `bench/redis_import.ts`).
 *
 * Reconnection is node-redis's own, with a capped, jittered backoff; it resubscribes before it
 * reports `ready`. Under Deno, node-redis stops reconnecting for good when a client has no
 * `'error'` listener, so every client gets one before it connects. A connection that goes silent
 * without closing is noticed by pinging it (`connection_watch.ts`) and dropped by its socket's
 * idle timeout, and node-redis reconnects it.
 *
 * @module
 */

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
import { retryUntilDelivered } from "./publish_retry.ts";
import type { RedisCommands, RedisLink } from "./redis_link.ts";
import { openLink } from "./redis_links.ts";
import {
  type ChannelSubscriber,
  RegionSubscriber,
  type RegionSubscriberEvents,
} from "./redis_subscriber.ts";
import {
  recentKeysCall,
  recordCall,
  recoverCall,
  type ScriptCall,
  type StreamSettings,
} from "./redis_scripts.ts";
import type { RedisTarget } from "./redis_target.ts";

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
  readonly #link: RedisLink;
  readonly #subscriber: ChannelSubscriber;
  /** Channel name by region. */
  readonly #channels: ReadonlyMap<string, string>;
  /** Key prefix, de-duplication and history: what the scripts are called with. */
  readonly #streams: StreamSettings;
  readonly #watches: ReadonlyMap<RedisConnection, ConnectionWatch>;
  #listener: BrokerListener | undefined;
  /** Position of the last record Redis gave this gateway, by region (`lua/record.lua`). */
  readonly #lastRecorded = new Map<string, StreamPosition>();
  #state: BrokerState = "connecting";
  #lastError: string | undefined;

  /** Creates a broker for `target`; nothing connects before {@link start}. */
  constructor(target: RedisTarget, options: RedisBrokerOptions) {
    const maxDelayMs = options.maxReconnectDelayMs ?? 1000;
    const health = options.healthCheck ?? { intervalMs: 1000, timeoutMs: 2000 };
    this.#link = openLink(target, {
      reconnectStrategy: (retries: number) => reconnectDelay(retries, maxDelayMs),
      connectTimeout: 2000,
      // A healthy connection carries a ping at least every interval; one quiet for longer
      // than interval plus timeout is silent (and no longer written to): close it.
      socketTimeout: health.intervalMs + health.timeoutMs,
    });
    this.#streams = {
      keyPrefix: options.channelPrefix,
      dedupe: options.dedupe ?? DEFAULT_DEDUPE,
      history: options.history ?? DEFAULT_HISTORY,
    };
    this.#channels = new Map(
      options.regions.map((region) => [region, options.channelPrefix + region]),
    );
    const events: RegionSubscriberEvents = {
      publication: (region, payload) => this.#listener?.publication(region, payload),
      connected: () => this.#watches.get("subscriber")!.reset(),
      changed: (error) => {
        if (error !== undefined) this.#lastError = error;
        this.#refreshState();
      },
    };
    this.#subscriber = this.#link.subscriber?.(this.#channels, events) ??
      new RegionSubscriber(this.#channels, events);
    const pings: Record<RedisConnection, { ping(): Promise<unknown>; isReady: boolean }> = {
      subscriber: this.#subscriber,
      commands: this.#link.commands,
    };
    this.#watches = new Map(
      (["subscriber", "commands"] as const).map((connection) => [
        connection,
        new ConnectionWatch({
          ...health,
          ping: () => pings[connection].ping(),
          isReady: () => pings[connection].isReady,
          onSilent: (silentMs) => {
            this.#lastError = `${connection} connection silent for ${Math.round(silentMs)} ms`;
            this.#listener?.connectionSilent?.(connection, silentMs);
            this.#refreshState();
          },
          onHeard: () => this.#refreshState(),
        }),
      ]),
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
    const commandsWatch = this.#watches.get("commands")!;
    this.#link.start({
      error: (message) => {
        this.#lastError = message;
        this.#refreshState();
      },
      changed: () => {
        // What a ping of the connection before waits for no longer matters.
        if (this.#link.commands.isReady) commandsWatch.reset();
        // The link may just have learnt where the master is.
        if (!this.#subscriber.opened) this.#openSubscriber();
        this.#refreshState();
      },
      failover: (master) => {
        this.#lastError = `failing over to ${master}`;
        this.#listener?.failover?.(master);
        this.#openSubscriber();
        this.#refreshState();
      },
    });
    for (const watch of this.#watches.values()) watch.start();
    this.#openSubscriber();
  }

  /** Opens the subscriber where the link says, if it knows (again, if it moved). */
  #openSubscriber(): void {
    const options = this.#link.subscriberOptions();
    if (options !== null && this.#state !== "closed") this.#subscriber.open(options);
  }

  /**
   * `PUBLISH <prefix><region> <payload>`; resolves to the number of subscribers reached. Sent again
   * for a few seconds while it reaches nobody or fails (`publish_retry.ts`): this gateway's own
   * subscriber is one of them once it is back, or has moved to the new master.
   */
  async publish(region: string, payload: string): Promise<number> {
    const channel = this.#channels.get(region);
    if (channel === undefined) throw new RangeError(`Unknown region: ${region}`);
    return await retryUntilDelivered(
      () => Promise.resolve().then(() => this.#commandsClient().publish(channel, payload)),
      (receivers) => receivers > 0,
    );
  }

  /**
   * Records a delivered publication in one script; the first instance to do so decides. Without a
   * command timeout: node-redis's only bounds the wait to be written (it is dropped once the command
   * is on the wire, and offline commands fail at once), no caller waits on a record, and its timer
   * and listeners are work on every publication.
   */
  async record(records: readonly RegionRecord[]): Promise<readonly StreamPosition[]> {
    if (this.#link.oneRegionPerScript && new Set(records.map(({ region }) => region)).size > 1) {
      // One call per region, all at once; Redis answers each region's in order.
      const byRegion = Map.groupBy(records, ({ region }) => region);
      const answers = new Map(
        await Promise.all(
          [...byRegion].map(async ([region, batch]) => [region, await this.record(batch)] as const),
        ),
      );
      const next = new Map([...answers].map(([region]) => [region, 0]));
      return records.map(({ region }) => {
        const index = next.get(region)!;
        next.set(region, index + 1);
        return answers.get(region)![index]!;
      });
    }
    const call = recordCall(this.#streams, records, this.#lastRecorded);
    const positions = await this.#run(call, this.#link.recorder);
    positions.forEach((position, i) => this.#lastRecorded.set(records[i]!.region, position));
    return positions;
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
    for (const watch of this.#watches.values()) watch.stop();
    this.#listener?.stateChange("closed");
    await Promise.allSettled([this.#subscriber.close(), this.#link.close()]);
  }

  /**
   * Runs a script with `EVAL`, never `EVALSHA` with a fallback: a `NOSCRIPT` retry would overtake
   * later commands and deliver a region's messages out of order. Redis caches the compiled script
   * by its hash either way; the cost is the script's text on the wire.
   */
  async #run<T>(call: ScriptCall<T>, client: RedisCommands = this.#link.commands): Promise<T> {
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
  #commandsClient(client: RedisCommands = this.#link.commands): RedisCommands {
    if (this.#watches.get("commands")!.silent) {
      throw new Error("The Redis commands connection is silent; reconnecting");
    }
    return client;
  }

  #refreshState(): void {
    if (this.#state === "closed") return;
    let next: BrokerState;
    const silent = [...this.#watches.values()].some((watch) => watch.silent);
    if (this.#subscriber.ready && this.#link.commands.isReady && !silent) next = "ready";
    // A failed first attempt is an outage too: report it once, as retrying.
    else if (this.#state === "connecting" && this.#lastError === undefined) next = "connecting";
    else next = "reconnecting";
    if (next === this.#state) return;
    this.#state = next;
    this.#listener?.stateChange(next, next === "ready" ? undefined : this.#lastError);
    if (next === "ready") this.#lastError = undefined;
  }
}
