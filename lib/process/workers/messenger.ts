/**
 * Requests and notices over a `postMessage` port (a `Worker` on the supervisor's side, the worker's
 * global scope on the other): a request resolves with its reply, or rejects when the other side
 * answered with an error or the messenger was closed.
 *
 * @module
 */

import type { Envelope, Reply } from "./protocol.ts";

/** The part of `Worker` and of a worker's global scope used here. */
export interface Port {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

/** Handlers of what arrives. */
export interface MessengerHandlers<InRequest, InNotice> {
  /** Answers a request; a thrown or rejected error is sent back as the error. */
  readonly request: (body: InRequest) => unknown;
  readonly notice: (body: InNotice) => void;
}

/** One side of a supervisor–worker link. */
export class Messenger<OutRequest, OutNotice, InRequest, InNotice> {
  readonly #port: Port;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  #nextId = 1;
  #closed = false;

  /** Listens on `port`, handing what arrives to `handlers`. */
  constructor(port: Port, handlers: MessengerHandlers<InRequest, InNotice>) {
    this.#port = port;
    port.addEventListener("message", (event) => {
      const envelope = event.data as Envelope<InRequest, InNotice>;
      if (envelope.kind === "reply") this.#settle(envelope);
      else if (envelope.kind === "notice") handlers.notice(envelope.body);
      else this.#answer(envelope.id, () => handlers.request(envelope.body));
    });
  }

  /** Sends a request; resolves with the answer. */
  request<T>(body: OutRequest): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("The link to the other thread is closed"));
    const id = this.#nextId++;
    const pending = Promise.withResolvers<unknown>();
    this.#pending.set(id, pending);
    this.#port.postMessage({ kind: "request", id, body });
    return pending.promise as Promise<T>;
  }

  /** Sends a notice. */
  notify(body: OutNotice): void {
    if (!this.#closed) this.#port.postMessage({ kind: "notice", body });
  }

  /** Rejects every request still waiting, and any later one (the other side is gone). */
  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      pending.reject(new Error("The other thread went away"));
    }
    this.#pending.clear();
  }

  async #answer(id: number, handle: () => unknown): Promise<void> {
    let reply: Reply;
    try {
      reply = { kind: "reply", id, value: await handle() };
    } catch (error) {
      reply = { kind: "reply", id, error: error instanceof Error ? error.message : String(error) };
    }
    if (!this.#closed) this.#port.postMessage(reply);
  }

  #settle(reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.error !== undefined) pending.reject(new Error(reply.error));
    else pending.resolve(reply.value);
  }
}
