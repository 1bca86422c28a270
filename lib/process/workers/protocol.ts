/**
 * The messages between the supervisor (the process's main thread) and its workers. A worker is a
 * whole gateway on the shared port; the supervisor keeps what must hold for the process: the
 * connection counts, the embedded broker when there is no Redis, readiness, the metrics of all
 * workers together, the drain, and the workers themselves.
 *
 * Requests carry an `id` and are answered by a `reply` with the same `id`.
 *
 * @module
 */

import type { BrokerState } from "../../brokers/broker.ts";
import type { SettingValues } from "../../config/config.ts";
import type { RelayCall } from "../../brokers/relay.ts";

/** What a worker starts with. */
export interface WorkerStart {
  readonly type: "start";
  /** 0-based, stable across replacements: logs and metrics name it. */
  readonly worker: number;
  readonly settings: SettingValues;
  /** Shared memory of the process's queued bytes, one entry per worker (`shared_queued_bytes.ts`). */
  readonly board: SharedArrayBuffer;
  /** Whether the embedded broker runs in the supervisor (no `REDIS_URL`). */
  readonly relayBroker: boolean;
}

/** Requests a worker sends the supervisor. */
export type WorkerRequest =
  | { readonly type: "reserve" | "check"; readonly address: string }
  | { readonly type: "scrape" | "status" }
  | { readonly type: "readiness" }
  | { readonly type: "broker"; readonly call: RelayCall };

/** Requests the supervisor sends a worker. */
export type SupervisorRequest =
  | { readonly type: "snapshot" | "viewers" }
  | { readonly type: "local-readiness" }
  | { readonly type: "publish"; readonly region: string; readonly payload: string }
  | { readonly type: "drain"; readonly windowMs: number }
  | { readonly type: "reconfigure"; readonly settings: SettingValues }
  | { readonly type: "ping" };

/** Notices a worker sends the supervisor, unanswered. */
export type WorkerNotice =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "release"; readonly address: string }
  /** A log line, written where the supervisor writes its own (one writer, whole lines). */
  | { readonly type: "log"; readonly line: string };

/** Notices the supervisor sends a worker, unanswered. */
export type SupervisorNotice =
  | WorkerStart
  | { readonly type: "publication"; readonly region: string; readonly payload: Uint8Array }
  | { readonly type: "broker-state"; readonly state: BrokerState; readonly cause?: string };

/** A request on the wire. */
export interface Request<T> {
  readonly kind: "request";
  readonly id: number;
  readonly body: T;
}

/** An answer on the wire: a value, or an error's message. */
export interface Reply {
  readonly kind: "reply";
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

/** A notice on the wire. */
export interface Notice<T> {
  readonly kind: "notice";
  readonly body: T;
}

/** Anything one side posts to the other. */
export type Envelope<R, N> = Request<R> | Reply | Notice<N>;
