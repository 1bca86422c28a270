/**
 * CORS for what a page on another origin needs, and nothing more: the client library, its types
 * and its close-code table (a module script is fetched in CORS mode, so without these headers
 * Chromium refuses the import), the event stream it falls back to, and the handshake probe the
 * library asks why a WebSocket was refused (a browser hides the handshake's status). The files and
 * the stream are readable by the origins `ALLOWED_ORIGINS` lets connect; the probe by any origin, because what it tells an origin that may not connect is
 * only that: without it a refused page could not tell a refusal from an outage, and would retry
 * for ever. No credentials, no preflight: these are plain `GET`s.
 *
 * @module
 */

import { originAllowed, type OriginPolicy, type RequestTarget } from "../net/origin.ts";

/** Who may read a path from another origin. */
type CrossOriginReaders = "allowed-origins" | "any-origin";

const CROSS_ORIGIN_READS: ReadonlyMap<string, CrossOriginReaders> = new Map([
  ["/tvs-client.js", "allowed-origins"],
  ["/tvs-client.d.ts", "allowed-origins"],
  ["/close_codes.js", "allowed-origins"],
  ["/events", "allowed-origins"],
  ["/ws", "any-origin"],
]);

/**
 * Adds the CORS headers of `pathname` to `response`, a plain-HTTP answer to `request` (not an
 * upgrade): `Vary: Origin` always, since the answer depends on it, and
 * `Access-Control-Allow-Origin` for an origin that may read it.
 */
export function addCorsHeaders(
  response: Response,
  request: Request,
  context: { readonly policy: OriginPolicy; readonly protocol: RequestTarget["protocol"] },
): void {
  const { policy, protocol } = context;
  const readers = CROSS_ORIGIN_READS.get(new URL(request.url).pathname);
  if (readers === undefined) return;
  response.headers.append("vary", "Origin");
  const origin = request.headers.get("origin");
  if (origin === null) return;
  const host = request.headers.get("host") ?? "";
  if (readers === "allowed-origins" && !originAllowed(policy, origin, { host, protocol })) return;
  const everyone = readers === "allowed-origins" && policy.kind === "any";
  response.headers.set("access-control-allow-origin", everyone ? "*" : origin);
}
