/**
 * A worker's connection limits: the supervisor keeps the counts of the whole process, so that
 * `MAX_CONNECTIONS` and `MAX_CONNECTIONS_PER_IP` hold however the kernel spreads connections over
 * the workers. A handshake waits for one round trip to the supervisor, a release is a notice.
 *
 * @module
 */

import type { Refusal } from "../../client/close_codes.js";
import type { ConnectionLimits } from "../../delivery/admission.ts";

/** How the worker reaches the supervisor. */
export interface LimitsLink {
  request<T>(body: { readonly type: "reserve" | "check"; readonly address: string }): Promise<T>;
  notify(body: { readonly type: "release"; readonly address: string }): void;
}

/** Limits counted by the supervisor for every worker. */
export class RemoteLimits implements ConnectionLimits {
  readonly #link: LimitsLink;
  #held = 0;

  /** Limits asked over `link`. */
  constructor(link: LimitsLink) {
    this.#link = link;
  }

  /** Slots this worker holds. */
  get held(): number {
    return this.#held;
  }

  /** The refusal a new socket from `address` would get now. */
  async check(address: string): Promise<Refusal | undefined> {
    return await this.#link.request<Refusal | null>({ type: "check", address }) ?? undefined;
  }

  /** Reserves a slot of the process for `address`, or returns the refusal. */
  async reserve(address: string): Promise<Refusal | undefined> {
    const refusal = await this.#link.request<Refusal | null>({ type: "reserve", address });
    if (refusal !== null) return refusal;
    this.#held++;
    return undefined;
  }

  /** Gives back one slot of `address`. */
  release(address: string): void {
    if (this.#held === 0) return;
    this.#held--;
    this.#link.notify({ type: "release", address });
  }
}
