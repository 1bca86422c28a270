/**
 * Every check of a WebSocket handshake, in one ordered list of guard clauses (draining, version,
 * origin, regions and cursors, connection token, capacity), each answering one refusal of
 * `HANDSHAKE_REFUSALS` with its status and a message, before any upgrade: nothing is allocated
 * for a request that will be refused. The gateway counts and logs the refusals; the probe (`GET /ws`) asks the same
 * questions, so a browser can learn what its failed handshake was told.
 *
 * @module
 */

import { HANDSHAKE_REFUSALS, type Refusal } from "../client/close_codes.js";
import type { Cursor } from "../brokers/broker.ts";
import { parseCursor } from "../streams/frames.ts";
import type { ConnectionLimits } from "../delivery/admission.ts";
import { originAllowed, type OriginPolicy } from "../net/origin.ts";
import type { ConnectionOptions } from "../delivery/connections.ts";
import type { ConnectTokens, TokenGrant } from "./connect_tokens.ts";

/** What the checks need to know of a handshake. */
export interface HandshakeRequest {
  readonly params: URLSearchParams;
  /** The `Origin` header, or `null`. */
  readonly origin: string | null;
  /** The `Host` header. */
  readonly host: string;
  /** The scheme the browser used, when a trusted proxy says (`https:`); else `null`. */
  readonly protocol: string | null;
  /** Address of the client (behind a trusted proxy, the one it names). */
  readonly address: string;
  /** `Sec-WebSocket-Version` of an upgrade; `null` for the plain-HTTP probe, which has none. */
  readonly version: string | null;
  /** The connection token it brought (`?token=`, or among its WebSocket protocols). */
  readonly token: string | null;
}

/** What a handshake is checked against. */
export interface HandshakeContext {
  /** The gateway is stopping: it takes no new client. */
  readonly draining: boolean;
  readonly origins: OriginPolicy;
  readonly regions: readonly string[];
  readonly defaultRegion: string;
  /** The connection limits. */
  readonly limits: ConnectionLimits;
  /** The connection-token checker. */
  readonly tokens: ConnectTokens;
}

/** The one WebSocket protocol version (RFC 6455 §4.4: refuse others with 426 naming it). */
const WEBSOCKET_VERSION = "13";

/** The regions and cursors a handshake asked for, validated. */
export interface AskedRegions {
  readonly ok: true;
  /** Regions to subscribe to, upper case, without repeats, in the order asked. */
  readonly regions: readonly string[];
  /**
   * `null` without `?since=`: plain delivery. Otherwise the client takes part in recovery, and this
   * holds the cursor it gave for each region (`null` for a region it gave none).
   */
  readonly since: ReadonlyMap<string, Cursor | null> | null;
}

/** The handshake may proceed, with these validated parameters. */
export interface AcceptedHandshake extends AskedRegions {
  /** What its connection token grants; `null` without one. */
  readonly grant: TokenGrant | null;
}

/** The handshake is refused. */
export interface RefusedHandshake {
  readonly ok: false;
  readonly refusal: Refusal;
  /** Human-readable detail for the JSON body. */
  readonly message: string;
  /** Extra fields of the JSON body. */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Headers of the answer. */
  readonly headers?: Readonly<Record<string, string>>;
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
  headers?: Readonly<Record<string, string>>,
): RefusedHandshake {
  return {
    ok: false,
    refusal,
    message,
    ...(extra !== undefined && { extra }),
    ...(headers !== undefined && { headers }),
  };
}

/** Longest `region` query value considered; longer ones are refused without being split. */
const MAX_REGION_PARAM_LENGTH = 256;

/** Printable excerpt of a hostile value, for an error message. */
function excerpt(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 16 ? clean.slice(0, 16) + "…" : clean;
}

