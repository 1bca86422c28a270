/**
 * The link under Sentinel: commands go through node-redis's `createSentinel`, which finds the
 * master and follows it; the subscriber is a plain client of the broker's own on the master, so
 * that the connection watch can ping it, moved by the broker when Sentinel names another master.
 * Moving it is the broker's job because an old master keeps its subscribers connected after a
 * planned failover (about 10 s here, until Sentinel converts it), hearing nothing: waiting for the
 * connection to drop would leave the gateway deaf that long. node-redis watches Sentinel's
 * `switch-master` without its `+`, which never matches, so the sentinel client is told to re-read
 * the topology every second (`scanInterval`, whose default is 0 in the code whatever its docs say).
 *
 * @module
 */

import { createSentinel, type RedisClientOptions } from "@redis/client";
import {
  type LinkEvents,
  type LinkSocketOptions,
  nodeOptions,
  type RedisCommands,
  type RedisLink,
  socketWithTls,
} from "./redis_link.ts";
import type { RedisNode, RedisTarget } from "./redis_target.ts";

/** Pause between two attempts to reach Sentinel at start, in ms. */
const SENTINEL_RETRY_MS = 1000;
/** How often the sentinel client re-reads the topology, in ms. */
const SENTINEL_SCAN_MS = 1000;

type Sentinel = ReturnType<typeof createSentinel>;

/** The master that Sentinel names. */
export class SentinelLink implements RedisLink {
  readonly #target: Extract<RedisTarget, { kind: "sentinel" }>;
  readonly #socket: LinkSocketOptions;
  readonly #sentinel: Sentinel;
  readonly commands: RedisCommands;
  readonly recorder: RedisCommands;
  readonly oneRegionPerScript = false;
  #master: RedisNode | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** A link to the master Sentinel names for `target`; nothing connects before {@link start}. */
  constructor(target: Extract<RedisTarget, { kind: "sentinel" }>, socket: LinkSocketOptions) {
    this.#target = target;
    this.#socket = socket;
    const { tls } = target;
    this.#sentinel = createSentinel({
      name: target.masterName,
      sentinelRootNodes: [...target.sentinels],
      nodeClientOptions: { ...nodeOptions(target, socket), disableOfflineQueue: true },
      sentinelClientOptions: { socket: socketWithTls(socket, tls) },
      scanInterval: SENTINEL_SCAN_MS,
      passthroughClientErrorEvents: true,
      masterPoolSize: 1,
    });
    this.commands = this.#sentinel;
    this.recorder = this.#sentinel.withCommandOptions({ timeout: 0 });
  }

  /** Options of a client of the master as last named; null before Sentinel named one. */
  subscriberOptions(): RedisClientOptions | null {
    const master = this.#master;
    if (master === undefined) return null;
    return nodeOptions(this.#target, { ...this.#socket, host: master.host, port: master.port });
  }

  /** Connects through Sentinel and reports master changes to `events`. */
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
      if (moved) events.failover(`${this.#master.host}:${this.#master.port}`);
      events.changed();
    });
    // A new master is named before the client has connected to it, so the broker finds it not
    // ready then; this event is the only word that it is, and readiness waits for it.
    this.#sentinel.on("ready", events.changed);
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

  /** Stops retrying and closes the Sentinel client. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#sentinel.close().catch(() => {});
  }
}
