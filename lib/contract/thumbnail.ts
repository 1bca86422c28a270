/**
 * Thumbnails: only an absolute `https:` URL without credentials reaches a browser, or an `http:`
 * one on a loopback host (`localhost`, `127.0.0.1`, `[::1]`), which browsers count as secure as
 * https and which a gateway run locally serves its demo's thumbnails from; anything else is
 * removed from the message, which is still delivered.
 *
 * @module
 */

import { utf8Length } from "./utf8.ts";

/**
 * An https URL the URL parser would return unchanged: lower-case host names whose last label
 * starts with a letter (so no IPv4 reading), no `xn--` label (no IDNA check), no port, a path (at
 * least `/`) of unreserved characters without `.` or `..` segments, no query. Thumbnails are such
 * URLs; the parser, an op call, costs several times this test on the cold caches a message finds
 * after an idle spell.
 */
const CANONICAL_HTTPS_URL =
  /^https:\/\/(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?(?:(?:\/[\w~-]+(?:\.[\w~-]+)*)+\/?|\/)$/;

/** Hosts an `http:` thumbnail may name, as the URL parser writes them. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The thumbnail as a canonical absolute https URL (or http on loopback) of at most `maxBytes`, or
 * `undefined` when it cannot be one (`javascript:`, `data:`, `http:` elsewhere, relative, with
 * credentials).
 */
export function safeThumbnail(value: unknown, maxBytes: number): string | undefined {
  if (typeof value !== "string" || utf8Length(value) > maxBytes) {
    return undefined;
  }
  if (CANONICAL_HTTPS_URL.test(value) && !value.includes("xn--")) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const secure = url.protocol === "https:" ||
    (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
  if (!secure || url.hostname === "" || url.username || url.password) return undefined;
  return url.href.length <= maxBytes ? url.href : undefined;
}
