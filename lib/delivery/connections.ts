/**
 * The lifecycle of the gateway's connections: an upgraded socket becomes a {@link Client} that
 * joins the hub once open, leaves it when closed, and gives its connection slot back when it is
 * finished for good (or given up after the close timeout); the process's queued-bytes bound may
 * close the clients with the most queued; a drain closes them all. Each step that an operator
 * should hear of is told to {@link ConnectionEvents}, which counts and logs it.
 *
 * @module
 */

import type { ConnectionLimits } from "./admission.ts";
import { Client, type ClientContext, type ClientOptions, type Release } from "./client.ts";
import type { ClientSocket } from "./client_socket.ts";
import { Drain, type DrainReport } from "./drain.ts";
import { EventStreamSocket, Heartbeat } from "./event_stream.ts";
import { Expiries } from "./expiries.ts";
import type { Hub } from "./hub.ts";
import { MemoryLimit } from "./memory_limit.ts";
import type { Backlog } from "./backlog_rule.ts";
import { QueuedBytesLimit } from "./queued_bytes_limit.ts";
import type { SharedQueuedBytes } from "./shared_queued_bytes.ts";
import type { SendQueues } from "./send_queues.ts";
import { cursorToken } from "../streams/frames.ts";
import { CLOSE_CODES } from "../client/close_codes.js";

/** How long a closing socket may take to confirm before it is given up, in ms. */
export const CLOSE_TIMEOUT_MS = 5000;

/** What is particular to one connection. */
export interface ConnectionOptions extends ClientOptions {
  /** When it must end, in Unix ms: its connection token expires. `null`: never. */
  readonly endsAtMs: number | null;
}

/** What happens to connections that an operator should hear of. */
export interface ConnectionEvents {
  /** A client left, closed by either side with `code`. */
  clientClosed(client: Client, code: number): void;
  /** A client was closed to bring the process under `MAX_QUEUED_BYTES`. */
  clientShed(client: Client, queuedBytes: number): void;
  /** A client was closed to bring the process under `MAX_RSS_BYTES`. */
  memoryShed(client: Client, residentBytes: number): void;
  /** A client was closed for breaking an inbound limit. */
  inboundViolation(client: Client, kind: "too_big" | "flood"): void;
  /** A closing socket was given up: its peer never confirmed. */
  closeTimedOut(): void;
}

/** What the connections report to and ask of. */
export interface ConnectionsContext {
  readonly hub: Hub;
  readonly queues: SendQueues;
  readonly limits: ConnectionLimits;
  /** Most bytes queued for all clients of the process (`MAX_QUEUED_BYTES`). */
  readonly maxQueuedBytes: number;
  /** How late publications may go out under overload before clients are shed, in ms. */
  readonly overloadLagMs: number;
  /** Most resident memory of the process (`MAX_RSS_BYTES`). */
  readonly maxResidentBytes: number;
  /** How often an idle event stream gets a comment line, in ms. */
  readonly heartbeatMs: number;
  /** Where this gateway's queued bytes are shared with the other workers'. */
  readonly sharedQueuedBytes: SharedQueuedBytes;
  /** The publications waiting for room. */
  readonly backlog: () => Backlog;
  readonly events: ConnectionEvents;
  /** A client opened and joined the hub (live, or recovering when it gave `?since=`). */
  readonly onOpen: (client: Client) => void;
}

/** Every connection of one gateway, from upgrade to release. */
export class Connections {
  readonly #context: ConnectionsContext;
  readonly #clientContext: ClientContext;
  readonly #drain = new Drain();
  readonly #budget: QueuedBytesLimit;
  readonly #memory: MemoryLimit;
  readonly #heartbeat: Heartbeat;
  readonly #expiries = new Expiries<Client>((client) => client.close(CLOSE_CODES.tokenExpired));
  #closeTimeouts = 0;

  /** Connections that report through `context`. */
  constructor(context: ConnectionsContext) {
    this.#context = context;
    this.#budget = new QueuedBytesLimit({
      maxBytes: context.maxQueuedBytes,
      shared: context.sharedQueuedBytes,
      clients: () => context.hub.all(),
      onShed: (client, queuedBytes) => context.events.clientShed(client, queuedBytes),
      backlog: context.backlog,
      overloadLagMs: context.overloadLagMs,
    });
    this.#memory = new MemoryLimit({
      maxBytes: context.maxResidentBytes,
      clients: () => context.hub.all(),
      onShed: (client, residentBytes) => context.events.memoryShed(client, residentBytes),
    });
    this.#memory.start();
    this.#heartbeat = new Heartbeat(context.heartbeatMs);
    this.#clientContext = {
      queues: context.queues,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      onOpen: (client) => this.#opened(client),
      onClose: (client, code) => this.#closed(client, code),
      onRelease: (client, release) => this.#released(client, release),
      onViolation: (client, kind) => context.events.inboundViolation(client, kind),
    };
  }

  /** Whether the drain has begun: not ready, refusing new clients. */
  get draining(): boolean {
    return this.#drain.active;
  }

  /**
   * Wraps an upgraded socket (or an event stream) whose slot was reserved; it joins its regions
   * once open. A client that asked for recovery (`?since=`) is recovering in each until caught up.
   * One whose token expires is closed then, told to come back with a new one.
   */
  accept(socket: ClientSocket, options: ConnectionOptions): Client {
    const client = new Client(socket, this.#clientContext, options);
    if (options.endsAtMs !== null) this.#expiries.add(client, options.endsAtMs);
    return client;
  }

  /**
   * Opens an event stream whose slot was reserved and returns the response that carries it; its
   * first event ids carry the cursors it resumes from.
   */
  openStream(options: ConnectionOptions): Response {
    const cursors = new Map<string, string>();
    for (const [region, cursor] of options.since ?? []) {
      if (cursor !== null) cursors.set(region, cursorToken(region, cursor));
    }
    const stream = new EventStreamSocket({
      regions: options.regions,
      cursors,
      heartbeat: this.#heartbeat,
    });
    this.accept(stream, options);
    return stream.response;
  }

  /** A frame of `frameBytes` went to `sockets` sockets: the process's bound may need a check. */
  handed(frameBytes: number, sockets: number): void {
    this.#budget.handed(frameBytes, sockets);
  }

  /** Whether the clients' queues have room for another broadcast (`queued_bytes_limit.ts`). */
  hasRoom(): boolean {
    return this.#budget.hasRoom();
  }

  /** The bytes queued for every open client now, measured. */
  queuedBytes(): number {
    return this.#budget.measure();
  }

  /** Stops watching the queued bytes, the memory and the expiries (the gateway is closing). */
  stop(): void {
    this.#budget.stop();
    this.#memory.stop();
    this.#expiries.stop();
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
    this.#expiries.delete(client);
    this.#context.hub.remove(client);
    this.#context.events.clientClosed(client, code);
  }

  #released(client: Client, release: Release): void {
    const { limits, events } = this.#context;
    limits.release(client.remoteAddress);
    if (release === "timed_out") {
      this.#closeTimeouts++;
      events.closeTimedOut();
    }
    this.#drain.released(limits.held);
  }
}
