/**
 * The process-wide bound on queued bytes (`MAX_QUEUED_BYTES`). Each client has a budget of its own
 * (`client.ts`), but thousands of clients each within theirs can still queue more than the host
 * has memory for, when the process cannot write as fast as it is asked to (a publication storm,
 * too few cores). So the process keeps count: every broadcast adds what it handed to sockets to
 * an upper bound of this worker's queues, and when the bounds of all workers together pass the
 * limit, this worker measures its queues for real; if the process is still over, it closes its
 * clients with the most queued first (4002, reconnect later: they recover what they miss) until it
 * has shed its share of the excess. Measuring is a read per socket, so it happens only when the
 * upper bound says it might matter.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Client } from "./client.ts";
import type { SharedQueuedBytes } from "./shared_queued_bytes.ts";

/** How often the bound is checked while frames flow, in ms. */
const CHECK_INTERVAL_MS = 100;
/** Checks without a frame after which the timer stops. */
const IDLE_CHECKS = 10;
/** Shedding aims this far under the limit, so that one close does not follow another at once. */
const SHED_TARGET = 0.9;

/** Options of {@link QueuedBytesLimit}. */
export interface QueuedBytesLimitOptions {
  /** Most bytes queued for all clients of the process. */
  readonly maxBytes: number;
  /** Where every worker's queued bytes are written. */
  readonly shared: SharedQueuedBytes;
  /** This worker's open clients. */
  readonly clients: () => Iterable<Client>;
  /** A client was closed to bring the process under the limit. */
  readonly onShed: (client: Client, queuedBytes: number) => void;
}

/** Keeps this worker's share of the process's queued bytes under the limit. */
export class QueuedBytesLimit {
  readonly #options: QueuedBytesLimitOptions;
  /** Bytes queued at the last measurement. */
  #measured = 0;
  /** Bytes handed to sockets since: an upper bound of what was added. */
  #handed = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #idleChecks = 0;

  /** A budget that does nothing until frames are handed out. */
  constructor(options: QueuedBytesLimitOptions) {
    this.#options = options;
  }

  /** `bytes` were handed to client sockets (a broadcast: its frame's size times its deliveries). */
  handed(bytes: number): void {
    this.#handed += bytes;
    this.#idleChecks = 0;
    this.#timer ??= setInterval(() => this.check(), CHECK_INTERVAL_MS);
  }

  /** The bytes queued for this worker's clients now, measured (also for `/metrics`). */
  measure(): number {
    let queued = 0;
    for (const client of this.#options.clients()) queued += client.queuedBytes();
    this.#measured = queued;
    this.#handed = 0;
    this.#options.shared.publish(queued);
    return queued;
  }

  /** One check of the bound; the timer runs it while frames flow. */
  check(): void {
    const { shared: board, maxBytes } = this.#options;
    if (this.#handed === 0 && ++this.#idleChecks >= IDLE_CHECKS) this.stop();
    board.publish(this.#measured + this.#handed);
    if (board.total() <= maxBytes) return;
    const own = this.measure();
    const total = board.total();
    if (total <= maxBytes || own === 0) return;
    this.#shed((total - SHED_TARGET * maxBytes) * (own / total));
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Closes the clients with the most queued until `bytes` are shed. */
  #shed(bytes: number): void {
    const queues = [...this.#options.clients()]
      .map((client) => ({ client, queued: client.queuedBytes() }))
      .sort((a, b) => b.queued - a.queued);
    let shed = 0;
    for (const { client, queued } of queues) {
      if (shed >= bytes || queued === 0) break;
      client.close(CLOSE_CODES.overloaded);
      this.#options.onShed(client, queued);
      shed += queued;
    }
    this.#measured = Math.max(0, this.#measured - shed);
    this.#options.shared.publish(this.#measured);
  }
}
