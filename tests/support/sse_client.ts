/**
 * A Server-Sent Events test client over a real connection (`fetch`): records every event with its
 * `id:` and `event:` fields, the comment lines (heartbeats) and the `retry:` advice, as the HTML
 * standard's parser reads them.
 *
 * @module
 */

import { waitFor } from "./wait.ts";

/** One dispatched event. */
export interface StreamEvent {
  /** `message` unless the event named itself (`close`). */
  readonly event: string;
  /** The `id:` field of the event, if it had one. */
  readonly id: string | undefined;
  readonly data: string;
}

/** An open event stream. */
export class TestEventStream implements AsyncDisposable {
  /** Every event, in order. */
  readonly events: StreamEvent[] = [];
  /** The answer's headers. */
  readonly headers: Headers;
  /** Resolves when the stream ends (the server ended it, or {@link close}). */
  readonly ended: Promise<void>;
  /** Comment lines received (`:` heartbeats). */
  comments = 0;
  /** The last `retry:` advice, in ms. */
  retryMs: number | undefined;
  readonly #abort: AbortController;
  readonly #reader: ReadableStreamDefaultReader<string>;

  private constructor(response: Response, abort: AbortController) {
    this.headers = response.headers;
    this.#abort = abort;
    this.#reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    this.ended = this.#read();
  }

  /**
   * Opens `url`; resolves once the answer's headers arrive. A refusal (not 200) is thrown with its
   * status and body.
   */
  static async open(url: string, headers: Record<string, string> = {}): Promise<TestEventStream> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    if (response.status !== 200) {
      throw new Error(`Refused ${response.status}: ${await response.text()}`);
    }
    return new TestEventStream(response, abort);
  }

  /** Opens one stream to each of `urls`; they close together on dispose. */
  static async openAll(urls: readonly string[]): Promise<TestEventStream[] & AsyncDisposable> {
    const streams = await Promise.all(urls.map((url) => TestEventStream.open(url)));
    return Object.assign(streams, {
      async [Symbol.asyncDispose]() {
        await Promise.all(streams.map((stream) => stream.close()));
      },
    });
  }

  /** The data of the `message` events: the frames a WebSocket client would get. */
  get frames(): string[] {
    return this.events.filter((event) => event.event === "message").map((event) => event.data);
  }

  /** The `message` events' data parsed as JSON. */
  get messages(): Record<string, unknown>[] {
    return this.frames.map((frame) => JSON.parse(frame));
  }

  /** Waits until at least `count` `message` events have arrived. */
  async waitForFrames(count: number, timeoutMs = 5000): Promise<string[]> {
    await waitFor(() => this.frames.length >= count, {
      timeoutMs,
      what: `${count} event(s), got ${this.frames.length}`,
    });
    return this.frames;
  }

  /** Closes the connection and waits until the reading has stopped. */
  async close(): Promise<void> {
    // Aborting alone did not always end a read of a body that had been busy.
    this.#abort.abort();
    await this.#reader.cancel().catch(() => {});
    await this.ended;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #read(): Promise<void> {
    let pending = "";
    let fields: { event: string; id: string | undefined; data: string[] } = {
      event: "message",
      id: undefined,
      data: [],
    };
    try {
      for (;;) {
        const { value: text, done } = await this.#reader.read();
        if (done) break;
        const lines = (pending + text).split("\n");
        pending = lines.pop()!;
        for (const line of lines) {
          if (line === "") {
            if (fields.data.length > 0) {
              this.events.push({
                event: fields.event,
                id: fields.id,
                data: fields.data.join("\n"),
              });
            }
            fields = { event: "message", id: undefined, data: [] };
          } else if (line.startsWith(":")) {
            this.comments++;
          } else {
            const colon = line.indexOf(":");
            const name = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, "");
            if (name === "data") fields.data.push(value);
            else if (name === "id") fields.id = value;
            else if (name === "event") fields.event = value;
            else if (name === "retry") this.retryMs = Number(value);
          }
        }
      }
    } catch {
      // Aborted by close(), or cut by the server.
    }
  }
}
