/**
 * A publication's way out, from the broker's callback to the hub: paced over event-loop turns,
 * validated and normalised (`contract/`), de-duplicated and framed once (`streams/`), broadcast to
 * its region, and recorded in the broker afterwards.
 *
 * The hot path, from a Redis message to a client's send, in four files: `brokers/redis.ts` (the
 * subscriber's callback), this one, `delivery/hub.ts` (every socket of the region), and
 * `delivery/client.ts` (a client the frame would take over its budget).
 *
 * Pacing. Deno writes a broadcast's frames only after the turn that queued them, and counts them
 * in `bufferedAmount` until then. When publications pile up (a gateway stopped for a moment by a
 * long GC pause, a descheduled VM or a cold start gets them from Redis in one read), handling the
 * whole pile in one turn would put all of it in every client's queue at once, and the
 * slow-consumer check (`client.ts`) would close clients that read at once (a test pins it: a pile
 * of publications is not a slow consumer). So one turn handles publications up to two allowances
 * (at least one publication): payload bytes, half a client's budget, for each client's queue; and
 * bytes handed to sockets, a sixteenth of `MAX_QUEUED_BYTES`, for the process's, since no check of
 * memory can run before the turn ends (a turn of 300 publications to 10,000 clients would queue
 * gigabytes). The rest wait, in order, for the next turn, once their predecessors' frames are
 * written. Normal traffic never reaches either allowance: they only slice piles. And while the
 * clients' queues are near `MAX_QUEUED_BYTES` (`delivery/queue_gate.ts`), none goes: publications
 * wait here, a payload each, instead of a frame per client in the runtime's queues.
 *
 * @module
 */

import { parsePublication } from "../contract/message.ts";
import type { Hub } from "../delivery/hub.ts";
import type { Backlog } from "../delivery/backlog_rule.ts";
import { PENDING_FRAME_BYTES } from "../delivery/queued_bytes_limit.ts";
import type { Metrics } from "../observe/metrics.ts";
import { fingerprint } from "../contract/fingerprint.ts";
import type { Streams } from "../streams/streams.ts";
import type { EventRecorder } from "./event_recorder.ts";

/**
 * Handles one publication that arrived at `arrivedAt` (`performance.now()`); returns the memory it
 * handed to sockets (each frame's bytes and what the runtime keeps beside it).
 */
export type PublicationHandler = (
  region: string,
  payload: Uint8Array,
  arrivedAt: number,
) => number;

/** How much one event-loop turn may handle. */
export interface TurnAllowance {
  /** Payload bytes: what each client may get queued in one turn. */
  readonly payloadBytes: number;
  /** Bytes handed to sockets, over all clients. */
  readonly handedBytes: number;
}

/** How the pacer tells turns apart; a test drives turns by hand. */
export interface TurnScheduler {
  /** Runs `callback` when the current turn's synchronous work is done. @default queueMicrotask */
  readonly atEndOfTurn: (callback: () => void) => void;
  /** Runs `callback` in a later turn, after pending I/O. @default setTimeout(callback, 0) */
  readonly inNextTurn: (callback: () => void) => void;
  /** Runs `callback` after `ms`. @default setTimeout */
  readonly after: (callback: () => void, ms: number) => void;
}

/** How long publications wait before asking again whether the queues have room, in ms. */
const ROOM_RETRY_MS = 10;

const EVENT_LOOP: TurnScheduler = {
  atEndOfTurn: queueMicrotask,
  inNextTurn: (callback) => setTimeout(callback, 0),
  after: (callback, ms) => setTimeout(callback, ms),
};

