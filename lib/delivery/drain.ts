/**
 * The drain of a stopping gateway: its clients are closed with the restart code (1012) in batches
 * spread over a window, so that a deploy does not make every client reconnect in the same instant.
 * Handshakes still in flight when it begins join a later batch; sockets that open after the window
 * are closed at once. It ends when every socket is released, or shortly after the last batch.
 *
 * @module
 */

import { CLOSE_CODES } from "../client/close_codes.js";
import type { Client } from "./client.ts";

/** Interval between two batches, in ms. */
const TICK_MS = 100;
/**
 * After the last batch, how long the drain waits for close handshakes, in ms. Long enough for
 * every close frame to be written (stopping the server earlier cuts sockets with 1001 instead of
 * 1012), short enough that reconnecting clients soon meet a closed port instead of a draining one.
 */
const FLUSH_MS = 500;

/** The sockets a drain closes. */
export interface DrainSockets {
  /** The open clients. */
  open(): Iterable<Client>;
  /** Sockets that still hold a slot: connecting, open, or closing unconfirmed. */
  held(): number;
  /** Of those, how many are open. */
  openCount(): number;
}

/** What a drain did. */
export interface DrainReport {
  /** Clients it closed. */
  readonly clients: number;
  /** Sockets whose close was not confirmed when it ended. */
  readonly unconfirmed: number;
  readonly ms: number;
}

/** A gateway's drain: idle until {@link run}, then for good. */
export class Drain {
  #active = false;
  /** Clients yet to close, oldest first; `null` once the window has passed. */
  #queue: Client[] | null = [];
  /** Ends the final wait once no socket is held. */
  #onIdle: (() => void) | undefined;

  /** Whether the drain has begun: the gateway is not ready and takes no new client. */
  get active(): boolean {
    return this.#active;
  }

  /** A client opened: while draining, it leaves with a later batch, or at once past the window. */
  opened(client: Client): void {
    if (!this.#active) return;
    if (this.#queue === null) client.close(CLOSE_CODES.serviceRestart);
    else this.#queue.push(client);
  }

  /** A socket was released, `held` sockets remain: the drain's last wait ends at none. */
  released(held: number): void {
    if (held === 0) this.#onIdle?.();
  }

  /** Closes every client of `sockets` over `windowMs`; resolves as the module says. */
  async run(sockets: DrainSockets, windowMs: number): Promise<DrainReport> {
    this.#active = true;
    const started = performance.now();
    const queue = this.#queue ?? [];
    queue.push(...sockets.open());
    const clients = queue.length;
    const ticks = Math.max(1, Math.floor(windowMs / TICK_MS));
    // Sockets still connecting (or closing) may yet open and join the queue.
    const pending = () => queue.length > 0 || sockets.held() > sockets.openCount();
    for (let tick = 0; tick < ticks && pending(); tick++) {
      const batch = queue.splice(0, Math.ceil(queue.length / (ticks - tick)));
      for (const client of batch) client.close(CLOSE_CODES.serviceRestart);
      if (tick + 1 < ticks) await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    // Past the window, whatever opened in its last moments goes at once, and so will later ones.
    this.#queue = null;
    for (const client of queue.splice(0)) client.close(CLOSE_CODES.serviceRestart);
    if (sockets.held() > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setTimeout(resolve, FLUSH_MS);
      });
      clearTimeout(timer);
    }
    return { clients, unconfirmed: sockets.held(), ms: Math.round(performance.now() - started) };
  }
}
