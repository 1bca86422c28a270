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
 * What a queue holds is more than its bytes: the runtime keeps a frame it has not written yet as a
 * task of its own, with the frame's copy and its bookkeeping, about a kilobyte beside what
 * `bufferedAmount` counts (bench/README.md, "Memory under overload"). So every queued frame is
 * charged {@link PENDING_FRAME_BYTES} on top of its bytes: the bound is on the memory queues take.
 * Shed clients are dropped soon after their close frame (`Client.shed`): only that frees what
 * the runtime holds for a client whose queue will not drain.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Client } from "./client.ts";
import type { SharedQueuedBytes } from "./shared_queued_bytes.ts";

/** How often the bound is checked while frames flow and the process is near it, in ms. */
const CHECK_INTERVAL_MS = 100;
/** How often while the process is under half the bound: a check is a wakeup, and wakeups cost. */
const RELAXED_CHECK_INTERVAL_MS = 1000;
/** Checks without a frame after which the timer stops. */
const IDLE_CHECKS = 10;
/** What the runtime keeps per queued frame beyond its bytes, charged to the bound. */
export const PENDING_FRAME_BYTES = 1024;
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
  /** Bytes handed to sockets since, charged: an upper bound of what was added. */
  #handed = 0;
  /** Size of the frames lately handed out, to tell how many frames a measured queue holds. */
  #frameBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is due (`performance.now()`). */
  #due = 0;
  #idleChecks = 0;

  /** A budget that does nothing until frames are handed out. */
  constructor(options: QueuedBytesLimitOptions) {
    this.#options = options;
  }

  /** A frame of `frameBytes` was handed to `sockets` client sockets (one broadcast). */
  handed(frameBytes: number, sockets: number): void {
    this.#handed += sockets * (frameBytes + PENDING_FRAME_BYTES);
    this.#frameBytes = this.#frameBytes === 0
      ? frameBytes
      : this.#frameBytes + (frameBytes - this.#frameBytes) / 8;
    this.#idleChecks = 0;
    this.#schedule(this.#measured + this.#handed > this.#options.maxBytes / 2);
  }

  /** Has the next check come within 100 ms when `near` the bound, else within a second. */
  #schedule(near: boolean): void {
    const delay = near ? CHECK_INTERVAL_MS : RELAXED_CHECK_INTERVAL_MS;
    const due = performance.now() + delay;
    if (this.#timer !== undefined && this.#due <= due) return;
    clearTimeout(this.#timer);
    this.#due = due;
    this.#timer = setTimeout(this.#tick, delay);
  }

  readonly #tick = () => {
    this.#timer = undefined;
    if (this.check()) return;
    this.#schedule(this.#options.shared.total() > this.#options.maxBytes / 2);
  };

  /** The memory queued for this worker's clients now, measured and charged (`/metrics` too). */
  measure(): number {
    let queued = 0;
    for (const client of this.#options.clients()) queued += this.#charged(client.queuedBytes());
    this.#measured = queued;
    this.#handed = 0;
    this.#options.shared.publish(queued);
    return queued;
  }

  /**
   * One check of the bound; the timer runs it while frames flow, every 100 ms near the bound and
   * every second under half of it. Returns `true` once frames have stopped flowing for a while,
   * when the timer stops until the next.
   */
  check(): boolean {
    const { shared: board, maxBytes } = this.#options;
    const idle = this.#handed === 0 && ++this.#idleChecks >= IDLE_CHECKS;
    board.publish(this.#measured + this.#handed);
    if (board.total() > maxBytes) {
      const own = this.measure();
      const total = board.total();
      if (total > maxBytes && own > 0) this.#shed((total - SHED_TARGET * maxBytes) * (own / total));
    }
    return idle;
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** `bytes` of a queue with what the runtime keeps beside its frames. */
  #charged(bytes: number): number {
    if (bytes === 0) return 0;
    return bytes + Math.ceil(bytes / Math.max(1, this.#frameBytes)) * PENDING_FRAME_BYTES;
  }

  /** Closes the clients with the most queued until `bytes` are shed. */
  #shed(bytes: number): void {
    const queues = [...this.#options.clients()]
      .map((client) => ({ client, queued: this.#charged(client.queuedBytes()) }))
      .sort((a, b) => b.queued - a.queued);
    let shed = 0;
    for (const { client, queued } of queues) {
      if (shed >= bytes || queued === 0) break;
      client.shed(CLOSE_CODES.overloaded);
      this.#options.onShed(client, queued);
      shed += queued;
    }
    this.#measured = Math.max(0, this.#measured - shed);
    this.#options.shared.publish(this.#measured);
  }
}
