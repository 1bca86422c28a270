/**
 * The process-wide bound on queued bytes (`MAX_QUEUED_BYTES`). Each client has a budget of its own
 * (`client.ts`), but thousands of clients each within theirs can still queue more than the host
 * has memory for, when the process cannot write as fast as it is asked to (a publication storm,
 * too few cores, readers slower than the publications). So the process keeps count: every
 * broadcast adds what it handed to sockets to an upper bound of this worker's queues, measured for
 * real (a read per socket) only when the bound says it might matter. Past a quarter of this
 * worker's part of the limit, broadcasts wait (`queue_gate.ts`): a publication waiting costs its
 * payload once, not a frame per client. When the waiting itself is a reason to close clients
 * (stalled, or overloaded for longer than `OVERLOAD_LAG_SECONDS`) is `backlog_rule.ts`'s to say:
 * then an eighth of the clients with something queued are closed, those with the most queued
 * first (4002, reconnect later: they recover what they miss), until the rest take what comes.
 * Over the whole bound (a turn bigger than the gate's margin), the biggest queues go at once,
 * until this worker is back within its part.
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
import { type Backlog, BacklogRule } from "./backlog_rule.ts";
import type { Client } from "./client.ts";
import { QueueGate } from "./queue_gate.ts";
import type { SharedQueuedBytes } from "./shared_queued_bytes.ts";

/** How often the bound is checked while frames flow and the process is near it, in ms. */
const CHECK_INTERVAL_MS = 100;
/** How often while the process is under a quarter of the bound: a wakeup costs. */
const RELAXED_CHECK_INTERVAL_MS = 1000;
/** Checks without a frame after which the timer stops. */
const IDLE_CHECKS = 10;
/** What the runtime keeps per queued frame beyond its bytes, charged to the bound. */
export const PENDING_FRAME_BYTES = 1024;
/** The share of the bound past which checks come every 100 ms (the gate closes there). */
const NEAR_SHARE = 1 / 4;
/** Share of the clients with something queued shed each time. */
const BACKLOG_SHED_SHARE = 1 / 8;
/** How long the queues of shed clients are still counted, fading, in ms (the close timeout's). */
export const LINGER_MS = 5000;

/** A client and what its queue holds, measured and charged. */
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
  /** The publications waiting for room now. */
  readonly backlog: () => Backlog;
  /** How late publications may go out under overload before clients are shed, in ms. */
  readonly overloadLagMs: number;
  /** The clock, in ms. @default performance.now */
  readonly now?: () => number;
}

/** Keeps this worker's share of the process's queued bytes under the limit. */
export class QueuedBytesLimit {
  readonly #options: QueuedBytesLimitOptions;
  /** Bytes queued at the last measurement, with what shed clients still hold. */
  #measured = 0;
  /** Of those, what the open clients' queues held. */
  #live = 0;
  /** Bytes handed to sockets since, charged: an upper bound of what was added. */
  #handed = 0;
  /** Size of the frames lately handed out, to tell how many frames a measured queue holds. */
  #frameBytes = 0;
  /** Queues of shed clients, still in memory, as of `#lingeringAt` (`now()`). */
  #lingering = 0;
  #lingeringAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is due (`performance.now()`). */
  #due = 0;
  #checkAtEndOfTurn = false;
  #idleChecks = 0;
  readonly #gate: QueueGate;
  readonly #backlogRule: BacklogRule;
  /** Broadcasts handed out so far: whether any went out tells a stalled backlog. */
  #broadcasts = 0;
  readonly #now: () => number;

