/**
 * The local fan-out: region → connected clients. A broadcast serialises nothing and awaits
 * nothing: the caller hands over one frame, already serialised and measured, and every open client
 * of the region gets that same string, each send within the client's budget.
 *
 * The hot path, from a Redis message to a client's send, in four files: `brokers/redis.ts` (the
 * subscriber's callback), `gateway/publications.ts` (pacing, validation, de-duplication, the
 * frame), this one (every socket of the region), and `delivery/client.ts` (a client the frame
 * would take over its budget).
 *
 * A region's live clients are laid out for the send loop ({@link Audience}): their sockets and the
 * slots of their queued-bytes bounds (`send_queues.ts`) in parallel arrays, so a send reads a
 * socket and one number, never the client object.
 *
 * Clients over Server-Sent Events (`event_stream.ts`) are kept apart, in a set per region served
 * through {@link Client.send}: the WebSocket loop sees WebSocket sockets only, so its one call site
 * stays monomorphic, as fast as it was without them.
 *
 * A client catching up on a region (its history is being replayed) is "recovering" there: instead
 * of sending, the broadcast keeps the frame for it until the replay is done; then the client goes
 * live and gets what the replay did not already carry.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Frame } from "../streams/frames.ts";
import { type Client, SendOutcome } from "./client.ts";
import type { ClientSocket, Transport } from "./client_socket.ts";
import type { SendQueues } from "./send_queues.ts";

/** Counts of one broadcast. */
export interface BroadcastResult {
  /** Frames handed to sockets. */
  delivered: number;
  /** Clients whose socket was not open. */
  skipped: number;
  /** Clients over their byte budget, now closed as slow consumers. */
  dropped: number;
}

/** One region's live clients, laid out for the send loop. */
export class Audience {
  readonly #queues: SendQueues;
  readonly #clients: Client[] = [];
  readonly #sockets: ClientSocket[] = [];
  readonly #slots: number[] = [];
  readonly #index = new Map<Client, number>();

  /** An empty audience whose clients' queues are bounded in `queues`. */
  constructor(queues: SendQueues) {
    this.#queues = queues;
  }

  /** Number of clients. */
  get size(): number {
    return this.#clients.length;
  }

  /** The clients, in no particular order. */
  get clients(): readonly Client[] {
    return this.#clients;
  }

  /** Adds an open client that is not here yet (a client's regions are distinct). */
  add(client: Client): void {
    this.#index.set(client, this.#clients.length);
    this.#clients.push(client);
    this.#sockets.push(client.socket);
    this.#slots.push(client.slot);
  }

  /** Removes `client` if it is here; the last client takes its place. */
  remove(client: Client): void {
    const index = this.#index.get(client);
    if (index === undefined) return;
    this.#index.delete(client);
    const last = this.#clients.length - 1;
    if (index !== last) {
      const moved = this.#clients[last]!;
      this.#clients[index] = moved;
      this.#sockets[index] = this.#sockets[last]!;
      this.#slots[index] = this.#slots[last]!;
      this.#index.set(moved, index);
    }
    this.#clients.pop();
    this.#sockets.pop();
    this.#slots.pop();
  }

  /**
   * Sends `frame` of `bytes` UTF-8 bytes to every client, adding to `result`. A client the frame
   * would take over its budget goes through {@link Client.send}, which measures its socket and
   * decides whether it is a slow consumer. Never throws.
   */
  broadcast(frame: string, bytes: number, result: BroadcastResult): void {
    const bounds = this.#queues.values;
    const budget = this.#queues.budget;
    const sockets = this.#sockets;
    const slots = this.#slots;
    // Downwards: a client closed as slow is replaced by the last one, which was already served.
    for (let i = sockets.length - 1; i >= 0; i--) {
      const slot = slots[i]!;
      const bound = bounds[slot]! + bytes;
      if (bound > budget) {
        count(this.#clients[i]!.send(frame, bytes), result);
        continue;
      }
      try {
        sockets[i]!.send(frame);
      } catch {
        // Closing on the runtime's side already; its close event removes the client.
        result.skipped++;
        continue;
      }
      bounds[slot] = bound;
      result.delivered++;
    }
  }
}

interface Held {
  readonly frames: Frame[];
  bytes: number;
}

/** Adds the outcome of one {@link Client.send} to `result`. */
function count(outcome: SendOutcome, result: BroadcastResult): void {
  if (outcome === SendOutcome.Delivered) result.delivered++;
  else if (outcome === SendOutcome.Dropped) result.dropped++;
  else result.skipped++;
}

/** Clients by region. */
export class Hub {
  readonly #live = new Map<string, Audience>();
  readonly #streams = new Map<string, Set<Client>>();
  readonly #transports: Record<Transport, number> = { websocket: 0, sse: 0 };
  readonly #recovering = new Map<string, Map<Client, Held>>();
  /** Every client once, kept as they come and go: the limits read it often under load. */
  readonly #all = new Set<Client>();
  readonly #maxHeldBytes: number;

