/**
 * Connection limits: how many sockets the process holds in all and per client address. A socket
 * counts from its upgrade until it is released (closed for good, or given up after the close
 * timeout), because until then it still holds memory: a stalled peer cannot escape the limit by
 * getting itself closed. {@link Admission} keeps the counts; a gateway asks through
 * {@link ConnectionLimits}, in its own thread ({@link LocalLimits}) or, with several workers, from
 * the one thread that keeps the counts for all (`workers/`).
 *
 * @module
 */

import { HANDSHAKE_REFUSALS, type Refusal } from "../client/close_codes.js";
import { addressGroup } from "../net/ip_address.ts";

/** Options of {@link Admission}. */
export interface AdmissionOptions {
  /** Most sockets in all. */
  readonly maxConnections: number;
  /** Most sockets per client address (an IPv6 client by its prefix). */
  readonly maxConnectionsPerIp: number;
  /** Bits of an IPv6 address that name one client for the per-address limit (64: a /64). */
  readonly ipv6PrefixLength: number;
}

/** The limits a reload may change: how many, not how addresses are grouped. */
export type AdmissionLimits = Pick<AdmissionOptions, "maxConnections" | "maxConnectionsPerIp">;

/** Counts sockets against the limits. */
export class Admission {
  #options: AdmissionOptions;
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
    return this.#refusal(this.#group(address));
  }

  /** Counts against `limits` from now on; sockets already held over them stay. */
  relimit(limits: AdmissionLimits): void {
    const { maxConnections, maxConnectionsPerIp } = limits;
    this.#options = { ...this.#options, maxConnections, maxConnectionsPerIp };
  }

  /** Reserves a slot for a socket from `address`, or returns the refusal when it does not fit. */
  reserve(address: string): Refusal | undefined {
    const group = this.#group(address);
    const refusal = this.#refusal(group);
    if (refusal !== undefined) return refusal;
    this.#total++;
    this.#byAddress.set(group, (this.#byAddress.get(group) ?? 0) + 1);
    return undefined;
  }

  /** Forgets one socket from `address`. */
  release(address: string): void {
    const group = this.#group(address);
    const count = this.#byAddress.get(group) ?? 0;
    if (count === 0) return;
    this.#total--;
    if (count === 1) this.#byAddress.delete(group);
    else this.#byAddress.set(group, count - 1);
  }

  #group(address: string): string {
    return addressGroup(address, this.#options.ipv6PrefixLength);
  }

  #refusal(group: string): Refusal | undefined {
    if (this.#total >= this.#options.maxConnections) return HANDSHAKE_REFUSALS.tooManyConnections;
    if ((this.#byAddress.get(group) ?? 0) >= this.#options.maxConnectionsPerIp) {
      return HANDSHAKE_REFUSALS.tooManyConnectionsPerIp;
    }
    return undefined;
  }
}

/** How a gateway reserves and releases connection slots; `held` is how many it holds. */
export interface ConnectionLimits {
  /** Slots this gateway holds: sockets connecting, open, or closing unconfirmed. */
  readonly held: number;
  /** The refusal a new socket from `address` would get now, or `undefined` if it fits. */
  check(address: string): Promise<Refusal | undefined>;
  /** Reserves a slot for `address`, or returns the refusal when it does not fit. */
  reserve(address: string): Promise<Refusal | undefined>;
  /** Gives back one slot of `address`. */
  release(address: string): void;
}

/** The limits of a gateway that is the whole process: its own {@link Admission}. */
export class LocalLimits implements ConnectionLimits {
  readonly #admission: Admission;

  /** Limits counted here. */
  constructor(options: AdmissionOptions) {
    this.#admission = new Admission(options);
  }

  /** Slots held. */
  get held(): number {
    return this.#admission.total;
  }

  /** The refusal a new socket from `address` would get now. */
  check(address: string): Promise<Refusal | undefined> {
    return Promise.resolve(this.#admission.check(address));
  }

  /** Reserves a slot for `address`, or returns the refusal. */
  reserve(address: string): Promise<Refusal | undefined> {
    return Promise.resolve(this.#admission.reserve(address));
  }

  /** Counts against `limits` from now on (a reload). */
  relimit(limits: AdmissionLimits): void {
    this.#admission.relimit(limits);
  }

  /** Gives back one slot of `address`. */
  release(address: string): void {
    this.#admission.release(address);
  }
}
