/**
 * The broker's way to its Redis, one per topology (`redis_target.ts`): the connection it sends
 * commands on, and where its subscriber connects. One Redis is one `createClient`. Under Sentinel,
 * commands go through node-redis's `createSentinel`, which finds the master and follows it; the
 * subscriber is a plain client of its own on the master, so that the connection watch can ping it,
 * and it is moved by the broker when Sentinel names another master. Moving it is the broker's job
 * because an old master keeps its subscribers connected after a planned failover (about 10 s
 * here, until Sentinel converts it), hearing nothing: waiting for the connection to drop would
 * leave the gateway deaf that long. node-redis watches Sentinel's `switch-master` without its `+`,
 * which never matches, so the sentinel client is told to re-read the topology every second
 * (`scanInterval`, whose default is 0 in the code whatever its docs say).
 *
 * @module
 */

import {
  createClient,
  createSentinel,
  type RedisClientOptions,
  type RedisClientType,
} from "@redis/client";
import type { RedisNode, RedisTarget } from "./redis_target.ts";

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
  /** Sentinel named `node` as the master: the subscriber must move there. */
  masterChanged(node: RedisNode): void;
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
  /** Connects, reporting to `events`; reconnects on its own. */
  start(events: LinkEvents): void;
  close(): Promise<void>;
}

/** Pause between two attempts to reach Sentinel at start, in ms. */
const SENTINEL_RETRY_MS = 1000;
/** How often the sentinel client re-reads the topology, in ms. */
const SENTINEL_SCAN_MS = 1000;

/**
 * Options of a short-lived client of the node that takes writes now: the one Redis, or the master
 * that the first sentinel to answer names. For one-off commands (the `publish` command).
 *
 * @throws {Error} when no sentinel answers or none knows the master.
 */
export async function currentMaster(
  target: RedisTarget,
  connectTimeout: number,
): Promise<RedisClientOptions> {
  const socket = { reconnectStrategy: false as const, connectTimeout };
  if (target.kind === "single") return { url: target.url, socket };
  const { username, password, tls } = target;
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
      return {
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        socket: { ...socketWithTls(socket, tls), host: reply[0], port: Number(reply[1]) },
      };
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
  return target.kind === "single"
    ? new SingleLink(target.url, socket)
    : new SentinelLink(target, socket);
}

/** One Redis. */
class SingleLink implements RedisLink {
  readonly #url: string;
  readonly #socket: LinkSocketOptions;
  readonly #client: RedisClientType;
  readonly commands: RedisCommands;
  readonly recorder: RedisCommands;

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

type Sentinel = ReturnType<typeof createSentinel>;

/** `socket` with TLS on or off, as node-redis's option types tell the two apart. */
function socketWithTls<T extends object>(socket: T, tls: boolean) {
  return tls ? { ...socket, tls: true as const } : { ...socket, tls: false as const };
}

/** The master that Sentinel names. */
class SentinelLink implements RedisLink {
  readonly #target: Extract<RedisTarget, { kind: "sentinel" }>;
  readonly #socket: LinkSocketOptions;
  readonly #sentinel: Sentinel;
  readonly commands: RedisCommands;
  readonly recorder: RedisCommands;
  #master: RedisNode | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(target: Extract<RedisTarget, { kind: "sentinel" }>, socket: LinkSocketOptions) {
    this.#target = target;
    this.#socket = socket;
    const { username, password, tls } = target;
    this.#sentinel = createSentinel({
      name: target.masterName,
      sentinelRootNodes: [...target.sentinels],
      nodeClientOptions: {
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        socket: socketWithTls(socket, tls),
        disableOfflineQueue: true,
      },
      sentinelClientOptions: { socket: socketWithTls(socket, tls) },
      scanInterval: SENTINEL_SCAN_MS,
      passthroughClientErrorEvents: true,
      masterPoolSize: 1,
    });
    this.commands = this.#sentinel;
    this.recorder = this.#sentinel.withCommandOptions({ timeout: 0 });
  }

  subscriberOptions(): RedisClientOptions | null {
    const master = this.#master;
    if (master === undefined) return null;
    const { username, password, tls } = this.#target;
    return {
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      socket: { ...socketWithTls(this.#socket, tls), host: master.host, port: master.port },
    };
  }

  start(events: LinkEvents): void {
    this.#sentinel.on("error", (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      events.error(`Sentinel, master "${this.#target.masterName}": ${message}`);
      events.changed();
    });
    this.#sentinel.on("topology-change", (event: { type: string; node?: RedisNode }) => {
      if (event.type !== "MASTER_CHANGE" || event.node === undefined) return;
      const moved = this.#master !== undefined;
      this.#master = { host: event.node.host, port: event.node.port };
      if (moved) events.masterChanged(this.#master);
      events.changed();
    });
    this.#connect(events);
  }

  /** Connects, and again after a pause while no sentinel answers or none knows the master. */
  #connect(events: LinkEvents): void {
    this.#sentinel.connect().then(() => {
      this.#master ??= this.#sentinel.getMasterNode();
      events.changed();
    }, (error: Error) => {
      if (this.#closed) return;
      events.error(`Sentinel, master "${this.#target.masterName}": ${error.message}`);
      events.changed();
      this.#retry = setTimeout(() => this.#connect(events), SENTINEL_RETRY_MS);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#sentinel.close().catch(() => {});
  }
}
