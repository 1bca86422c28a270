/**
 * A Server-Sent Events response seen by the delivery layer as a WebSocket: `send`, `close`,
 * `bufferedAmount` and the `open` and `close` events, so that a client over SSE goes through the
 * same budget, shedding, drain and release as one over WebSocket (`client.ts`), and only this
 * module knows what an event stream is.
 *
 * The body is pulled, never pushed: the runtime asks for the next chunk once it has written the
 * last (the stream's high-water mark is 0), so what it has not asked for yet is this socket's queue
 * and `bufferedAmount` is exact. A peer that stops reading stops the pulls; a peer that leaves
 * cancels the stream.
 *
 * Each frame becomes one event, `id:` the cursor to resume from (`Last-Event-ID`) and `data:` the
 * frame's JSON text unchanged (JSON text has no line breaks, so one `data:` line carries it). A
 * stream of one region carries the frame's own id, the same bytes for every stream of the region,
 * encoded once per broadcast; a stream of several regions carries every region's cursor, as
 * `?since=` takes them (`AE:<id>,GB:<id>`), since one region's id cannot resume the others.
 *
 * @module
 */

/** Reconnect advice sent at the start of every stream (`retry:`), in ms. */
export const RETRY_MS = 1000;

/** Header naming the stream's heartbeat interval, so a client can tell silence from a pause. */
export const HEARTBEAT_HEADER = "tvs-heartbeat-ms";

const ENCODER = new TextEncoder();
const HEARTBEAT = ENCODER.encode(":\n\n");
/** The frame a message starts with: its id, the stream's cursor for its region. */
const ID_PREFIX = '{"id":"';

/**
 * The last frame encoded for a stream of one region and its event: every such stream of the
 * region is handed the same string in a broadcast, so the encoding is done once.
 */
let lastFrame = "";
let lastEvent = new Uint8Array(0);

/** One timer that writes a comment line to every open stream, as WebSocket pings keep sockets. */
export class Heartbeat {
  readonly #intervalMs: number;
  readonly #streams = new Set<EventStreamSocket>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Heartbeats every `intervalMs`, while some stream is open. */
  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** The interval, in ms. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Beats for `stream` until {@link leave}. */
  join(stream: EventStreamSocket): void {
    this.#streams.add(stream);
    this.#timer ??= setInterval(() => {
      for (const each of this.#streams) each.beat();
    }, this.#intervalMs);
  }

