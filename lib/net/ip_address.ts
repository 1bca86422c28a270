/**
 * IP addresses and CIDR ranges, IPv4 and IPv6 alike: parsed to 16 bytes (an IPv4 address as its
 * IPv4-mapped IPv6 form, so `127.0.0.1` and `::ffff:127.0.0.1` are one address), compared by
 * prefix, and written back in one canonical text, so that one client counts once against its
 * limits whichever way its address was spelt.
 *
 * @module
 */

/** An address as 16 bytes, IPv4 mapped into `::ffff:0:0/96`. */
export type IpBytes = Uint8Array;

/** A range of addresses: `bytes` with its first `prefix` bits significant. */
export interface IpRange {
  readonly bytes: IpBytes;
  readonly prefix: number;
}

const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIpv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    bytes.push(Number(part));
  }
  return bytes;
}

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  for (const group of text.split(":")) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return null;
    groups.push(parseInt(group, 16));
  }
  return groups;
}

function parseIpv6(text: string): number[] | null {
  let host = text.toLowerCase();
  const lastColon = host.lastIndexOf(":");
  if (host.includes(".", lastColon)) {
    // An embedded IPv4 address in the last 32 bits (::ffff:1.2.3.4) is two groups in hex.
    const v4 = parseIpv4(host.slice(lastColon + 1));
    if (v4 === null) return null;
    const high = ((v4[0]! << 8) | v4[1]!).toString(16);
    const low = ((v4[2]! << 8) | v4[3]!).toString(16);
    host = `${host.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const left = parseGroups(halves[0]!);
  const right = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (left === null || right === null) return null;
  const given = left.length + right.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const zeros = new Array<number>(8 - given).fill(0);
  return [...left, ...zeros, ...right].flatMap((group) => [group >> 8, group & 0xff]);
}

/**
 * Parses an IPv4 or IPv6 address (brackets and an IPv6 zone such as `%eth0` allowed); `null` when
 * `text` is not one.
 */
export function parseIp(text: string): IpBytes | null {
  let host = text.trim();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const zone = host.indexOf("%");
  if (zone !== -1 && host.includes(":")) host = host.slice(0, zone);
  const v4 = parseIpv4(host);
  if (v4 !== null) return new Uint8Array([...IPV4_MAPPED_PREFIX, ...v4]);
  if (!host.includes(":")) return null;
  const v6 = parseIpv6(host);
  return v6 === null ? null : new Uint8Array(v6);
}

/** Whether `bytes` is an IPv4 address (mapped). */
function isIpv4(bytes: IpBytes): boolean {
  return IPV4_MAPPED_PREFIX.every((byte, index) => bytes[index] === byte);
}

/** The canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, `::`). */
export function formatIp(bytes: IpBytes): string {
  if (isIpv4(bytes)) return Array.from(bytes.subarray(12)).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // The longest run of two or more zero groups becomes "::" (the first, on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > bestLength) [bestStart, bestLength] = [start, length];
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** The canonical text of `text` as an address, or `null` when it is not one. */
export function canonicalIp(text: string): string | null {
  const bytes = parseIp(text);
  return bytes === null ? null : formatIp(bytes);
}

/**
 * Parses `192.168.0.0/16`, `2001:db8::/32`, or a single address (all its bits significant);
 * `null` when `text` is neither.
 */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf("/");
  const bytes = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (bytes === null) return null;
  if (slash === -1) return { bytes, prefix: 128 };
  const bits = text.slice(slash + 1).trim();
  const max = isIpv4(bytes) ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return { bytes, prefix: Number(bits) + 128 - max };
}

/** Whether `address` lies in `range`. */
export function inRange(address: IpBytes, range: IpRange): boolean {
  const whole = range.prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== range.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole]! & mask) === (range.bytes[whole]! & mask);
}

const LOOPBACK: readonly IpRange[] = [parseIpRange("127.0.0.0/8")!, parseIpRange("::1")!];

/** True for 127.0.0.0/8 and ::1, in any spelling (IPv4-mapped included). */
export function isLoopback(address: string): boolean {
  const bytes = parseIp(address);
  return bytes !== null && LOOPBACK.some((range) => inRange(bytes, range));
}

const PRIVATE: readonly IpRange[] = [
  "10.0.0.0/8",
  "127.0.0.0/8",
  "0.0.0.0/8",
  "fc00::/7",
  "fe80::/10",
].map((text) => parseIpRange(text)!);

/**
 * Whether `range` spans a good part of the Internet: an IPv4 range of a /8 or wider, or an IPv6
 * range of a /16 or wider, that is not private or local address space.
 */
export function coversTheInternet(range: IpRange): boolean {
  const mapped = range.prefix >= 96 && isIpv4(range.bytes);
  const wide = mapped ? range.prefix - 96 <= 8 : range.prefix <= 16;
  if (!wide) return false;
  return !PRIVATE.some((block) => block.prefix <= range.prefix && inRange(range.bytes, block));
}

/**
 * The group `address` counts in for per-address limits: an IPv4 address alone; an IPv6 address by
 * its first `ipv6Prefix` bits (`2001:db8:1:2::/64`), since one host usually owns a whole /64 and
 * could otherwise take a slot per address. Text that is not an address stays as it is.
 */
export function addressGroup(address: string, ipv6Prefix: number): string {
  const bytes = parseIp(address);
  if (bytes === null) return address;
  if (isIpv4(bytes) || ipv6Prefix >= 128) return formatIp(bytes);
  const masked = new Uint8Array(16);
  for (let bit = 0; bit < ipv6Prefix; bit += 8) {
    const keep = Math.min(8, ipv6Prefix - bit);
    masked[bit >> 3] = bytes[bit >> 3]! & ((0xff << (8 - keep)) & 0xff);
  }
  return `${formatIp(masked)}/${ipv6Prefix}`;
}
