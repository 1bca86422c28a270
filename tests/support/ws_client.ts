/**
 * A WebSocket test client over a real socket that records every frame and the close event.
 *
 * @module
 */

import { waitFor } from "./wait.ts";

/** A connected test client. */
export class TestClient implements AsyncDisposable {
  /** Text frames received, in order. */
  readonly frames: string[] = [];
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  readonly #socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => this.frames.push(String(event.data));
    this.closed = new Promise((resolve) => socket.addEventListener("close", resolve));
  }

  /** Connects to `url` and waits until the socket is open. */
  static async connect(url: string, protocols?: string[]): Promise<TestClient> {
    const socket = new WebSocket(url, protocols);
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`Cannot connect to ${url}`)), {
        once: true,
      });
    });
    return client;
  }

  /** Connects one client to each of `urls`; they close together on dispose. */
  static async connectAll(urls: readonly string[]): Promise<TestClient[] & AsyncDisposable> {
    const clients = await Promise.all(urls.map((url) => TestClient.connect(url)));
    return Object.assign(clients, {
      async [Symbol.asyncDispose]() {
        await Promise.all(clients.map((client) => client.close()));
      },
    });
  }

  /** The subprotocol the server chose (`""` for none). */
  get protocol(): string {
    return this.#socket.protocol;
  }

  /** Frames parsed as JSON. */
  get messages(): Record<string, unknown>[] {
    return this.frames.map((frame) => JSON.parse(frame));
  }

  /** Waits until at least `count` frames have arrived. */
  async waitForFrames(count: number, timeoutMs = 5000): Promise<string[]> {
    await waitFor(() => this.frames.length >= count, {
      timeoutMs,
      what: `${count} frame(s), got ${this.frames.length}`,
    });
    return this.frames;
  }

  /**
   * Waits for the message of `videoId`: a marker published after what a test expects not to come
   * (a region delivers in order, so once the marker is here, what came before it is too).
   */
  async waitForVideo(videoId: string, timeoutMs = 5000): Promise<Record<string, unknown>[]> {
    await waitFor(() => this.messages.some((message) => message.video_id === videoId), {
      timeoutMs,
      what: `the message of ${videoId}`,
    });
    return this.messages;
  }

  /** Sends a text frame. */
  send(data: string): void {
    this.#socket.send(data);
  }

  /** Closes the socket and waits for the close event. */
  async close(): Promise<void> {
    if (this.#socket.readyState !== WebSocket.CLOSED) this.#socket.close();
    await this.closed;
  }

  /** Closes it: `await using client = await TestClient.connect(url)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
