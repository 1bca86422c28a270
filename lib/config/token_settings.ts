/**
 * The settings of signed connection tokens (`CONNECT_TOKEN_*`): who may hold a connection, and to
 * which regions. Part of the settings table (`settings.ts`), kept apart with their parsers and the
 * checks that tie them together.
 *
 * @module
 */

import { integer, optionalText } from "./setting_parsers.ts";

/** Whether connections need a token: not at all, when they bring one, or always. */
export type ConnectTokenMode = "off" | "optional" | "required";

const MODES: readonly ConnectTokenMode[] = ["off", "optional", "required"];

function mode(raw: string): ConnectTokenMode {
  const value = raw.trim().toLowerCase();
  if ((MODES as readonly string[]).includes(value)) return value as ConnectTokenMode;
  throw new TypeError(`Expected ${MODES.join(", ")}, got "${raw}"`);
}

/** An HS256 secret: at least 32 bytes (RFC 7518 §3.2: as long as the hash), or unset. */
function secret(raw: string): string | null {
  if (raw === "") return null;
  if (/\s/.test(raw)) throw new TypeError("Contains whitespace (a stray space or line break?)");
  if (new TextEncoder().encode(raw).byteLength < 32) {
    throw new TypeError("Expected at least 32 bytes: HS256 needs a key as long as its hash");
  }
  return raw;
}

/** A moment as an ISO 8601 date and time with its zone, in Unix ms; or unset. */
function moment(raw: string): number | null {
  if (raw === "") return null;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(raw) || isNaN(ms)) {
    throw new TypeError(`Expected a date and time with its zone, like 2026-12-31T00:00:00Z`);
  }
  return ms;
}

/** Where the JWKS is: an `https:` URL (`http:` only on loopback); or unset. */
function jwksUrl(raw: string): string | null {
  if (raw === "") return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`Expected a URL, got "${raw}"`);
  }
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new TypeError("Expected an https: URL (keys fetched in the clear could be swapped)");
  }
  return url.href;
}

/** The connection-token settings, in the order `--help` shows them. */
export const TOKEN_SETTINGS = [
  {
    key: "connectToken",
    env: "CONNECT_TOKEN",
    help: "Signed connection tokens (JWT in ?token= or Sec-WebSocket-Protocol): off, optional " +
      "(checked when given) or required",
    fallback: "off",
    parse: mode,
  },
  {
    key: "connectTokenSecret",
    env: "CONNECT_TOKEN_SECRET",
    help: "HS256 secret tokens are signed with (at least 32 bytes)",
    secret: true,
    parse: secret,
  },
  {
    key: "connectTokenPreviousSecret",
    env: "CONNECT_TOKEN_PREVIOUS_SECRET",
    help: "The secret before the current one, still accepted until " +
      "CONNECT_TOKEN_PREVIOUS_UNTIL (a rotation)",
    secret: true,
    parse: secret,
  },
  {
    key: "connectTokenPreviousUntil",
    env: "CONNECT_TOKEN_PREVIOUS_UNTIL",
    help: "When the previous secret stops being accepted (2026-12-31T00:00:00Z)",
    parse: moment,
    show: (ms: number) => new Date(ms).toISOString(),
  },
  {
    key: "connectTokenJwksUrl",
    env: "CONNECT_TOKEN_JWKS_URL",
    help: "JWKS of the RS256 and ES256 keys tokens may be signed with (cached; fetched again " +
      "for an unknown kid, at most every 30 s)",
    parse: jwksUrl,
  },
  {
    key: "connectTokenLeewaySeconds",
    env: "CONNECT_TOKEN_LEEWAY_SECONDS",
    help: "How far the clocks of the token's signer and the gateway may differ, in seconds: " +
      "exp and nbf are moved by it, and a live connection ends at exp plus it",
    fallback: "30",
    parse: integer(0, 30),
  },
  {
    key: "connectTokenAudience",
    env: "CONNECT_TOKEN_AUDIENCE",
    help: "The aud a token must name, if set",
    parse: optionalText,
  },
  {
    key: "connectTokenIssuer",
    env: "CONNECT_TOKEN_ISSUER",
    help: "The iss a token must name, if set",
    parse: optionalText,
  },
] as const;

/** What the checks of {@link tokenSettingErrors} read. */
interface TokenSettings {
  readonly connectToken?: ConnectTokenMode;
  readonly connectTokenSecret?: string | null;
  readonly connectTokenPreviousSecret?: string | null;
  readonly connectTokenPreviousUntil?: number | null;
  readonly connectTokenJwksUrl?: string | null;
}

/** Settings that cannot work together, as `[variable, message]`. */
export function tokenSettingErrors(settings: TokenSettings): [string, string][] {
  const errors: [string, string][] = [];
  const keys = settings.connectTokenSecret ?? settings.connectTokenJwksUrl ?? null;
  if (settings.connectToken !== undefined && settings.connectToken !== "off" && keys === null) {
    errors.push([
      "CONNECT_TOKEN",
      "Needs CONNECT_TOKEN_SECRET or CONNECT_TOKEN_JWKS_URL to check tokens with",
    ]);
  }
  const previous = settings.connectTokenPreviousSecret ?? null;
  const until = settings.connectTokenPreviousUntil ?? null;
  if (previous !== null && until === null) {
    errors.push([
      "CONNECT_TOKEN_PREVIOUS_UNTIL",
      "Needed with CONNECT_TOKEN_PREVIOUS_SECRET: until when the previous secret is accepted",
    ]);
  }
  if (previous !== null && (settings.connectTokenSecret ?? null) === null) {
    errors.push([
      "CONNECT_TOKEN_PREVIOUS_SECRET",
      "Needs CONNECT_TOKEN_SECRET: the previous secret only stands beside a current one",
    ]);
  }
  return errors;
}
