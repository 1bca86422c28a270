/**
 * The process-wide bound on queued bytes (`MAX_QUEUED_BYTES`). Each client has a budget of its own
 * (`client.ts`), but thousands of clients each within theirs can still queue more than the host
 * has memory for, when the process cannot write as fast as it is asked to (a publication storm,
 * too few cores, readers slower than the publications). So the process keeps count: every
 * broadcast adds what it handed to sockets to an upper bound of this worker's queues, and when the
 * bounds of all workers together pass a quarter of the limit, this worker measures its queues for
 * real. If the process is still past it and this worker's open queues grew since the last look,
 * it is asked more than its clients take, and it closes clients that fell behind (their queue did
 * not shrink between two looks; a reader that keeps up drains), those with the most queued first,
 * until their queues hold what the open queues grew by (4002, reconnect later: they recover what
 * they miss). Shedding the growth, not the excess, is what keeps it from shedding everyone: what a
 * closed client had queued stays in memory a while (below), and closing more clients would not
 * free it sooner. Over the whole bound, the biggest queues go whatever their pace. Measuring is a
 * read per socket, so it happens only when the upper bound says it might matter.
 *
 * What a queue holds is more than its bytes: the runtime keeps a frame it has not written yet as a
 * task of its own, with the frame's copy and its bookkeeping, about a kilobyte beside what
 * `bufferedAmount` counts (bench/README.md, "Memory under overload"). So every queued frame is
 * charged {@link PENDING_FRAME_BYTES} on top of its bytes: the bound is on the memory queues take.
 * A closed client's queue is no longer counted by the runtime (`bufferedAmount` reads 0 once a
 * socket closes) but is still there until written to a peer that reads at its own pace (dropping
 * the connection does not free it: the runtime's write tasks hold it), so what was shed stays
 * charged, fading over {@link LINGER_MS}, the time such a peer is given to take it.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Client } from "./client.ts";
import type { SharedQueuedBytes } from "./shared_queued_bytes.ts";

/** How often the bound is checked while frames flow and the process is near it, in ms. */
const CHECK_INTERVAL_MS = 100;
/** How often while the process is under a quarter of the bound: a wakeup costs. */
const RELAXED_CHECK_INTERVAL_MS = 1000;
/** Checks without a frame after which the timer stops. */
const IDLE_CHECKS = 10;
/** What the runtime keeps per queued frame beyond its bytes, charged to the bound. */
export const PENDING_FRAME_BYTES = 1024;
/**
 * The share of the bound past which growing queues are shed. A quarter: a shed queue is not freed
 * when its client is closed (see above), so shedding must start while there is room for what is
 * shed (at half, peak RSS under overload reached idle + 1.6 × the bound; at a quarter, 1.1 ×).
 */
const SHED_FROM = 1 / 4;
/**
 * The share of the bound the open queues must hold for shedding (this worker's part of it): under
 * it, what keeps the process past a quarter is what shed clients still hold, which closing readers that
 * keep up would not free.
 */
const OPEN_QUEUES_FROM = 1 / 8;
/** How long the queues of shed clients are still counted, fading, in ms (the close timeout's). */
export const LINGER_MS = 5000;

