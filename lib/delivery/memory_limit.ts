/**
 * The process's bound on resident memory (`MAX_RSS_BYTES`): what no other limit can see. The
 * runtime collects an inbound WebSocket message whole before JavaScript sees any of it (up to
 * 64 MiB in one frame, without limit in fragments that never end), so a hostile client can pin
 * memory the gateway cannot count; `MAX_QUEUED_BYTES` bounds only what is queued out. The process
 * samples its resident memory instead, and past the bound closes clients until it is back under:
 * each closed client gets code 4003 and its connection is dropped a moment later, which frees what
 * the runtime held for it (`client.ts`, `runtime_socket.ts`).
 *
 * Who goes first. A client that has sent a whole message since some moment holds no unfinished
 * one begun before it (a message cannot interleave another), and the client library pings every
 * 25 s; so clients not heard within {@link HEARD_WITHIN_MS} go first, newest connection first
 * (an attack opens new connections; viewers hold old ones), then the others, newest first. A
 * check closes one client, or more while the last ones did not bring memory down: twice as many
 * as the last time when it did not fall, half as many when it did. A fast attack is caught up
 * with in a few checks, and no more clients are closed than it takes.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Client } from "./client.ts";

/** How often resident memory is sampled once it is past half the bound, in ms. */
export const CHECK_INTERVAL_MS = 250;
/** How often under half the bound: a sample is a wakeup and a read of `/proc`, and both cost. */
const RELAXED_CHECK_INTERVAL_MS = 1000;
/** A client that sent a whole message within this long is shed after those that did not, in ms. */
export const HEARD_WITHIN_MS = 40_000;
/** Most clients closed by one check. */
const MAX_BATCH = 256;

/** Options of {@link MemoryLimit}. */
export interface MemoryLimitOptions {
  /** Most resident bytes of the process. */
  readonly maxBytes: number;
  /** This gateway's open clients. */
  readonly clients: () => Iterable<Client>;
  /** A client was closed to bring the process under the bound. */
  readonly onShed: (client: Client, residentBytes: number) => void;
  /** The process's resident memory now, in bytes. @default Deno.memoryUsage().rss */
  readonly residentBytes?: () => number;
  /** Clock in ms, as `Client.heardAt` is. @default performance.now */
  readonly now?: () => number;
}

/**
 * The order in which `clients` are shed: those not heard since `heardSince`, then the others,
 * each newest connection first.
 */
export function sheddingOrder(clients: Iterable<Client>, heardSince: number): Client[] {
  const quiet = (client: Client) => client.heardAt < heardSince ? 0 : 1;
  return [...clients].sort((a, b) => quiet(a) - quiet(b) || b.openedAt - a.openedAt);
}

/** Keeps the process's resident memory under its bound by closing this gateway's clients. */
export class MemoryLimit {
  readonly #options: MemoryLimitOptions;
  readonly #residentBytes: () => number;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** How many clients the last check closed, and the memory it found. */
  #batch = 1;
  #lastResident: number | undefined;

  /** A limit that samples nothing before {@link start}. */
  constructor(options: MemoryLimitOptions) {
    this.#options = options;
    this.#residentBytes = options.residentBytes ?? (() => Deno.memoryUsage().rss);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Samples every {@link CHECK_INTERVAL_MS} past half the bound, every second under it. */
  start(): void {
    this.#timer ??= setTimeout(this.#tick, CHECK_INTERVAL_MS);
  }

  /** Stops sampling. Idempotent. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #tick = () => {
    const resident = this.check();
    const near = resident > this.#options.maxBytes / 2;
    this.#timer = setTimeout(this.#tick, near ? CHECK_INTERVAL_MS : RELAXED_CHECK_INTERVAL_MS);
  };

  /**
   * One sample; over the bound, closes the next batch of clients. Run by the timer; returns the
   * resident bytes it found.
   */
  check(): number {
    const resident = this.#residentBytes();
    if (resident <= this.#options.maxBytes) {
      this.#batch = 1;
      this.#lastResident = undefined;
      return resident;
    }
    if (this.#lastResident !== undefined) {
      this.#batch = resident < this.#lastResident
        ? Math.max(1, this.#batch >> 1)
        : Math.min(MAX_BATCH, 2 * this.#batch);
    }
    this.#lastResident = resident;
    const order = sheddingOrder(this.#options.clients(), this.#now() - HEARD_WITHIN_MS);
    for (const client of order.slice(0, this.#batch)) {
      client.shed(CLOSE_CODES.memoryBound);
      this.#options.onShed(client, resident);
    }
    return resident;
  }
}
