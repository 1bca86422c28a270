/**
 * A stand-in for a server-side WebSocket, for the unit tests of the delivery modules only (the
 * integration tests use real sockets): it records what is sent and closed, and reports whatever
 * `bufferedAmount` the test sets.
 *
 * @module
 */

import { Client, type ClientContext } from "../../lib/delivery/client.ts";
import { EventStreamSocket, Heartbeat } from "../../lib/delivery/event_stream.ts";
import { SendQueues } from "../../lib/delivery/send_queues.ts";

/** Just enough of `WebSocket` for {@link Client}. */
export class FakeSocket extends EventTarget {
  /** Text frames sent, in order. */
  readonly sent: string[] = [];
  /** Close calls, in order. */
  readonly closes: { code: number | undefined; reason: string | undefined }[] = [];
  /** What the runtime would report as not yet written. */
  bufferedAmount = 0;

  /** Records a frame. */
  send(data: string): void {
    this.sent.push(data);
  }

  /** Records a close. */
  close(code?: number, reason?: string): void {
    this.closes.push({ code, reason });
  }

  /** The handshake completes. */
  open(): void {
    this.dispatchEvent(new Event("open"));
  }

  /** The connection ends with `code`. */
  end(code: number): void {
    this.dispatchEvent(new CloseEvent("close", { code }));
  }
}

/** Clients on fake sockets sharing one context, as a gateway's are. */
export class FakeClients {
  readonly bounds: SendQueues;
  /** Close codes reported through `onClose`, in order. */
  readonly closed: { client: Client; code: number }[] = [];
  /** Runs when a client closes: a hub or an audience removing it, as the gateway does. */
  whenClosed: (client: Client) => void = () => {};
  readonly #context: ClientContext;

  /** Clients with a byte budget of `budget`. */
  constructor(budget: number) {
    this.bounds = new SendQueues(budget);
    this.#context = {
      queues: this.bounds,
      closeTimeoutMs: 1000,
      onOpen: () => {},
      onClose: (client, code) => {
        this.closed.push({ client, code });
        this.whenClosed(client);
      },
      onRelease: () => {},
      onViolation: () => {},
    };
  }

  /** An open client of `regions` on a new fake socket. */
  open(regions: readonly string[] = ["AE"]): { client: Client; socket: FakeSocket } {
    const socket = new FakeSocket();
    // The fake has every member Client uses; the cast stands in for the rest of WebSocket.
    const client = new Client(socket as unknown as WebSocket, this.#context, {
      regions,
      remoteAddress: "127.0.0.1",
      subject: null,
      since: null,
    });
    socket.open();
    return { client, socket };
  }

  /**
   * A client of `regions` over a real event stream, open once its body is first read (as the
   * runtime reads it when the response goes out).
   */
  async openStream(
    regions: readonly string[] = ["AE"],
  ): Promise<{ client: Client; body: ReadableStreamDefaultReader<string> }> {
    const stream = new EventStreamSocket({
      regions,
      cursors: new Map(),
      heartbeat: new Heartbeat(60_000),
    });
    const client = new Client(stream, this.#context, {
      regions,
      remoteAddress: "127.0.0.1",
      subject: null,
      since: null,
    });
    const body = stream.response.body!.pipeThrough(new TextDecoderStream()).getReader();
    await body.read();
    return { client, body };
  }
}
