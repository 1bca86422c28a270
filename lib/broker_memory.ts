/**
 * The embedded broker: publications, positions and history stay in this process. It is the
 * default when no `REDIS_URL` is set, so the gateway runs with no dependency at all;
 * `POST /publish` feeds it. Its history dies with the process: a restart begins a new epoch.
 *
 * @module
 */

import type {
  AppendRequest,
  AppendResult,
  Broker,
  BrokerListener,
  BrokerState,
  DedupeOptions,
  HistoryEntry,
  HistoryOptions,
  Recovery,
  StreamPosition,
} from "./broker.ts";
import { newEpoch } from "./epoch.ts";
import { RecentKeys } from "./recent_keys.ts";

const encoder = new TextEncoder();

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** De-duplication rule. @default {windowMs: 3600000, capacity: 10000} */
  readonly dedupe?: DedupeOptions;
  /** History kept per region. @default {size: 100, ttlMs: 600000} */
  readonly history?: HistoryOptions;
  /** Clock in milliseconds, for the de-duplication window and the history's age. @default Date.now */
  readonly now?: () => number;
}

/** One region's stream. */
interface Stream {
  readonly epoch: string;
  top: number;
  readonly entries: (HistoryEntry & { readonly at: number })[];
  readonly recentKeys: RecentKeys;
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
    this.#dedupe = options.dedupe ?? { windowMs: 3_600_000, capacity: 10_000 };
    this.#history = options.history ?? { size: 100, ttlMs: 600_000 };
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

  /** A repeated key within the window is a duplicate; anything else takes the next offset. */
  append(region: string, request: AppendRequest): Promise<AppendResult> {
    const stream = this.#stream(region);
    const now = this.#now();
    if (
      request.dedupeKey !== null && this.#dedupe.windowMs > 0 &&
      !stream.recentKeys.claim(request.dedupeKey)
    ) {
      return Promise.resolve({ status: "duplicate" });
    }
    const offset = ++stream.top;
    if (this.#history.size > 0) {
      stream.entries.push({ offset, body: request.body, at: now });
      if (stream.entries.length > this.#history.size) stream.entries.shift();
    }
    this.#expire(stream, now);
    return Promise.resolve({ status: "fresh", position: { epoch: stream.epoch, offset } });
  }

  /** What followed `since`, when the history still covers it without a gap. */
  recover(region: string, since: StreamPosition | null): Promise<Recovery> {
    const stream = this.#stream(region);
    this.#expire(stream, this.#now());
    const position = { epoch: stream.epoch, offset: stream.top };
    const unrecovered = { position, recovered: false, entries: [] };
    if (since === null || since.epoch !== stream.epoch || since.offset > stream.top) {
      return Promise.resolve(unrecovered);
    }
    const entries = stream.entries
      .filter((entry) => entry.offset > since.offset)
      .map(({ offset, body }) => ({ offset, body }));
    const complete = since.offset === stream.top || entries[0]?.offset === since.offset + 1;
    return Promise.resolve(complete ? { position, recovered: true, entries } : unrecovered);
  }

  /** Stops delivering. */
  close(): Promise<void> {
    this.#setState("closed");
    return Promise.resolve();
  }

  #stream(region: string): Stream {
    let stream = this.#streams.get(region);
    if (stream === undefined) {
      stream = {
        epoch: newEpoch(),
        top: 0,
        entries: [],
        recentKeys: new RecentKeys({ ...this.#dedupe, now: this.#now }),
      };
      this.#streams.set(region, stream);
    }
    return stream;
  }

  #expire(stream: Stream, now: number): void {
    const cutoff = now - this.#history.ttlMs;
    while (stream.entries.length > 0 && stream.entries[0]!.at <= cutoff) stream.entries.shift();
  }

  #setState(state: BrokerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#listener?.stateChange(state);
  }
}
