/**
 * The live clients of one region, laid out for the broadcast loop: their sockets and the slots of
 * their queued-bytes bounds (`queue_bounds.ts`) in parallel arrays. A send then reads a socket and
 * one number, never the client object; a client the frame would take over its budget goes through
 * {@link Client.send}, which measures the socket and decides whether it is a slow consumer.
 *
 * @module
 */

import { type Client, SendOutcome } from "./client.ts";
import type { QueueBounds } from "./queue_bounds.ts";

/** Counts of one broadcast. */
export interface BroadcastResult {
  /** Frames handed to sockets. */
  delivered: number;
  /** Clients whose socket was not open. */
  skipped: number;
  /** Clients over their byte budget, now closed as slow consumers. */
  dropped: number;
}

/** One region's live clients. */
export class Audience {
  readonly #bounds: QueueBounds;
  readonly #clients: Client[] = [];
  readonly #sockets: WebSocket[] = [];
  readonly #slots: number[] = [];
  readonly #index = new Map<Client, number>();

  /** An empty audience whose clients' queues are bounded in `bounds`. */
  constructor(bounds: QueueBounds) {
    this.#bounds = bounds;
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

  /** Sends `frame` of `bytes` UTF-8 bytes to every client, adding to `result`. Never throws. */
  broadcast(frame: string, bytes: number, result: BroadcastResult): void {
    const bounds = this.#bounds.values;
    const budget = this.#bounds.budget;
    const sockets = this.#sockets;
    const slots = this.#slots;
    // Downwards: a client closed as slow is replaced by the last one, which was already served.
    for (let i = sockets.length - 1; i >= 0; i--) {
      const slot = slots[i]!;
      const bound = bounds[slot]! + bytes;
      if (bound > budget) {
        const outcome = this.#clients[i]!.send(frame, bytes);
        if (outcome === SendOutcome.Delivered) result.delivered++;
        else if (outcome === SendOutcome.Dropped) result.dropped++;
        else result.skipped++;
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
