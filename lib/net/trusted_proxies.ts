/**
 * Whose `X-Forwarded-For` is believed. Behind a proxy every visitor's connection comes from the
 * proxy, so the client's address is in the header the proxy appends; but anyone can send that
 * header, so it is read only when the peer is one of the configured proxies, and then the client
 * is the right-most hop that is not itself a trusted proxy (each proxy appends the address it
 * received the request from; what is left of that is whatever the client claimed).
 *
 * @module
 */

import {
  coversTheInternet,
  formatIp,
  inRange,
  type IpRange,
  parseIp,
  parseIpRange,
} from "./ip_address.ts";

/** The proxies whose forwarding headers are believed: addresses and CIDR ranges. */
export class TrustedProxies {
  readonly #ranges: readonly IpRange[];
  readonly #texts: readonly string[];

  /** Trusts the peers in `ranges` (their texts, as configured, for `describe`). */
  constructor(ranges: readonly { readonly text: string; readonly range: IpRange }[]) {
    this.#ranges = ranges.map((entry) => entry.range);
    this.#texts = ranges.map((entry) => entry.text);
  }

  /**
   * Parses a comma-separated list of addresses and ranges (`127.0.0.1,10.0.0.0/8,::1`).
   *
   * @throws {SyntaxError} naming the first entry that is neither.
   */
  static parse(list: string): TrustedProxies {
    const entries = list.split(",").map((entry) => entry.trim()).filter(Boolean);
    return new TrustedProxies(entries.map((text) => {
      const range = parseIpRange(text);
      if (range === null) {
        throw new SyntaxError(`"${text}" is not an IP address or CIDR range (10.0.0.0/8, ::1)`);
      }
      return { text, range };
    }));
  }

  /** Whether no proxy is trusted: forwarding headers are never read. */
  get none(): boolean {
    return this.#ranges.length === 0;
  }

  /** Whether `address` is a trusted proxy. */
  includes(address: string): boolean {
    const bytes = parseIp(address);
    return bytes !== null && this.#ranges.some((range) => inRange(bytes, range));
  }

  /**
   * The configured entries that span the Internet (`0.0.0.0/0`, `::/0`, any public /8): trusting
   * them lets any client claim any address, and lock another address out of its quota.
   */
  get wide(): readonly string[] {
    return this.#texts.filter((_, i) => coversTheInternet(this.#ranges[i]!));
  }

  /** The configured list, for logs and `check-config`. */
  describe(): string {
    return this.#texts.join(",");
  }

  /**
   * The client's address, in canonical form: the peer's, or, when the peer is a trusted proxy,
   * the right-most `X-Forwarded-For` hop that is not one. A hop that is not an address (a proxy
   * writing `unknown`, or garbage a client sent) ends the walk at the last trusted hop.
   */
  clientAddress(peer: string, forwardedFor: string | null): string {
    let client = parseIp(peer);
    if (client === null) return peer;
    if (forwardedFor === null || !this.includes(peer)) return formatIp(client);
    const hops = forwardedFor.split(",");
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseHop(hops[i]!);
      if (hop === null) break;
      client = hop;
      if (!this.#ranges.some((range) => inRange(hop, range))) break;
    }
    return formatIp(client);
  }
}

/**
 * The scheme the browser used, as a trusted proxy's `X-Forwarded-Proto` says (`https:`); `null`
 * when the peer is not a trusted proxy or says nothing usable.
 */
export function forwardedProtocol(
  proxies: TrustedProxies,
  peer: string,
  header: string | null,
): string | null {
  const value = header?.split(",")[0]?.trim().toLowerCase();
  if (value !== "http" && value !== "https") return null;
  return proxies.includes(peer) ? `${value}:` : null;
}

/** One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`). */
function parseHop(text: string): Uint8Array | null {
  const hop = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed !== null) return parseIp(bracketed[1]!);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return parseIp(withPort === null ? hop : withPort[1]!);
}
