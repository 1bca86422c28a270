/**
 * The Origin allow-list, against cross-site WebSocket hijacking: a page on another site must not
 * open a socket to the gateway with its visitor's browser. Browsers always send `Origin` on a
 * WebSocket handshake; other clients (servers, tests, the load generator) usually do not, and are
 * not a cross-site threat, so a missing `Origin` is allowed. The gateway's own origin (its `Host`,
 * as the browser sent it) is always allowed: its demo page connects from there.
 *
 * @module
 */

/** Which origins may connect. */
export type OriginPolicy =
  | { readonly kind: "same-origin" }
  | { readonly kind: "any" }
  | { readonly kind: "list"; readonly origins: readonly string[] };

/** Describes the policy for the start-up log. */
export function describeOriginPolicy(policy: OriginPolicy): string {
  switch (policy.kind) {
    case "any":
      return "any origin (ALLOWED_ORIGINS=*)";
    case "same-origin":
      return "same origin as the gateway only (default; set ALLOWED_ORIGINS to allow others)";
    case "list":
      return policy.origins.join(", ");
  }
}

/** Whether a handshake with `origin` (the header, or `null`) to `host` (the header) is allowed. */
export function originAllowed(policy: OriginPolicy, origin: string | null, host: string): boolean {
  if (origin === null || policy.kind === "any") return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  return parsed.host === host.toLowerCase() ||
    (policy.kind === "list" && policy.origins.includes(parsed.origin));
}
