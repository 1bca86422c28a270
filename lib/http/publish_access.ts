/**
 * Who may publish over HTTP, and read the status page's figures. With publish tokens
 * (`PUBLISH_TOKEN`, `PUBLISH_TOKENS_FILE`), whoever sends `Authorization: Bearer <token>` of one,
 * as the producer it names, to the regions it allows; the token is compared with every producer's
 * in constant time. Without any, HTTP publishing is off, unless
 * `PUBLISH_INSECURE_LOOPBACK` turns it on for local development, and then only for a request that
 * is visibly local: its TCP peer is loopback, it carries no proxy header, and its `Host` is a
 * loopback name. A proxy on the same host makes every visitor a loopback peer, and most proxies
 * say so in a header; a proxy that adds none still forwards the visitor's `Host`; a page using DNS
 * rebinding to reach a developer's gateway sends its own host name too.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { PublishToken } from "../config/publish_tokens.ts";
import { isLoopback } from "../net/ip_address.ts";

/** What decides HTTP publishing. */
export interface PublishPolicy {
  /** The producers' tokens; none means HTTP publishing needs `insecureLoopback`. */
  readonly producers: readonly PublishToken[];
  /** Without a token, let visibly local requests publish (`PUBLISH_INSECURE_LOOPBACK`). */
  readonly insecureLoopback: boolean;
}

/** Who a publish request was let in as. */
export interface Publisher {
  /** The producer's name, or `loopback` for a local request let in without a token. */
  readonly producer: string;
  /** The regions it may publish to; `null` for any. */
  readonly regions: readonly string[] | null;
}

/** The publisher of a local request without a token (`PUBLISH_INSECURE_LOOPBACK`). */
const LOOPBACK: Publisher = { producer: "loopback", regions: null };

/** Why a publish request was refused before its body was read. */
export type PublishRefusal = {
  readonly status: 401 | 403;
  /** The `error` of the JSON answer and the `result` label of the metric. */
  readonly error: "unauthorized" | "publish_disabled" | "not_local";
  readonly message: string;
};

/** Headers a proxy adds to what it forwards: their presence means the peer is not the client. */
const PROXY_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  "via",
];

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison that does not leak the token's length either. */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether a `Host` header names this machine: `localhost`, `*.localhost` or a loopback IP. */
function isLoopbackHost(host: string | null): boolean {
  if (host === null) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  const lower = name.toLowerCase();
  return lower === "localhost" || lower.endsWith(".localhost") || isLoopback(lower);
}

/**
 * Whether `request`, from TCP peer `peer`, is visibly local: the only kind that may publish
 * without a token, and only with {@link PublishPolicy.insecureLoopback}.
 */
export function isVisiblyLocal(request: Request, peer: string): boolean {
  return isLoopback(peer) && isLoopbackHost(request.headers.get("host")) &&
    !PROXY_HEADERS.some((name) => request.headers.has(name));
}

/** Whether this request may publish without a token (the demo page offers its form then). */
export function mayPublishWithoutToken(
  request: Request,
  peer: string,
  policy: PublishPolicy,
): boolean {
  return policy.producers.length === 0 && policy.insecureLoopback &&
    isVisiblyLocal(request, peer);
}

/**
 * The index in `tokens` of the bearer token `request` carries, or -1. Every token is compared,
 * whichever matches, so the time taken tells nothing of which one it was, or of how near.
 */
function tokenIndex(request: Request, tokens: readonly string[]): number {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (match?.[1] === undefined) return -1;
  let found = -1;
  for (const [index, token] of tokens.entries()) {
    if (sameToken(match[1], token) && found === -1) found = index;
  }
  return found;
}

/**
 * Whether `request` may read the status page's figures (`/status.json`): it carries one of
 * `tokens` (`STATUS_TOKEN`, and `PUBLISH_TOKEN` as before there was one), or it is visibly local
 * (no token needed, whatever `PUBLISH_INSECURE_LOOPBACK` says: it reads, it does not publish).
 */
export function mayReadStatus(request: Request, peer: string, tokens: readonly string[]): boolean {
  return tokenIndex(request, tokens) !== -1 || isVisiblyLocal(request, peer);
}

/** Who a publish request is let in as, or its refusal. `peer` is the TCP peer. */
export function checkPublishAccess(
  request: Request,
  peer: string,
  policy: PublishPolicy,
): Publisher | PublishRefusal {
  const { producers } = policy;
  if (producers.length > 0) {
    const index = tokenIndex(request, producers.map((producer) => producer.token));
    const producer = producers[index];
    if (producer !== undefined) return { producer: producer.name, regions: producer.regions };
    return { status: 401, error: "unauthorized", message: "Missing or wrong bearer token" };
  }
  if (!policy.insecureLoopback) {
    return {
      status: 403,
      error: "publish_disabled",
      message: "HTTP publishing is off: set PUBLISH_TOKEN or PUBLISH_TOKENS_FILE to enable it " +
        "(PUBLISH_INSECURE_LOOPBACK=true opens it to local requests, for development only)",
    };
  }
  if (isVisiblyLocal(request, peer)) return LOOPBACK;
  return {
    status: 403,
    error: "not_local",
    message: "Without PUBLISH_TOKEN only direct local requests may publish " +
      "(loopback peer and Host, no proxy headers)",
  };
}
