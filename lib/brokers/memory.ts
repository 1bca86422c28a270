/**
 * The embedded broker: publications and the record of each region's stream stay in this process.
 * It is the default when no `REDIS_URL` is set, so the gateway runs with no dependency at all;
 * `POST /publish` feeds it. Its record dies with the process: a restart begins a new epoch.
 *
 * @module
 */

import type {
  Broker,
  BrokerListener,
  BrokerState,
  Cursor,
  DedupeOptions,
  HistoryEntry,
  HistoryOptions,
  RecentKey,
  RecordRequest,
  Recovery,
  RegionRecord,
  StreamPosition,
} from "./broker.ts";
import { DEFAULT_DEDUPE, DEFAULT_HISTORY } from "./broker.ts";
import { newEpoch } from "./epoch.ts";

const encoder = new TextEncoder();

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** How de-duplication keys are kept. @default DEFAULT_DEDUPE */
  readonly dedupe?: DedupeOptions;
  /** History kept per region. @default DEFAULT_HISTORY */
  readonly history?: HistoryOptions;
  /** Clock in milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** One region's stream. */
interface Stream {
  readonly epoch: string;
  top: number;
  readonly entries: (HistoryEntry & { readonly at: number })[];
  /** Fingerprint → offset, for the entries. */
  readonly index: Map<string, number>;
  /**
   * De-duplication key → its first sighting (when, and the publication's fingerprint); a Map
   * iterates in insertion order, oldest first.
   */
  readonly keys: Map<string, { readonly at: number; readonly fingerprint: string }>;
}

/** An in-process {@link Broker}. */
export class MemoryBroker implements Broker {
  readonly kind = "memory";
  readonly #dedupe: DedupeOptions;
  readonly #history: HistoryOptions;
  readonly #now: () => number;
  readonly #streams = new Map<string, Stream>();
  #listener: BrokerListener | undefined;
  #state: BrokerState = "connecting";

  /** Creates a broker. */
  constructor(options: MemoryBrokerOptions = {}) {
    this.#dedupe = options.dedupe ?? DEFAULT_DEDUPE;
    this.#history = options.history ?? DEFAULT_HISTORY;
    this.#now = options.now ?? Date.now;
  }

  /** Current state: `ready` from {@link start} until {@link close}. */
  get state(): BrokerState {
    return this.#state;
  }

  /** Registers the listener; the broker is ready at once. */
  start(listener: BrokerListener): void {
    if (this.#listener !== undefined) throw new Error("Broker already started");
    this.#listener = listener;
    this.#setState("ready");
  }

  /** Delivers `payload` to the listener on a later microtask, as a network broker would. */
  publish(region: string, payload: string): Promise<number> {
    const listener = this.#listener;
    if (listener === undefined || this.#state !== "ready") return Promise.resolve(0);
    const bytes = encoder.encode(payload);
    queueMicrotask(() => listener.publication(region, bytes));
    return Promise.resolve(1);
  }

  /** Records each publication once per fingerprint; a known one keeps its offset. */
  record(records: readonly RegionRecord[]): Promise<readonly StreamPosition[]> {
    return Promise.resolve(records.map(({ region, request }) => this.#record(region, request)));
  }

  #record(region: string, request: RecordRequest): StreamPosition {
    const stream = this.#stream(region);
    const now = this.#now();
    const known = stream.index.get(request.fingerprint);
    if (known !== undefined) return { epoch: stream.epoch, offset: known };
    if (request.dedupeKey !== null && this.#dedupe.windowMs > 0) {
      this.#forgetKeys(stream, now);
      if (!stream.keys.has(request.dedupeKey)) {
        stream.keys.set(request.dedupeKey, { at: now, fingerprint: request.fingerprint });
      }
      const oldest = stream.keys.keys().next();
      if (stream.keys.size > this.#dedupe.capacity && !oldest.done) {
        stream.keys.delete(oldest.value);
      }
    }
    const offset = ++stream.top;
    stream.entries.push({ offset, fingerprint: request.fingerprint, body: request.body, at: now });
    stream.index.set(request.fingerprint, offset);
    if (stream.entries.length > this.#history.size) this.#drop(stream);
    this.#expire(stream, now);
    return { epoch: stream.epoch, offset };
  }

  /** What followed `cursor`, when the history still covers it without a gap. */
  recover(region: string, cursor: Cursor | null): Promise<Recovery> {
    const stream = this.#stream(region);
    this.#expire(stream, this.#now());
    const position = { epoch: stream.epoch, offset: stream.top };
    const unrecovered = { position, recovered: false, entries: [] };
    let since: number | undefined;
    if (cursor?.kind === "message") since = stream.index.get(cursor.fingerprint);
    else if (cursor?.kind === "position" && cursor.position.epoch === stream.epoch) {
      since = cursor.position.offset;
    }
    if (since === undefined || since > stream.top) return Promise.resolve(unrecovered);
    const after = since;
    const entries = stream.entries
      .filter((entry) => entry.offset > after)
      .map(({ offset, fingerprint, body }) => ({ offset, fingerprint, body }));
    const complete = after === stream.top || entries[0]?.offset === after + 1;
    return Promise.resolve(complete ? { position, recovered: true, entries } : unrecovered);
  }

  /** The de-duplication keys recorded within the window, with their age. */
  recentKeys(region: string): Promise<readonly RecentKey[]> {
    const stream = this.#stream(region);
    const now = this.#now();
    this.#forgetKeys(stream, now);
    return Promise.resolve(
      [...stream.keys].map(([key, first]) => ({
        key,
        ageMs: now - first.at,
        firstFingerprint: first.fingerprint,
      })),
    );
  }

  /** Stops delivering. */
  close(): Promise<void> {
    this.#setState("closed");
    return Promise.resolve();
  }

  #stream(region: string): Stream {
    let stream = this.#streams.get(region);
    if (stream === undefined) {
      stream = { epoch: newEpoch(), top: 0, entries: [], index: new Map(), keys: new Map() };
      this.#streams.set(region, stream);
    }
    return stream;
  }

  #drop(stream: Stream): void {
    const oldest = stream.entries.shift();
    if (oldest !== undefined) stream.index.delete(oldest.fingerprint);
  }

  #expire(stream: Stream, now: number): void {
    const cutoff = now - this.#history.ttlMs;
    while (stream.entries.length > 0 && stream.entries[0]!.at <= cutoff) this.#drop(stream);
  }

  #forgetKeys(stream: Stream, now: number): void {
    for (const [key, first] of stream.keys) {
      if (first.at > now - this.#dedupe.windowMs) return;
      stream.keys.delete(key);
    }
  }

  #setState(state: BrokerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#listener?.stateChange(state);
  }
}
