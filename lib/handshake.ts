/**
 * Guards of the WebSocket handshake, as guard clauses that each answer one precise refusal before
 * any upgrade: nothing is allocated for a request that will be refused.
 *
 * @module
 */

import { HANDSHAKE_REFUSALS } from "../static/close_codes.js";

/** One entry of {@link HANDSHAKE_REFUSALS}. */
export type Refusal = typeof HANDSHAKE_REFUSALS[keyof typeof HANDSHAKE_REFUSALS];

/** The handshake may proceed, with these validated parameters. */
export interface AcceptedHandshake {
  readonly ok: true;
  /** Regions to subscribe to, upper case, without repeats, in the order asked. */
  readonly regions: readonly string[];
}

/** The handshake is refused. */
export interface RefusedHandshake {
  readonly ok: false;
  readonly refusal: Refusal;
  /** Human-readable detail for the JSON body. */
  readonly message: string;
  /** Extra fields of the JSON body. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The verdict on one handshake. */
export type HandshakeVerdict = AcceptedHandshake | RefusedHandshake;

/** What the handshake checks against. */
export interface HandshakePolicy {
  readonly regions: readonly string[];
  readonly defaultRegion: string;
}

/** A refusal with its JSON body's message. */
export function refused(
  refusal: Refusal,
  message: string,
  extra?: Readonly<Record<string, unknown>>,
): RefusedHandshake {
  return { ok: false, refusal, message, ...(extra !== undefined && { extra }) };
}

/** Longest `region` query value considered; longer ones are refused without being split. */
const MAX_REGION_PARAM_LENGTH = 256;

/** Printable excerpt of a hostile value, for an error message. */
function excerpt(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 16 ? clean.slice(0, 16) + "…" : clean;
}

/** Reads and validates the regions of `?region=AE,GB` (case-insensitive; absent means default). */
export function checkRegions(params: URLSearchParams, policy: HandshakePolicy): HandshakeVerdict {
  const raw = params.getAll("region").join(",");
  const unknown = (message: string) =>
    refused(HANDSHAKE_REFUSALS.unknownRegion, message, { regions: policy.regions });
  if (raw.length > MAX_REGION_PARAM_LENGTH) return unknown("Region list too long");
  const asked = raw.split(",").map((region) => region.trim().toUpperCase()).filter(Boolean);
  if (asked.length === 0) return { ok: true, regions: [policy.defaultRegion] };
  for (const region of asked) {
    if (!policy.regions.includes(region)) {
      return unknown(`Unknown region "${excerpt(region)}"`);
    }
  }
  return { ok: true, regions: [...new Set(asked)] };
}
