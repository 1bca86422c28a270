/**
 * The Origin allow-list, against cross-site WebSocket hijacking: a page on another site must not
 * open a socket to the gateway with its visitor's browser. Browsers always send `Origin` on a
 * WebSocket handshake; other clients (servers, tests, the load generator) usually do not, and are
 * not a cross-site threat, so a missing `Origin` is allowed. The gateway's own origin (its `Host`,
 * as the browser sent it, over http or https) is always allowed: its demo page connects from
 * there.
 *
 * An allowed origin is compared whole: scheme, host and port. `https://*.example.com` allows every
 * subdomain of example.com, at any depth, over https on the default port, and not example.com
 * itself (list it too); no other wildcard is understood, and the configuration refuses one.
 *
 * @module
 */

/** One allowed origin: exact, or every subdomain of `host`. */
export interface OriginPattern {
  /** `https:` or `http:`. */
  readonly protocol: string;
  /** Lower-case host name; with `subdomains`, the suffix they share. */
  readonly host: string;
  /** The port as a URL writes it: empty for the scheme's default. */
  readonly port: string;
  /** `*.host`: any subdomain of `host`, not `host` itself. */
  readonly subdomains: boolean;
  /** As configured, for logs. */
  readonly text: string;
}

/** Which origins may connect. */
export type OriginPolicy =
  | { readonly kind: "same-origin" }
  | { readonly kind: "any" }
  | { readonly kind: "list"; readonly origins: readonly OriginPattern[] };

/**
 * Reads one allowed origin: `https://example.com`, `http://localhost:8080`, or
 * `https://*.example.com`.
 *
 * @throws {SyntaxError} saying what an origin may be.
 */
export function parseOriginPattern(text: string): OriginPattern {
  const entry = text.trim().replace(/\/$/, "");
  const wildcard = /^(https?:)\/\/\*\.([^*/]+)$/.exec(entry);
  const url = parseUrl(wildcard === null ? entry : `${wildcard[1]}//${wildcard[2]}`);
  if (url === null || !["http:", "https:"].includes(url.protocol)) {
    throw new SyntaxError(
      `Expected an origin (https://example.com, or https://*.example.com), got "${text}"`,
    );
  }
  if (entry.includes("*") && wildcard === null) {
    throw new SyntaxError(
      `"${text}": the only wildcard is a leading "*." in the host (https://*.example.com)`,
    );
  }
  if (wildcard === null && url.origin !== entry.toLowerCase()) {
    throw new SyntaxError(`Expected an origin (scheme://host[:port], no path), got "${text}"`);
  }
  if (wildcard !== null && (url.pathname !== "/" || url.search !== "" || url.username !== "")) {
    throw new SyntaxError(`Expected an origin (scheme://*.host[:port], no path), got "${text}"`);
  }
  return {
    protocol: url.protocol,
    host: url.hostname,
    port: url.port,
    subdomains: wildcard !== null,
    text: entry,
  };
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Whether `origin` (parsed) is one `pattern` allows. */
function matches(pattern: OriginPattern, origin: URL): boolean {
  if (origin.protocol !== pattern.protocol || origin.port !== pattern.port) return false;
  return pattern.subdomains
    ? origin.hostname.endsWith(`.${pattern.host}`)
    : origin.hostname === pattern.host;
}

/** Describes the policy for the start-up log. */
export function describeOriginPolicy(policy: OriginPolicy): string {
  switch (policy.kind) {
    case "any":
      return "any origin (ALLOWED_ORIGINS=*)";
    case "same-origin":
      return "same origin as the gateway only (default; set ALLOWED_ORIGINS to allow others)";
    case "list":
      return policy.origins.map((pattern) => pattern.text).join(", ");
  }
}

/** What a request says of where it was sent to. */
export interface RequestTarget {
  /** The `Host` header. */
  readonly host: string;
  /**
   * The scheme the browser used (`http:` or `https:`), when a trusted proxy says so
   * (`X-Forwarded-Proto`); `null` when unknown, and then either is taken for the gateway's own.
   */
  readonly protocol: string | null;
}

/** Whether a handshake with `origin` (the header, or `null`) sent to `target` is allowed. */
export function originAllowed(
  policy: OriginPolicy,
  origin: string | null,
  target: RequestTarget,
): boolean {
  if (origin === null || policy.kind === "any") return true;
  const parsed = parseUrl(origin);
  if (parsed === null || !["http:", "https:"].includes(parsed.protocol)) return false;
  const ownScheme = target.protocol === null || parsed.protocol === target.protocol;
  if (ownScheme && parsed.host === target.host.toLowerCase()) return true;
  return policy.kind === "list" && policy.origins.some((pattern) => matches(pattern, parsed));
}
