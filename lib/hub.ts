/**
 * The local fan-out: region → connected clients. A broadcast serialises nothing and awaits
 * nothing: the caller hands over one frame, already serialised and measured, and every open client
 * of the region gets that same string, each send guarded on its own.
 *
 * @module
 */

import { type Client, SendOutcome } from "./client.ts";

/** Counts of one broadcast. */
export interface BroadcastResult {
  /** Frames handed to sockets. */
  delivered: number;
  /** Clients of the region whose socket was not open. */
  skipped: number;
  /** Clients over their byte budget, now closed as slow consumers. */
  dropped: number;
}

/** Clients by region. */
export class Hub {
  readonly #clients = new Map<string, Set<Client>>();
  #size = 0;

  /** Creates a hub for exactly these regions; other regions have no clients. */
  constructor(regions: readonly string[]) {
    for (const region of regions) this.#clients.set(region, new Set());
  }

  /** Number of clients in the hub. */
  get size(): number {
    return this.#size;
  }

  /** Adds `client` to each of its regions. */
  add(client: Client): void {
    for (const region of client.regions) this.#clients.get(region)?.add(client);
    this.#size++;
  }

  /** Removes `client` from every region. Call once per added client. */
  remove(client: Client): void {
    for (const region of client.regions) this.#clients.get(region)?.delete(client);
    this.#size--;
  }

  /** Number of clients subscribed to `region`. */
  count(region: string): number {
    return this.#clients.get(region)?.size ?? 0;
  }

  /** Every client, once each, whatever its regions. */
  all(): Set<Client> {
    const clients = new Set<Client>();
    for (const set of this.#clients.values()) for (const client of set) clients.add(client);
    return clients;
  }

  /** Sends `frame`, `bytes` long in UTF-8, to every client of `region`. */
  broadcast(region: string, frame: string, bytes: number): BroadcastResult {
    const result: BroadcastResult = { delivered: 0, skipped: 0, dropped: 0 };
    const clients = this.#clients.get(region);
    if (clients === undefined) return result;
    // A client dropped as slow removes itself from `clients` during the loop; Set iteration
    // allows deleting the current element.
    for (const client of clients) {
      const outcome = client.send(frame, bytes);
      if (outcome === SendOutcome.Delivered) result.delivered++;
      else if (outcome === SendOutcome.Dropped) result.dropped++;
      else result.skipped++;
    }
    return result;
  }
}