  /** Stops beating for `stream`; the timer stops with the last one. */
  leave(stream: EventStreamSocket): void {
    this.#streams.delete(stream);
    if (this.#streams.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** What a stream is opened with. */
export interface EventStreamOptions {
  /** Regions of the stream, in the order asked. */
  readonly regions: readonly string[];
  /** Per region, the cursor the client resumes from (its first event ids carry them). */
  readonly cursors: ReadonlyMap<string, string>;
  readonly heartbeat: Heartbeat;
  /** Headers besides the event stream's own. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The `WebSocket.readyState` values this socket goes through. */
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** An SSE response that behaves, for sending and closing, as a WebSocket. */
export class EventStreamSocket extends EventTarget {
  /** The answer to the request: `200 text/event-stream`, its body this socket's events. */
  readonly response: Response;
  readonly #heartbeat: Heartbeat;
  /** Per region, where the stream stands; `null` for a stream of one region. */
  readonly #cursors: Map<string, string> | null;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The runtime asked for a chunk while the queue was empty. */
  #waiting = false;
  #opened = false;
  #readyState: number = OPEN;
  #closeCode = 1005;

  /** A stream that starts with the reconnect advice. */
  constructor(options: EventStreamOptions) {
    super();
    this.#heartbeat = options.heartbeat;
    this.#cursors = options.regions.length > 1
      ? new Map(options.regions.flatMap((region) => {
        const cursor = options.cursors.get(region);
        return cursor === undefined ? [] : [[region, cursor]];
      }))
      : null;
    this.#push(ENCODER.encode(`retry: ${RETRY_MS}\n\n`));
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#pull(),
      cancel: () => this.#closed(1005),
    }, { highWaterMark: 0 });
    this.response = new Response(body, {
      headers: {
        ...options.headers,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        // nginx buffers a proxied answer unless told not to, which would hold every event back.
        "x-accel-buffering": "no",
        [HEARTBEAT_HEADER]: String(options.heartbeat.intervalMs),
      },
    });
  }

  /** `WebSocket.OPEN`, `CLOSING` or `CLOSED`. */
  get readyState(): number {
    return this.#readyState;
  }

  /** Bytes the runtime has not taken yet. */
  get bufferedAmount(): number {
    return this.#queuedBytes;
  }

  /** Queues `frame`, a JSON text, as one event. Throws once closing, as a WebSocket does. */
  send(frame: string): void {
    if (this.#readyState !== OPEN) throw new DOMException("Stream closing", "InvalidStateError");
    this.#push(this.#event(frame));
  }

  /**
   * Ends the stream with an event `close` whose data is `{"code":…,"reason":"…"}`, the WebSocket
   * close code and reason, after what is queued; the `close` event follows once the runtime has
   * taken it all. Idempotent.
   */
  close(code = 1000, reason = ""): void {
    if (this.#readyState !== OPEN) return;
    this.#push(ENCODER.encode(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`));
    this.#readyState = CLOSING;
    this.#closeCode = code;
    this.#heartbeat.leave(this);
    if (this.#waiting) this.#pull();
  }

  /** Drops the connection now, with whatever is queued: the `close` event follows (1005). */
  terminate(): void {
    if (this.#readyState === CLOSED) return;
    try {
      this.#controller?.error(new Error("Stream terminated"));
    } catch {
      // Closed already.
    }
    this.#closed(1005);
  }

  /** Queues a heartbeat comment, for the {@link Heartbeat} timer. */
  beat(): void {
    if (this.#readyState === OPEN) this.#push(HEARTBEAT);
  }

  /** The event of `frame`, with the stream's cursor as its id when the frame moves it. */
  #event(frame: string): Uint8Array {
    if (this.#cursors === null && frame === lastFrame) return lastEvent;
    const cursor = cursorOf(frame);
    let id = cursor?.cursor;
    if (this.#cursors !== null && cursor !== undefined) {
      this.#cursors.set(cursor.region, cursor.cursor);
      id = [...this.#cursors.values()].join(",");
    }
    const event = ENCODER.encode(`${id === undefined ? "" : `id: ${id}\n`}data: ${frame}\n\n`);
    if (this.#cursors === null) {
      lastFrame = frame;
      lastEvent = event;
    }
    return event;
  }

  #push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (this.#waiting) this.#pull();
  }

  /** Hands the runtime everything queued, as one chunk: one write for a burst of events. */
  #pull(): void {
    if (!this.#opened) {
      this.#opened = true;
      this.#heartbeat.join(this);
      this.dispatchEvent(new Event("open"));
    }
    const controller = this.#controller;
    if (controller === undefined || this.#readyState === CLOSED) return;
    if (this.#queue.length === 0) {
      if (this.#readyState === CLOSING) {
        controller.close();
        this.#closed(this.#closeCode);
        return;
      }
      this.#waiting = true;
      return;
    }
    this.#waiting = false;
    const chunk = this.#queue.length === 1 ? this.#queue[0]! : concatenate(this.#queue);
    this.#queue = [];
    this.#queuedBytes = 0;
    controller.enqueue(chunk);
  }

  /** The stream is over: the close event, once. */
  #closed(code: number): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#heartbeat.leave(this);
    this.dispatchEvent(new CloseEvent("close", { code, wasClean: code !== 1005 }));
  }
}

/**
 * The region and cursor a frame moves a stream to: a message's id, or a control frame's position
 * (`subscribed`, `recovery`); `undefined` for a frame that names neither.
 */
function cursorOf(frame: string): { region: string; cursor: string } | undefined {
  let cursor: string | undefined;
  if (frame.startsWith(ID_PREFIX)) {
    cursor = frame.slice(ID_PREFIX.length, frame.indexOf('"', ID_PREFIX.length));
  } else {
    const position: unknown = (JSON.parse(frame) as { position?: unknown }).position;
    if (typeof position === "string") cursor = position;
  }
  if (cursor === undefined) return undefined;
  return { region: cursor.slice(0, cursor.indexOf(":")), cursor };
}

function concatenate(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