/** Publications in order, handled at most an allowance per turn; held until released. */
export class PublicationPacer {
  readonly #allowance: TurnAllowance;
  readonly #handle: PublicationHandler;
  readonly #turns: TurnScheduler;
  readonly #room: () => boolean;
  /** Publications waiting for a later turn, or for the release, oldest first. */
  readonly #waiting: [string, Uint8Array, number][] = [];
  #held = true;
  #drainScheduled = false;
  /** Payload and handed bytes of the current turn; a microtask zeroes them when it ends. */
  #spent = 0;
  #handed = 0;
  readonly #endTurn = () => {
    this.#spent = 0;
    this.#handed = 0;
  };
  readonly #drain = () => {
    this.#drainScheduled = false;
    this.#handleWaiting();
  };

  /**
   * A pacer handing publications to `handle`, at most `allowance` per turn (at least one
   * publication), and none while `room` says the clients' queues have no room. It starts held:
   * nothing is handled before {@link release}.
   */
  constructor(
    allowance: TurnAllowance,
    handle: PublicationHandler,
    options: { readonly turns?: TurnScheduler; readonly room?: () => boolean } = {},
  ) {
    this.#allowance = allowance;
    this.#handle = handle;
    this.#turns = options.turns ?? EVENT_LOOP;
    this.#room = options.room ?? (() => true);
  }

  /** The publications waiting, and how long the oldest has. */
  backlog(): Backlog {
    const oldest = this.#waiting[0];
    return {
      waiting: this.#waiting.length,
      ageMs: oldest === undefined ? 0 : performance.now() - oldest[2],
    };
  }

  /** Handles `payload` now if nothing waits and this turn's allowance is left; else queues it. */
  push(region: string, payload: Uint8Array): void {
    const arrivedAt = performance.now();
    if (!this.#held && this.#waiting.length === 0 && this.#allowed() && this.#room()) {
      this.#run(region, payload, arrivedAt);
    } else {
      this.#waiting.push([region, payload, arrivedAt]);
      this.#scheduleDrain(this.#held || this.#room() ? 0 : ROOM_RETRY_MS);
    }
  }

  /** Queues publications without handling them, until {@link release}. */
  hold(): void {
    this.#held = true;
  }

  /** Handles what waited, paced as the rest, and whatever comes next. */
  release(): void {
    this.#held = false;
    this.#handleWaiting();
  }

  #handleWaiting(): void {
    if (this.#held) return;
    let handled = 0;
    let room = true;
    while (handled < this.#waiting.length && this.#allowed() && (room = this.#room())) {
      const [region, payload, arrivedAt] = this.#waiting[handled++]!;
      this.#run(region, payload, arrivedAt);
    }
    // Once per turn, so that a backlog that never empties does not keep what it handled.
    this.#waiting.splice(0, handled);
    if (this.#waiting.length > 0) this.#scheduleDrain(room ? 0 : ROOM_RETRY_MS);
  }

  #allowed(): boolean {
    return this.#spent < this.#allowance.payloadBytes &&
      this.#handed < this.#allowance.handedBytes;
  }

  #run(region: string, payload: Uint8Array, arrivedAt: number): void {
    if (this.#spent === 0) this.#turns.atEndOfTurn(this.#endTurn);
    this.#spent += payload.byteLength;
    this.#handed += this.#handle(region, payload, arrivedAt);
  }

  /** Drains in the next turn, or after `ms` when waiting for room. */
  #scheduleDrain(ms = 0): void {
    if (this.#held || this.#drainScheduled) return;
    this.#drainScheduled = true;
    if (ms === 0) this.#turns.inNextTurn(this.#drain);
    else this.#turns.after(this.#drain, ms);
  }
}

/** What a publication's way out goes through. */
export interface PublicationsContext {
  /** Largest publication accepted, in bytes (`MAX_MESSAGE_BYTES`). */
  readonly maxMessageBytes: number;
  /** What one event-loop turn may handle (`PublicationPacer`). */
  readonly perTurn: TurnAllowance;
  readonly streams: Streams;
  readonly hub: Hub;
  readonly metrics: Metrics;
  readonly events: EventRecorder;
  /** A frame went to `sockets` client sockets (the process's queued-bytes limit keeps count). */
  readonly handed: (frameBytes: number, sockets: number) => void;
  /** Whether the clients' queues have room for more now (the same limit's word). */
  readonly room: () => boolean;
}

/** Every publication of one gateway, from the broker to the hub. */
export class Publications {
  readonly #context: PublicationsContext;
  readonly #pacer: PublicationPacer;

  /** Publications held until {@link release} (the broker's keys are loaded first). */
  constructor(context: PublicationsContext) {
    this.#context = context;
    this.#pacer = new PublicationPacer(
      context.perTurn,
      (region, payload, arrivedAt) => this.#deliver(region, payload, arrivedAt),
      { room: context.room },
    );
  }

  /** The publications waiting to go out, and how long the oldest has. */
  backlog(): Backlog {
    return this.#pacer.backlog();
  }

  /** A raw publication from the broker: delivered now, or after those before it. */
  push(region: string, payload: Uint8Array): void {
    this.#pacer.push(region, payload);
  }

  /** Queues publications without handling them, until {@link release}. */
  hold(): void {
    this.#pacer.hold();
  }

  /** Handles what waited, in order, and whatever comes next. */
  release(): void {
    this.#pacer.release();
  }

  /** Delivers one publication; returns the bytes it handed to sockets. */
  #deliver(region: string, payload: Uint8Array, arrivedAt: number): number {
    const { streams, hub, metrics, events } = this.#context;
    const counts = metrics.region(region);
    counts.received++;
    const result = parsePublication(payload, { region, maxBytes: this.#context.maxMessageBytes });
    if (!result.ok) {
      events.publicationRejected(region, result.reason, result.detail);
      return 0;
    }
    const { message } = result;
    metrics.messageAccepted();
    for (const field of message.removed) metrics.fieldsRemoved.inc({ field });
    const print = fingerprint(payload);
    if (!streams.claim(region, print, message.dedupeKey)) {
      counts.deduplicated++;
      return 0;
    }
    const publication = { fingerprint: print, body: message.body, dedupeKey: message.dedupeKey };
    const frame = streams.append(region, publication);
    const started = performance.now();
    const delivery = hub.broadcast(region, frame);
    const handedAt = performance.now();
    const now = Date.now();
    metrics.broadcastDuration.record((handedAt - started) / 1000);
    metrics.deliveryLag.record((handedAt - arrivedAt) / 1000, "arrival");
    if (message.producedAt !== null) {
      metrics.deliveryLag.record(Math.max(0, now - message.producedAt) / 1000, "producer");
    }
    counts.deliveries += delivery.delivered;
    events.activity.sent(region, message.body, now);
    this.#context.handed(frame.bytes, delivery.delivered);
    streams.record(region, frame, publication);
    return (frame.bytes + PENDING_FRAME_BYTES) * delivery.delivered;
  }
}