  /**
   * Creates a hub for exactly these regions; other regions have no clients. A live client's queue
   * is bounded in `queues`; a recovering client holding more than `maxHeldBytes` is closed as a
   * slow consumer.
   */
  constructor(
    regions: readonly string[],
    queues: SendQueues,
    options: { readonly maxHeldBytes: number },
  ) {
    for (const region of regions) {
      this.#live.set(region, new Audience(queues));
      this.#streams.set(region, new Set());
      this.#recovering.set(region, new Map());
    }
    this.#maxHeldBytes = options.maxHeldBytes;
  }

  /** Number of clients in the hub. */
  get size(): number {
    return this.#all.size;
  }

  /** Clients of `region`, live or recovering. */
  viewers(region: string): number {
    return this.count(region);
  }

  /** Number of clients in the hub over `transport`. */
  sizeOf(transport: Transport): number {
    return this.#transports[transport];
  }

  /** Adds `client` to each of its regions: live, or recovering until {@link goLive}. */
  add(client: Client, options: { readonly recovering: boolean }): void {
    for (const region of client.regions) {
      if (options.recovering) this.#recovering.get(region)?.set(client, { frames: [], bytes: 0 });
      else this.#join(client, region);
    }
    this.#all.add(client);
    this.#transports[client.transport]++;
  }

  /** Makes a recovering client live in `region`; returns the frames kept for it meanwhile. */
  goLive(client: Client, region: string): readonly Frame[] {
    const held = this.#recovering.get(region)?.get(client);
    if (held === undefined) return [];
    this.#recovering.get(region)?.delete(client);
    this.#join(client, region);
    return held.frames;
  }

  #join(client: Client, region: string): void {
    if (client.transport === "sse") this.#streams.get(region)?.add(client);
    else this.#live.get(region)?.add(client);
  }

  /** Removes `client` from every region. Call once per added client. */
  remove(client: Client): void {
    for (const region of client.regions) {
      this.#live.get(region)?.remove(client);
      this.#streams.get(region)?.delete(client);
      this.#recovering.get(region)?.delete(client);
    }
    this.#all.delete(client);
    this.#transports[client.transport]--;
  }

  /** Number of clients subscribed to `region`, live or recovering. */
  count(region: string): number {
    return (this.#live.get(region)?.size ?? 0) + (this.#streams.get(region)?.size ?? 0) +
      (this.#recovering.get(region)?.size ?? 0);
  }

  /** Every client, once each, whatever its regions: the hub's own set, changing as they leave. */
  all(): ReadonlySet<Client> {
    return this.#all;
  }

  /** Sends `frame` to `region`'s live clients and holds it for the recovering ones. */
  broadcast(region: string, frame: Frame): BroadcastResult {
    const result: BroadcastResult = { delivered: 0, skipped: 0, dropped: 0 };
    this.#live.get(region)?.broadcast(frame.text, frame.bytes, result);
    const streams = this.#streams.get(region);
    if (streams !== undefined && streams.size > 0) {
      // A stream closed as slow leaves the set while it is iterated: a Set allows that.
      for (const client of streams) count(client.send(frame.text, frame.bytes), result);
    }
    const recovering = this.#recovering.get(region);
    if (recovering !== undefined && recovering.size > 0) {
      for (const [client, holding] of recovering) {
        holding.frames.push(frame);
        holding.bytes += frame.bytes;
        if (holding.bytes > this.#maxHeldBytes) {
          client.close(CLOSE_CODES.slowConsumer);
          result.dropped++;
        }
      }
    }
    return result;
  }
}
