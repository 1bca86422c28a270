/**
 * The local fan-out: region → connected clients. A broadcast serialises nothing and awaits
 * nothing: the caller hands over one frame, already serialised and measured, and every open client
 * of the region gets that same string, each send within the client's budget (`audience.ts`).
 *
 * A client catching up on a region (its history is being replayed) is "recovering" there: instead
 * of sending, the broadcast keeps the frame for it until the replay is done; then the client goes
 * live and gets what the replay did not already carry.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import { Audience, type BroadcastResult } from "./audience.ts";
import type { Client } from "./client.ts";
import type { QueueBounds } from "./queue_bounds.ts";
import type { Frame } from "../streams/frames.ts";

interface Held {
  readonly frames: Frame[];
  bytes: number;
}

/** Clients by region. */
export class Hub {
  readonly #live = new Map<string, Audience>();
  readonly #recovering = new Map<string, Map<Client, Held>>();
  readonly #maxHeldBytes: number;
  #size = 0;

  /**
   * Creates a hub for exactly these regions; other regions have no clients. A live client's queue
   * is bounded in `bounds`; a recovering client holding more than `maxHeldBytes` is closed as a
   * slow consumer.
   */
  constructor(
    regions: readonly string[],
    bounds: QueueBounds,
    options: { readonly maxHeldBytes: number },
  ) {
    for (const region of regions) {
      this.#live.set(region, new Audience(bounds));
      this.#recovering.set(region, new Map());
    }
    this.#maxHeldBytes = options.maxHeldBytes;
  }

  /** Number of clients in the hub. */
  get size(): number {
    return this.#size;
  }

  /** Adds `client` to each of its regions: live, or recovering until {@link goLive}. */
  add(client: Client, options: { readonly recovering: boolean }): void {
    for (const region of client.regions) {
      if (options.recovering) this.#recovering.get(region)?.set(client, { frames: [], bytes: 0 });
      else this.#live.get(region)?.add(client);
    }
    this.#size++;
  }

  /** Makes a recovering client live in `region`; returns the frames kept for it meanwhile. */
  goLive(client: Client, region: string): readonly Frame[] {
    const held = this.#recovering.get(region)?.get(client);
    if (held === undefined) return [];
    this.#recovering.get(region)?.delete(client);
    this.#live.get(region)?.add(client);
    return held.frames;
  }

  /** Removes `client` from every region. Call once per added client. */
  remove(client: Client): void {
    for (const region of client.regions) {
      this.#live.get(region)?.remove(client);
      this.#recovering.get(region)?.delete(client);
    }
    this.#size--;
  }

  /** Number of clients subscribed to `region`, live or recovering. */
  count(region: string): number {
    return (this.#live.get(region)?.size ?? 0) + (this.#recovering.get(region)?.size ?? 0);
  }

  /** Every client, once each, whatever its regions. */
  all(): Set<Client> {
    const clients = new Set<Client>();
    for (const audience of this.#live.values()) {
      for (const client of audience.clients) clients.add(client);
    }
    for (const map of this.#recovering.values()) {
      for (const client of map.keys()) clients.add(client);
    }
    return clients;
  }

  /** Sends `frame` to `region`'s live clients and holds it for the recovering ones. */
  broadcast(region: string, frame: Frame): BroadcastResult {
    const result: BroadcastResult = { delivered: 0, skipped: 0, dropped: 0 };
    this.#live.get(region)?.broadcast(frame.text, frame.bytes, result);
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