/** A client and what its queue held at the last measurement, charged. */
interface Queue {
  readonly client: Client;
  readonly queued: number;
}

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
  /** Bytes queued at the last measurement, with what shed clients still hold. */
  #measured = 0;
  /** Of those, what the open clients' queues held. */
  #live = 0;
  /** Each open client's queue at the last measurement, charged. */
  #queues = new WeakMap<Client, number>();
  /** The clients whose queue did not shrink between the last two measurements. */
  #behind: Queue[] = [];
  /** Bytes handed to sockets since, charged: an upper bound of what was added. */
  #handed = 0;
  /** Size of the frames lately handed out, to tell how many frames a measured queue holds. */
  #frameBytes = 0;
  /** Queues of shed clients, still in memory, as of `#lingeringAt` (`performance.now()`). */
  #lingering = 0;
  #lingeringAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is due (`performance.now()`). */
  #due = 0;
  #checkAtEndOfTurn = false;
  #idleChecks = 0;

  /** A budget that does nothing until frames are handed out. */
  constructor(options: QueuedBytesLimitOptions) {
    this.#options = options;
  }

  /**
   * A frame of `frameBytes` was handed to `sockets` client sockets (one broadcast): what the
   * process may now hold more for them. Past the bound, the check runs once this turn ends, not a
   * timer later: a turn of a pile of publications can queue a lot.
   */
  handed(frameBytes: number, sockets: number): void {
    this.#handed += sockets * (frameBytes + PENDING_FRAME_BYTES);
    if (this.#measured + this.#handed > this.#options.maxBytes && !this.#checkAtEndOfTurn) {
      this.#checkAtEndOfTurn = true;
      queueMicrotask(() => {
        this.#checkAtEndOfTurn = false;
        this.check();
      });
    }
    this.#frameBytes = this.#frameBytes === 0
      ? frameBytes
      : this.#frameBytes + (frameBytes - this.#frameBytes) / 8;
    this.#idleChecks = 0;
    this.#schedule(this.#measured + this.#handed > this.#options.maxBytes * SHED_FROM);
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
    this.#schedule(this.#options.shared.total() > this.#options.maxBytes * SHED_FROM);
  };

  /**
   * The memory queued for this worker's clients now, measured and charged, with what shed ones
   * still hold (`/metrics` too).
   */
  measure(): number {
    let live = 0;
    const previous = this.#queues;
    const behind: Queue[] = [];
    this.#queues = new WeakMap();
    for (const client of this.#options.clients()) {
      const queued = this.#charged(client.queuedBytes());
      live += queued;
      if (queued === 0) continue;
      this.#queues.set(client, queued);
      // A reader that keeps up drains between two looks; one that is behind does not.
      const before = previous.get(client);
      if (before !== undefined && queued >= before) behind.push({ client, queued });
    }
    this.#behind = behind;
    this.#live = live;
    this.#measured = live + this.#lingeringNow();
    this.#handed = 0;
    this.#options.shared.publish(this.#measured);
    return this.#measured;
  }

  /**
   * One check of the bound; the timer runs it while frames flow, every 100 ms near the bound and
   * every second under a quarter of it. Returns `true` once frames have stopped flowing for a while,
   * when the timer stops until the next.
   */
  check(): boolean {
    const { shared: board, maxBytes } = this.#options;
    const idle = this.#handed === 0 && ++this.#idleChecks >= IDLE_CHECKS;
    board.publish(this.#measured + this.#handed);
    const shedFrom = maxBytes * SHED_FROM;
    if (board.total() > shedFrom) {
      const handed = this.#handed;
      const before = this.#live;
      this.measure();
      const growth = this.#live - before;
      const openQueuesMatter = this.#live > maxBytes * OPEN_QUEUES_FROM / board.workers;
      if (board.total() > shedFrom && openQueuesMatter && growth > 0 && handed > 0) {
        this.#shed(this.#behind, Math.min(board.total() - shedFrom, growth));
      }
      // Whatever the growth, this worker's open queues stay within its part of the bound.
      const over = this.#live - maxBytes / board.workers;
      if (over > 0) this.#shed(this.#openQueues(), over);
    }
    return idle;
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** What the queues of shed clients still hold, fading over {@link LINGER_MS}. */
  #lingeringNow(): number {
    const left = 1 - (performance.now() - this.#lingeringAt) / LINGER_MS;
    return left > 0 ? this.#lingering * left : 0;
  }

  /** `bytes` of a queue with what the runtime keeps beside its frames. */
  #charged(bytes: number): number {
    if (bytes === 0) return 0;
    return bytes + Math.ceil(bytes / Math.max(1, this.#frameBytes)) * PENDING_FRAME_BYTES;
  }

  /** Every open client with something queued, as last measured. */
  #openQueues(): Queue[] {
    const queues: Queue[] = [];
    for (const client of this.#options.clients()) {
      const queued = this.#queues.get(client);
      if (queued !== undefined) queues.push({ client, queued });
    }
    return queues;
  }

  /**
   * Closes `candidates`, those with the most queued first, until their queues hold `bytes`.
   */
  #shed(candidates: readonly Queue[], bytes: number): void {
    const queues = candidates.filter(({ client }) => client.open)
      .sort((a, b) => b.queued - a.queued);
    let shed = 0;
    for (const { client, queued } of queues) {
      if (shed >= bytes) break;
      client.close(CLOSE_CODES.overloaded);
      this.#options.onShed(client, queued);
      shed += queued;
    }
    this.#live -= shed;
    // Shed, but not gone: their queues drain at their peers' pace.
    this.#lingering = this.#lingeringNow() + shed;
    this.#lingeringAt = performance.now();
  }
}
