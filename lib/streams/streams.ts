/**
 * What the gateway knows of each region's stream, and decides from it without asking anyone:
 * whether a publication is new (the same bytes again, or the same `video_id` within the window),
 * what it delivered lately, and what a reconnecting client needs to catch up.
 *
 * Every instance on one Redis receives the same publications in the same order, and seeds its
 * de-duplication keys from the ones the broker recorded; so instances decide alike without a
 * round trip per message. The broker records each delivered publication afterwards (its position
 * and history), off the hot path.
 *
 * @module
 */

import type { Broker, Cursor, RecordRequest } from "../brokers/broker.ts";
import {
  cursorToken,
  type Frame,
  messageFrame,
  messageId,
  positionToken,
  recoveryFrame,
  subscribedFrame,
} from "./frames.ts";
import { RecentFrames } from "./recent_frames.ts";
import { RecentKeys } from "./recent_keys.ts";
import { RECORD_INTERVAL_MS, RecordBatch } from "./records.ts";

/**
 * How long the same bytes published again count as the same publication, in milliseconds: they
 * have the same id, so a client would drop them anyway.
 */
export const SAME_PUBLICATION_MS = 120_000;

/**
 * How long after this instance subscribes the broker's history may still lack publications made
 * just before: other instances record them within {@link RECORD_INTERVAL_MS}, plus a round trip.
 */
const RECORD_SETTLE_MS = 2 * RECORD_INTERVAL_MS;

/** Options of {@link Streams}. */
export interface StreamsOptions {
  readonly regions: readonly string[];
  /** The same key within this many milliseconds is a duplicate; 0 disables. */
  readonly dedupeWindowMs: number;
  /** Most keys remembered per region. */
  readonly dedupeCapacity: number;
  /** Frames remembered per region for fast recovery. */
  readonly recentFrames: number;
  /** Clock in milliseconds, for the windows. @default Date.now */
  readonly now?: () => number;
  /** Told when the broker cannot record a delivered publication. @default ignore */
  readonly onRecordError?: (error: unknown) => void;
}

/** What a client connecting with (or without) a cursor gets before going live. */
export type CatchUp = {
  readonly result: "subscribed" | "recovered" | "not_recovered";
  /** The `subscribed` or `recovery` frame. */
  readonly control: string;
  /** The missed messages, oldest first. */
  readonly frames: readonly Frame[];
} | {
  /** The broker could not be asked: the answer is unknown, not negative. */
  readonly result: "unavailable";
  readonly brokerError: unknown;
};

interface RegionState {
  readonly keys: RecentKeys;
  readonly publications: RecentKeys;
  readonly recent: RecentFrames;
}

/** The streams of every region. */
export class Streams {
  readonly #broker: Broker;
  readonly #options: StreamsOptions;
  readonly #regions = new Map<string, RegionState>();
  readonly #records: RecordBatch;
  /** Until when (`performance.now()`) replays from the broker wait: see {@link subscribed}. */
  #settledAt = 0;

