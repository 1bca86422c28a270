/**
 * The supervisor's count of the process's connections: one {@link Admission} for all workers, and
 * what each worker holds, so that the slots of a worker that dies are given back with it.
 *
 * @module
 */

import type { Refusal } from "../../client/close_codes.js";
import {
  Admission,
  type AdmissionLimits,
  type AdmissionOptions,
} from "../../delivery/admission.ts";

/** The process's connection slots, by worker. */
export class AdmissionAuthority {
  readonly #admission: Admission;
  /** Slots by address, per worker. */
  readonly #held = new Map<number, Map<string, number>>();

  /** Counts against `options` for every worker together. */
  constructor(options: AdmissionOptions) {
    this.#admission = new Admission(options);
  }

  /** Slots held in all. */
  get total(): number {
    return this.#admission.total;
  }

  /** The refusal a new socket from `address` would get now. */
  check(address: string): Refusal | undefined {
    return this.#admission.check(address);
  }

  /** Reserves a slot for `worker`'s socket from `address`, or returns the refusal. */
  reserve(worker: number, address: string): Refusal | undefined {
    const refusal = this.#admission.reserve(address);
    if (refusal !== undefined) return refusal;
    const held = this.#held.get(worker) ?? new Map<string, number>();
    held.set(address, (held.get(address) ?? 0) + 1);
    this.#held.set(worker, held);
    return undefined;
  }

  /** Counts against `limits` from now on (a reload). */
  relimit(limits: AdmissionLimits): void {
    this.#admission.relimit(limits);
  }

  /** Gives back one of `worker`'s slots of `address`. */
  release(worker: number, address: string): void {
    const held = this.#held.get(worker);
    const count = held?.get(address) ?? 0;
    if (held === undefined || count === 0) return;
    if (count === 1) held.delete(address);
    else held.set(address, count - 1);
    this.#admission.release(address);
  }

  /** Gives back every slot of `worker` (it is gone, and its sockets with it). */
  releaseAll(worker: number): void {
    for (const [address, count] of this.#held.get(worker) ?? []) {
      for (let i = 0; i < count; i++) this.#admission.release(address);
    }
    this.#held.delete(worker);
  }
}
