/**
 * What one gateway is configured with, and what it runs with besides.
 *
 * @module
 */

import type { Broker, DedupeOptions } from "../brokers/broker.ts";
import type { ConnectionLimits } from "../delivery/admission.ts";
import type { SharedQueuedBytes } from "../delivery/shared_queued_bytes.ts";
import type { OriginPolicy } from "../net/origin.ts";
import type { ConnectTokenOptions } from "./connect_tokens.ts";
import type { Logger } from "../observe/log.ts";

/** What one gateway is configured with. */
export interface GatewayOptions {
  /** Regions clients may subscribe to. */
  readonly regions: readonly string[];
  /** Region of a client that names none. */
  readonly defaultRegion: string;
  /** Pages that may connect. */
  readonly allowedOrigins: OriginPolicy;
  /** Largest publication accepted, in bytes. */
  readonly maxMessageBytes: number;
  /** Bytes queued for one client before it is a slow consumer. */
  readonly maxBufferedBytes: number;
  /** Bytes queued for all clients of the process. */
  readonly maxQueuedBytes: number;
  /** How late publications may go out under overload before clients are shed, in ms. */
  readonly overloadLagMs: number;
  /** Resident memory of the process. */
  readonly maxResidentBytes: number;
  /** Most sockets of the process, for `tvs_sockets_limit`. */
  readonly maxConnections: number;
  readonly dedupe: DedupeOptions;
  /** Frames remembered per region for clients back within moments. */
  readonly recentFrames: number;
  /** How often an idle event stream gets a comment line, in ms (WebSockets get pings). */
  readonly heartbeatMs: number;
  /** Who may connect: signed connection tokens. */
  readonly connectTokens: ConnectTokenOptions;
}

/** What a gateway runs with besides its options. */
export interface GatewayDependencies {
  readonly broker: Broker;
  readonly logger: Logger;
  /** Where connection slots are counted: this gateway's own, or the process's. */
  readonly limits: ConnectionLimits;
  /** Where this gateway's queued bytes are shared with the process's other workers. */
  readonly sharedQueuedBytes?: SharedQueuedBytes;
}
