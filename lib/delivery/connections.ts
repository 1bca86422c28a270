/**
 * The lifecycle of the gateway's connections: an upgraded socket becomes a {@link Client} that
 * joins the hub once open, leaves it when closed, and gives its connection slot back when it is
 * finished for good (or given up after the close timeout); the process's queued-bytes bound may
 * close the clients with the most queued; a drain closes them all. What each step does to the
 * metrics and the logs is decided here, once.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { ConnectionLimits } from "./admission.ts";
import type { EventLogs } from "../observe/event_logs.ts";
import type { Metrics } from "../observe/metrics.ts";
import { Client, type ClientContext, type ClientOptions } from "./client.ts";
import { Drain, type DrainReport } from "./drain.ts";
import type { Hub } from "./hub.ts";
import { ProcessBudget } from "./process_budget.ts";
import type { QueueBoard } from "./queue_board.ts";
import type { QueueBounds } from "./queue_bounds.ts";

/** How long a closing socket may take to confirm before it is given up, in ms. */
export const CLOSE_TIMEOUT_MS = 5000;

/** What the connections report to and ask of. */
export interface ConnectionsContext {
  readonly hub: Hub;
  readonly bounds: QueueBounds;
  readonly limits: ConnectionLimits;
  /** Most bytes queued for all clients of the process (`MAX_QUEUED_BYTES`). */
  readonly maxQueuedBytes: number;
  /** Where this gateway's queued bytes are shared with the other workers'. */
  readonly board: QueueBoard;
  readonly metrics: Metrics;
  readonly logs: EventLogs;
  /** A client opened and joined the hub (live, or recovering when it gave `?since=`). */
  readonly onOpen: (client: Client) => void;
}

/** Every connection of one gateway, from upgrade to release. */
export class Connections {
  readonly #context: ConnectionsContext;
  readonly #clientContext: ClientContext;
  readonly #drain = new Drain();
  readonly #budget: ProcessBudget;
  #closeTimeouts = 0;

  /** Connections that report through `context`. */
  constructor(context: ConnectionsContext) {
    this.#context = context;
    this.#budget = new ProcessBudget({
      maxBytes: context.maxQueuedBytes,
      board: context.board,
      clients: () => context.hub.all(),
      onShed: (client, queuedBytes) => {
        context.metrics.overloadCloses.inc();
        context.logs.closes.record("overload", {
          reason: "overload",
          address: client.remoteAddress,
          queuedBytes,
        });
      },
    });
    this.#clientContext = {
      bounds: context.bounds,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      onOpen: (client) => this.#opened(client),
      onClose: (client, code) => this.#closed(client, code),
      onRelease: (client, timedOut) => this.#released(client, timedOut),
      onViolation: (client, kind) => {
        context.metrics.inboundViolations.inc({ kind });
        context.logs.closes.record(kind, { reason: kind, address: client.remoteAddress });
      },
    };
  }

  /** Whether the drain has begun: not ready, refusing new clients. */
  get draining(): boolean {
    return this.#drain.active;
  }

  /**
   * Wraps an upgraded socket whose slot was reserved; it joins its regions once open. A client that
   * asked for recovery (`?since=`) is recovering in each until caught up.
   */
  accept(socket: WebSocket, options: ClientOptions): Client {
    return new Client(socket, this.#clientContext, options);
  }

  /** `bytes` were handed to client sockets: the process's bound may need a check. */
  handed(bytes: number): void {
    this.#budget.handed(bytes);
  }

  /** The bytes queued for every open client now, measured. */
  queuedBytes(): number {
    return this.#budget.measure();
  }

  /** Stops watching the queued bytes (the gateway is closing). */
  stop(): void {
    this.#budget.stop();
  }

  /** Gives back the slot of a reserved handshake that did not upgrade. */
  cancel(address: string): void {
    this.#context.limits.release(address);
  }

  /**
   * Closes every client with the restart code, spread over `windowMs` (`drain.ts`), and reports
   * what it did, with the close timeouts it met.
   */
  async drain(windowMs: number): Promise<DrainReport & { readonly closeTimeouts: number }> {
    const before = this.#closeTimeouts;
    const { hub, limits } = this.#context;
    const report = await this.#drain.run({
      open: () => hub.all(),
      held: () => limits.held,
      openCount: () => hub.size,
    }, windowMs);
    return { ...report, closeTimeouts: this.#closeTimeouts - before };
  }

  #opened(client: Client): void {
    this.#context.hub.add(client, { recovering: client.since !== null });
    this.#drain.opened(client);
    this.#context.onOpen(client);
  }

  #closed(client: Client, code: number): void {
    const { hub, metrics, logs } = this.#context;
    hub.remove(client);
    metrics.disconnects.inc({ code: String(code) });
    if (code === CLOSE_CODES.slowConsumer.code) {
      metrics.slowConsumerCloses.inc();
      logs.closes.record("slow_consumer", {
        reason: "slow_consumer",
        address: client.remoteAddress,
        regions: client.regions,
      });
    }
  }

  #released(client: Client, timedOut: boolean): void {
    const { limits, metrics } = this.#context;
    limits.release(client.remoteAddress);
    if (timedOut) {
      this.#closeTimeouts++;
      metrics.closeTimeouts.inc();
    }
    this.#drain.released(limits.held);
  }
}
