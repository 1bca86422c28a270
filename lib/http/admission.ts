/**
 * Connection limits: how many sockets the gateway holds in all and per client address. A socket
 * counts from its upgrade until it is released (closed for good, or given up after the close
 * timeout), because until then it still holds memory: a stalled peer cannot escape the limit by
 * getting itself closed.
 *
 * @module
 */

import { HANDSHAKE_REFUSALS, type Refusal } from "../../static/close_codes.js";

/** Options of {@link Admission}. */
export interface AdmissionOptions {
  /** Most sockets in all. */
  readonly maxConnections: number;
  /** Most sockets per client address. */
  readonly maxConnectionsPerIp: number;
}

/** Counts sockets against the limits. */
export class Admission {
  readonly #options: AdmissionOptions;
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  /** Creates empty counters. */
  constructor(options: AdmissionOptions) {
    this.#options = options;
  }

  /** Sockets held in all. */
  get total(): number {
    return this.#total;
  }

  /** The refusal a new socket from `address` would get now, or `undefined` if it fits. */
  check(address: string): Refusal | undefined {
    if (this.#total >= this.#options.maxConnections) return HANDSHAKE_REFUSALS.tooManyConnections;
    if ((this.#byAddress.get(address) ?? 0) >= this.#options.maxConnectionsPerIp) {
      return HANDSHAKE_REFUSALS.tooManyConnectionsPerIp;
    }
    return undefined;
  }

  /** Reserves a slot for a socket from `address`, or returns the refusal when it does not fit. */
  reserve(address: string): Refusal | undefined {
    const refusal = this.check(address);
    if (refusal !== undefined) return refusal;
    this.#total++;
    this.#byAddress.set(address, (this.#byAddress.get(address) ?? 0) + 1);
    return undefined;
  }

  /** Forgets one socket from `address`. */
  release(address: string): void {
    const count = this.#byAddress.get(address) ?? 0;
    if (count === 0) return;
    this.#total--;
    if (count === 1) this.#byAddress.delete(address);
    else this.#byAddress.set(address, count - 1);
  }
}
