/**
 * Parsers of setting values: each takes the raw text of one variable and returns the value the
 * gateway runs with, or throws a {@link TypeError} whose sentence says what is allowed (the
 * configuration adds the variable's name).
 *
 * @module
 */

import { parseRedisTarget } from "../brokers/redis_target.ts";
import { canonicalIp } from "../net/ip_address.ts";
import { type OriginPolicy, parseOriginPattern } from "../net/origin.ts";
import { TrustedProxies } from "../net/trusted_proxies.ts";
import { LOG_LEVELS, type LogLevel } from "../observe/log.ts";
import { memoryCeiling } from "./memory_ceiling.ts";

/** Reads one raw value. @throws {TypeError} when it cannot be used. */
export type Parse<T> = (raw: string) => T;

const REGION_PATTERN = /^[A-Z][A-Z0-9]{1,7}$/;

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number): Parse<number> {
  return (raw) => {
    if (!/^\d+$/.test(raw)) {
      throw new TypeError(`Expected an integer from ${min} to ${max}, got "${raw}"`);
    }
    const value = Number(raw);
    if (value < min || value > max) {
      throw new TypeError(`Expected an integer from ${min} to ${max}, got ${raw}`);
    }
    return value;
  };
}

/** An integer from `min` to `max`, or `auto`, which `auto()` resolves; an error names both. */
function integerOrAuto(min: number, max: number, auto: () => number): Parse<number> {
  const count = integer(min, max);
  return (raw) => {
    if (raw.trim().toLowerCase() === "auto") return auto();
    try {
      return count(raw.trim());
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new TypeError(`Expected auto or an integer from ${min} to ${max}, got "${raw}"`);
    }
  };
}

/** A worker count from 1 to `max`, or `auto`: as many as the cores this process may use. */
export function workerCount(max: number): Parse<number> {
  return integerOrAuto(1, max, () => Math.min(max, Math.max(1, navigator.hardwareConcurrency)));
}

/** The share of the memory ceiling that `MAX_RSS_BYTES=auto` takes. */
export const AUTO_RESIDENT_SHARE = 0.8;

/**
 * A resident-memory bound in bytes from `min` to `max`, or `auto`: {@link AUTO_RESIDENT_SHARE} of
 * the host's memory (`memory_ceiling.ts`).
 */
export function residentBytes(min: number, max: number): Parse<number> {
  return integerOrAuto(min, max, () => Math.floor(AUTO_RESIDENT_SHARE * memoryCeiling().bytes));
}

/**
 * An IP address or a host name to listen on. Digits and dots alone are an IPv4 address, or
 * nothing: `999.1.1.1` is refused here rather than looked up as a name at start.
 */
export function listenHost(raw: string): string {
  const host = raw.trim();
  if (canonicalIp(host) !== null) return host;
  if (/^[\d.]+$/.test(host)) {
    throw new TypeError(`"${raw}" is not an IPv4 address (four numbers from 0 to 255)`);
  }
  if (/^(?=.*[a-z])[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(host)) return host;
  throw new TypeError(`Expected an IP address or host name to listen on, got "${raw}"`);
}

/** A Redis URL (`brokers/redis_target.ts`: one Redis, or Sentinel's master); empty means none. */
export function redisUrl(raw: string): string | null {
  if (raw.trim() === "") return null;
  parseRedisTarget(raw);
  return raw.trim();
}

/** Comma-separated region codes, upper-cased, without repeats. */
export function regionList(raw: string): string[] {
  const regions = raw.split(",").map((region) => region.trim().toUpperCase()).filter(Boolean);
  if (regions.length === 0) throw new TypeError("Expected at least one region code");
  for (const region of regions) {
    if (!REGION_PATTERN.test(region)) {
      throw new TypeError(
        `Invalid region code "${region}": expected 2 to 8 letters or digits, starting with a letter`,
      );
    }
  }
  if (new Set(regions).size !== regions.length) {
    throw new TypeError(`Region codes repeat in "${raw}"`);
  }
  return regions;
}

/** One region code. */
export function region(raw: string): string {
  const [code] = regionList(raw);
  if (code === undefined || raw.includes(",")) {
    throw new TypeError(`Expected one region code, got "${raw}"`);
  }
  return code;
}

/** A Redis channel prefix: short, with no glob characters. */
export function channelPrefix(raw: string): string {
  if (raw.length > 64 || /[\s*?[\]]/.test(raw)) {
    throw new TypeError(
      "Expected at most 64 characters without spaces or glob characters (* ? [ ])",
    );
  }
  return raw;
}

/**
 * A bearer token of at least 16 visible ASCII characters; empty means none. A space, a tab or a
 * line break (a stray one from an env file or a copy) would make every request's
 * `Authorization: Bearer <token>` fail, so it is refused here, without the value in the message.
 */
export function optionalToken(raw: string): string | null {
  if (raw === "") return null;
  if (/\s/.test(raw)) {
    throw new TypeError(
      "Contains whitespace (a stray space or line break?): a bearer token cannot, " +
        "so every request would be refused",
    );
  }
  if (!/^[\x21-\x7e]+$/.test(raw)) {
    throw new TypeError("Expected visible ASCII characters only (A-Z a-z 0-9 and punctuation)");
  }
  if (raw.length < 16) throw new TypeError("Expected at least 16 characters (or unset it)");
  return raw;
}

/** Text with its surrounding blanks trimmed; empty means unset. */
export function optionalText(raw: string): string | null {
  const value = raw.trim();
  return value === "" ? null : value;
}

/** Yes or no (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`; empty is no). */
export function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  throw new TypeError(`Expected true or false, got "${raw}"`);
}

/**
 * `*`, comma-separated origins (`https://*.example.com` for every subdomain), or empty for the
 * gateway's own origin only.
 */
export function originPolicy(raw: string): OriginPolicy {
  const value = raw.trim();
  if (value === "") return { kind: "same-origin" };
  if (value === "*") return { kind: "any" };
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  return {
    kind: "list",
    origins: entries.map((entry) => {
      try {
        return parseOriginPattern(entry);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        throw new TypeError(error.message);
      }
    }),
  };
}

/** Comma-separated addresses and CIDR ranges of the proxies in front. */
export function trustedProxies(raw: string): TrustedProxies {
  try {
    return TrustedProxies.parse(raw);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new TypeError(`Expected addresses and CIDR ranges: ${error.message}`);
  }
}

/** One of {@link LOG_LEVELS}. */
export function logLevel(raw: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === raw.trim().toLowerCase());
  if (level === undefined) {
    throw new TypeError(`Expected one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  }
  return level;
}