  /** Creates empty streams; {@link seed} loads the broker's recorded keys. */
  constructor(broker: Broker, options: StreamsOptions) {
    this.#broker = broker;
    this.#options = options;
    this.#records = new RecordBatch(broker, options.onRecordError ?? (() => {}));
    const now = options.now ?? Date.now;
    for (const region of options.regions) {
      this.#regions.set(region, {
        keys: new RecentKeys({
          windowMs: options.dedupeWindowMs,
          capacity: options.dedupeCapacity,
          now,
        }),
        publications: new RecentKeys({ windowMs: SAME_PUBLICATION_MS, capacity: 10_000, now }),
        recent: new RecentFrames(options.recentFrames),
      });
    }
  }

  /** Loads the de-duplication keys the broker recorded (after a start, or a reconnect). */
  async seed(): Promise<void> {
    const now = (this.#options.now ?? Date.now)();
    await Promise.all(this.#options.regions.map(async (region) => {
      const keys = await this.#broker.recentKeys(region);
      this.#state(region).keys.merge(
        keys.map(({ key, ageMs, firstFingerprint }) => ({
          key,
          seenAt: now - ageMs,
          fingerprint: firstFingerprint,
        })),
      );
    }));
  }

  /**
   * The broker is unreachable: publications may now go by unseen, so this instance's recent frames
   * no longer tell what followed a cursor. Forgetting them sends cursors to the broker's history,
   * which other instances kept writing (or, while it cannot be asked, has the client come back).
   */
  brokerLost(): void {
    for (const state of this.#regions.values()) state.recent.clear();
  }

  /**
   * The broker is subscribed (again): from now on this instance sees every publication, but those
   * made just before may still be on their way into the history from other instances. A replay
   * from the broker within {@link RECORD_SETTLE_MS} waits for them, so that a client resuming here
   * right after a start or a reconnect misses none.
   */
  subscribed(): void {
    this.#settledAt = performance.now() + RECORD_SETTLE_MS;
  }

  /**
   * Whether the publication with `fingerprint` (and `dedupeKey`) is new in `region`, remembering
   * it if so: not the same bytes again, nor the same key within the window.
   */
  claim(region: string, fingerprint: string, dedupeKey: string | null): boolean {
    const state = this.#state(region);
    if (!state.publications.claim(fingerprint)) return false;
    if (dedupeKey === null || this.#options.dedupeWindowMs === 0) return true;
    return state.keys.claim(dedupeKey, fingerprint);
  }

  /**
   * What {@link claim} would decide, without remembering anything: `undefined` when the
   * publication is new, else what it repeats: the id of the first publication with its key or
   * bytes (`null` when this instance does not know it, a key loaded without one).
   */
  repeatOf(
    region: string,
    fingerprint: string,
    dedupeKey: string | null,
  ): string | null | undefined {
    const state = this.#state(region);
    if (state.publications.firstSighting(fingerprint) !== undefined) {
      return messageId(region, fingerprint);
    }
    if (dedupeKey === null || this.#options.dedupeWindowMs === 0) return undefined;
    const first = state.keys.firstSighting(dedupeKey);
    return first === undefined || first === null ? first : messageId(region, first);
  }

  /** Appends a new publication to `region`'s recent frames; returns its frame, to broadcast. */
  append(region: string, request: RecordRequest): Frame {
    const frame = messageFrame(region, request.fingerprint, request.body);
    this.#state(region).recent.push(frame);
    return frame;
  }

  /** Has the broker record a delivered frame, soon after this turn (`records.ts`). */
  record(region: string, frame: Frame, request: RecordRequest): void {
    this.#records.add(region, frame, request);
  }

  /** Sends every waiting record to the broker now. */
  flush(): void {
    this.#records.flush();
  }

  /**
   * What a client needs before going live in `region`. A client back within moments resumes from
   * this instance's recent frames; otherwise the broker's history says what followed the cursor,
   * and the recent frames add what it has not recorded yet.
   */
  async catchUp(region: string, cursor: Cursor | null): Promise<CatchUp> {
    const recent = this.#state(region).recent;
    if (cursor?.kind === "message") {
      const after = recent.after(cursor.fingerprint);
      if (after !== undefined) return recovered(region, after, cursor);
    }
    if (cursor === null && recent.last !== undefined) {
      const position = messageId(region, recent.last.fingerprint);
      return { result: "subscribed", control: subscribedFrame(region, position), frames: [] };
    }
    const unsettled = this.#settledAt - performance.now();
    if (unsettled > 0) await new Promise((resolve) => setTimeout(resolve, unsettled));
    let recovery;
    try {
      recovery = await this.#broker.recover(region, cursor);
    } catch (brokerError) {
      return { result: "unavailable", brokerError };
    }
    const position = positionToken(region, recovery.position);
    if (cursor === null) {
      return { result: "subscribed", control: subscribedFrame(region, position), frames: [] };
    }
    if (!recovery.recovered) {
      const last = recent.last;
      const current = last === undefined ? position : messageId(region, last.fingerprint);
      const control = recoveryFrame(region, { recovered: false, replayed: 0, position: current });
      return { result: "not_recovered", control, frames: [] };
    }
    const { epoch } = recovery.position;
    const replayed = recovery.entries.map((entry) =>
      messageFrame(region, entry.fingerprint, entry.body, { epoch, offset: entry.offset })
    );
    const known = new Set(replayed.map((frame) => frame.fingerprint));
    const unrecorded = recent.unrecordedAt(recovery.position)
      .filter((frame) => !known.has(frame.fingerprint));
    return recovered(region, [...replayed, ...unrecorded], cursor);
  }

  #state(region: string): RegionState {
    const state = this.#regions.get(region);
    if (state === undefined) throw new RangeError(`Unknown region: ${region}`);
    return state;
  }
}

/** A recovery of `frames` after `cursor`; the client then stands at the last one, or still at it. */
function recovered(region: string, frames: readonly Frame[], cursor: Cursor): CatchUp {
  const last = frames.at(-1);
  const position = last !== undefined
    ? messageId(region, last.fingerprint)
    : cursorToken(region, cursor);
  return {
    result: "recovered",
    control: recoveryFrame(region, { recovered: true, replayed: frames.length, position }),
    frames,
  };
}