  /** A budget that does nothing until frames are handed out. */
  constructor(options: QueuedBytesLimitOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#backlogRule = new BacklogRule({ overloadLagMs: options.overloadLagMs });
    this.#gate = new QueueGate({
      boundBytes: () => options.maxBytes / options.shared.workers,
      upperBound: () => this.#live + this.#handed,
      now: this.#now,
      measure: () => {
        this.measure();
        return this.#live;
      },
    });
  }

  /** Whether the clients' queues have room for another broadcast (`queue_gate.ts`). */
  hasRoom(): boolean {
    return this.#gate.hasRoom();
  }

  /**
   * A frame of `frameBytes` was handed to `sockets` client sockets (one broadcast): what the
   * process may now hold more for them. Past the bound, the check runs once this turn ends, not a
   * timer later: a turn of a pile of publications can queue a lot.
   */
  handed(frameBytes: number, sockets: number): void {
    this.#handed += sockets * (frameBytes + PENDING_FRAME_BYTES);
    this.#broadcasts++;
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
    this.#schedule(this.#measured + this.#handed > this.#options.maxBytes * NEAR_SHARE);
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
    this.#schedule(this.#options.shared.total() > this.#options.maxBytes * NEAR_SHARE);
  };

  /**
   * The memory queued for this worker's clients now, measured and charged, with what shed ones
   * still hold (`/metrics` too).
   */
  measure(): number {
    return this.#measure(undefined);
  }

  /**
   * {@link measure}, listing in `queues` every open client with something queued. A read per
   * socket and nothing kept per client: a closed gate measures up to 40 times a second.
   */
  #measure(queues: Queue[] | undefined): number {
    let live = 0;
    for (const client of this.#options.clients()) {
      const queued = this.#charged(client.queuedBytes());
      live += queued;
      if (queues !== undefined && queued > 0) queues.push({ client, queued });
    }
    this.#live = live;
    this.#measured = live + this.#lingeringNow();
    this.#handed = 0;
    this.#options.shared.publish(this.#measured);
    return this.#measured;
  }

  /**
   * One check of the bound; the timer runs it while frames flow or publications wait, every 100 ms
   * near the bound and every second under a quarter of it. Returns `true` once both have stopped
   * for a while, when the timer stops until the next.
   */
  check(): boolean {
    const { shared: board, maxBytes } = this.#options;
    const backlog = this.#options.backlog();
    const idle = this.#handed === 0 && backlog.waiting === 0 && ++this.#idleChecks >= IDLE_CHECKS;
    board.publish(this.#measured + this.#handed);
    const now = this.#now();
    if (this.#backlogRule.shouldShed(backlog, this.#broadcasts, now)) {
      const queues: Queue[] = [];
      this.#measure(queues);
      this.#shed(queues, { count: Math.ceil(queues.length * BACKLOG_SHED_SHARE) });
    }
    if (board.total() > maxBytes) {
      const queues: Queue[] = [];
      this.#measure(queues);
      const over = this.#live - maxBytes / board.workers;
      if (over > 0) this.#shed(queues, { bytes: over });
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
    const left = 1 - (this.#now() - this.#lingeringAt) / LINGER_MS;
    return left > 0 ? this.#lingering * left : 0;
  }

  /** `bytes` of a queue with what the runtime keeps beside its frames. */
  #charged(bytes: number): number {
    if (bytes === 0) return 0;
    return bytes + Math.ceil(bytes / Math.max(1, this.#frameBytes)) * PENDING_FRAME_BYTES;
  }

  /**
   * Closes `candidates`, those with the most queued first, until their queues hold `limit.bytes` or
   * `limit.count` are closed.
   */
  #shed(
    candidates: readonly Queue[],
    limit: { readonly bytes?: number; readonly count?: number },
  ): void {
    const queues = candidates.filter(({ client }) => client.open)
      .sort((a, b) => b.queued - a.queued);
    let shed = 0;
    let closed = 0;
    for (const { client, queued } of queues) {
      if (shed >= (limit.bytes ?? Infinity) || closed++ >= (limit.count ?? Infinity)) break;
      client.close(CLOSE_CODES.overloaded);
      this.#options.onShed(client, queued);
      shed += queued;
    }
    this.#live -= shed;
    if (shed > 0) this.#gate.measureSoon();
    // Shed, but not gone: their queues drain at their peers' pace.
    this.#lingering = this.#lingeringNow() + shed;
    this.#lingeringAt = this.#now();
  }
}
