/**
 * One worker thread as the supervisor holds it: the `Worker`, the messenger over it, when it last
 * answered a ping, and the port it listens on once it does. An error that escapes the worker is
 * caught here (left alone it would end the whole process) and reported, so the worker is replaced.
 *
 * @module
 */

import type { BrokerState } from "../../brokers/broker.ts";
import { Messenger } from "./messenger.ts";
import type {
  SupervisorNotice,
  SupervisorRequest,
  WorkerNotice,
  WorkerRequest,
  WorkerStart,
} from "./protocol.ts";

/** How a worker is started and what its messages do. */
export interface WorkerHandleOptions {
  readonly start: WorkerStart;
  /** The embedded broker's state to tell it at once, when there is one. */
  readonly brokerState: BrokerState | undefined;
  readonly onRequest: (body: WorkerRequest) => unknown;
  readonly onRelease: (address: string) => void;
  /** Writes one of its log lines. */
  readonly onLog: (line: string) => void;
  /** The worker died: an error escaped it, or it failed to start. */
  readonly onError: (message: string) => void;
}

/** A running worker. */
export class WorkerHandle {
  /** Its place in the process, kept by its replacements. */
  readonly index: number;
  /** Resolves with its port once it listens; rejects if it dies before. */
  readonly listening: Promise<number>;
  readonly #worker: Worker;
  readonly #messenger: Messenger<SupervisorRequest, SupervisorNotice, WorkerRequest, WorkerNotice>;
  #answeredAt = performance.now();
  #pinging = false;
  #ended = false;

  /** Starts worker `index` with `options.start`. */
  constructor(index: number, options: WorkerHandleOptions) {
    this.index = index;
    const listening = Promise.withResolvers<number>();
    this.listening = listening.promise;
    this.#worker = new Worker(new URL("./worker_main.ts", import.meta.url), { type: "module" });
    this.#worker.addEventListener("error", (event) => {
      event.preventDefault();
      listening.reject(new Error(event.message));
      if (!this.#ended) options.onError(event.message);
    });
    this.#messenger = new Messenger(this.#worker, {
      request: options.onRequest,
      notice: (body) => {
        if (body.type === "listening") listening.resolve(body.port);
        else if (body.type === "release") options.onRelease(body.address);
        else options.onLog(body.line);
      },
    });
    this.#messenger.notify(options.start);
    if (options.brokerState !== undefined) this.brokerState(options.brokerState);
  }

  /** Asks the worker something. */
  request<T>(body: SupervisorRequest): Promise<T> {
    return this.#messenger.request<T>(body);
  }

  /** Hands it a publication of the embedded broker. */
  publication(region: string, payload: Uint8Array): void {
    this.#messenger.notify({ type: "publication", region, payload });
  }

  /** Tells it the embedded broker's state. */
  brokerState(state: BrokerState): void {
    this.#messenger.notify({ type: "broker-state", state });
  }

  /** Pings it, unless a ping is still out. */
  ping(): void {
    if (this.#pinging) return;
    this.#pinging = true;
    this.request({ type: "ping" }).then(() => {
      this.#answeredAt = performance.now();
      this.#pinging = false;
    }, () => {});
  }

  /** How long since it last answered a ping, in ms. */
  silentFor(): number {
    return performance.now() - this.#answeredAt;
  }

  /** Ends the thread. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#messenger.close();
    this.#worker.terminate();
  }
}