/** Reads and validates the regions of `?region=AE,GB` (case-insensitive; absent means default). */
export function checkRegions(
  params: URLSearchParams,
  policy: HandshakePolicy,
): AskedRegions | RefusedHandshake {
  const raw = params.getAll("region").join(",");
  const unknown = (message: string) =>
    refused(HANDSHAKE_REFUSALS.unknownRegion, message, { regions: policy.regions });
  if (raw.length > MAX_REGION_PARAM_LENGTH) return unknown("Region list too long");
  const asked = raw.split(",").map((region) => region.trim().toUpperCase()).filter(Boolean);
  if (asked.length === 0) asked.push(policy.defaultRegion);
  for (const region of asked) {
    if (!policy.regions.includes(region)) {
      return unknown(`Unknown region "${excerpt(region)}"`);
    }
  }
  const regions = [...new Set(asked)];
  const since = checkSince(params, regions);
  return "refusal" in since ? since : { ok: true, regions, since: since.positions };
}

/** Longest `since` query value considered. */
const MAX_SINCE_PARAM_LENGTH = 1024;

/**
 * Reads `?since=AE:<fingerprint>,GB:<epoch>:<offset>`: per region, the last message id or stream
 * position the client saw. Present but empty means "recovery, no cursor yet".
 */
function checkSince(
  params: URLSearchParams,
  regions: readonly string[],
): { positions: ReadonlyMap<string, Cursor | null> | null } | RefusedHandshake {
  const raw = params.get("since");
  if (raw === null) return { positions: null };
  const invalid = (message: string) => refused(HANDSHAKE_REFUSALS.invalidSince, message);
  if (raw.length > MAX_SINCE_PARAM_LENGTH) return invalid("since is too long");
  const positions = new Map<string, Cursor | null>(regions.map((region) => [region, null]));
  for (const text of raw.split(",").map((part) => part.trim()).filter(Boolean)) {
    const parsed = parseCursor(text);
    if (parsed === null) return invalid(`Not a message id or position: "${excerpt(text)}"`);
    if (!positions.has(parsed.region)) {
      return invalid(`since names ${parsed.region}, which is not subscribed`);
    }
    if (positions.get(parsed.region) !== null) {
      return invalid(`since names ${parsed.region} twice`);
    }
    positions.set(parsed.region, parsed.cursor);
  }
  return { positions };
}

/**
 * Checks a handshake, guard by guard. With `reserve`, an accepted one takes its connection slot
 * (to be released when the socket ends, or at once when the upgrade fails); without, the verdict
 * is only told (the probe).
 */
export async function checkHandshake(
  request: HandshakeRequest,
  context: HandshakeContext,
  options: { readonly reserve: boolean },
): Promise<HandshakeVerdict> {
  if (context.draining) {
    return refused(HANDSHAKE_REFUSALS.draining, "The gateway is restarting; try another one");
  }
  if (request.version !== null && request.version !== WEBSOCKET_VERSION) {
    return refused(
      HANDSHAKE_REFUSALS.unsupportedVersion,
      `WebSocket version ${WEBSOCKET_VERSION} only (RFC 6455)`,
      {},
      { "sec-websocket-version": WEBSOCKET_VERSION },
    );
  }
  if (!originAllowed(context.origins, request.origin, request)) {
    return refused(HANDSHAKE_REFUSALS.originNotAllowed, "Origin not allowed");
  }
  const verdict = checkRegions(request.params, context);
  if (!verdict.ok) return verdict;
  const token = await context.tokens.verify(request.token);
  if (!token.ok) return refused(token.refusal, token.message);
  const allowed = token.grant?.regions ?? null;
  const barred = allowed === null
    ? undefined
    : verdict.regions.find((region) => !allowed.includes(region));
  if (barred !== undefined) {
    return refused(HANDSHAKE_REFUSALS.regionNotAllowed, `The token does not allow ${barred}`);
  }
  const full = options.reserve
    ? await context.limits.reserve(request.address)
    : await context.limits.check(request.address);
  if (full !== undefined) return refused(full, "Too many connections; retry later");
  return { ...verdict, grant: token.grant };
}

/** What a connection is opened with, from its handshake. */
export function connectionOptions(
  handshake: AcceptedHandshake,
  address: string,
): ConnectionOptions {
  const { regions, since, grant } = handshake;
  return {
    regions,
    since,
    remoteAddress: address,
    subject: grant?.subject ?? null,
    endsAtMs: grant?.endsAtMs ?? null,
  };
}
