/**
 * Signed connection tokens: a JWT a page gets from TrendVidStream's own backend and hands to the
 * gateway, which checks it with `jose` before the upgrade. HS256 with a current secret and, during
 * a rotation, the previous one until a set time; RS256 and ES256 with the keys of a JWKS URL
 * (cached, fetched again for an unknown `kid` at most every 30 s). `exp` is required, `aud` and
 * `iss` are checked when configured, clocks may differ by the leeway (30 s at most), and only
 * those three algorithms pass, each only with its own kind of key: `alg: none`, or an HS256 token signed with a public
 * key, is refused. A `regions` claim limits what the connection may hear; `sub` names it in logs.
 *
 * @module
 */

import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyOptions,
} from "jose";
import { HANDSHAKE_REFUSALS, type Refusal } from "../client/close_codes.js";
import type { ConnectTokenMode } from "../config/token_settings.ts";

/** How tokens are checked. */
export interface ConnectTokenOptions {
  readonly mode: ConnectTokenMode;
  /** HS256 secret. */
  readonly secret: string | null;
  /** The previous HS256 secret, accepted until {@link previousUntilMs}. */
  readonly previousSecret: string | null;
  readonly previousUntilMs: number | null;
  /** JWKS of the RS256 and ES256 keys. */
  readonly jwksUrl: string | null;
  readonly audience: string | null;
  readonly issuer: string | null;
  /** How far clocks may differ, in seconds (at most 30). */
  readonly leewaySeconds: number;
  /** Least time between two fetches of the JWKS, in ms. @default 30000 */
  readonly jwksCooldownMs?: number;
  /** Clock in Unix ms. @default Date.now */
  readonly now?: () => number;
}

/** What a valid token says of its connection. */
export interface TokenGrant {
  /** `sub`, for logs. */
  readonly subject: string | null;
  /** Regions it may hear; `null` for any. */
  readonly regions: readonly string[] | null;
  /**
   * When its connection must end, in Unix ms: when the token stops passing the handshake, `exp`
   * plus the leeway (a client told to come back sooner would be let in again on the same token).
   */
  readonly endsAtMs: number;
}

/** Why a token was refused: one of `HANDSHAKE_REFUSALS`, and a message for the client. */
export interface TokenRefusal {
  readonly refusal: Refusal;
  readonly message: string;
}

/** The verdict on one token (or on its absence). */
export type TokenVerdict =
  | { readonly ok: true; readonly grant: TokenGrant | null }
  | ({ readonly ok: false } & TokenRefusal);

const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;
const SECRET_ALGORITHMS = ["HS256"];
const KEY_SET_ALGORITHMS = ["RS256", "ES256"];

/** A refusal of `HANDSHAKE_REFUSALS` with its message. */
const refuse = (refusal: Refusal, message: string): TokenVerdict => ({
  ok: false,
  refusal,
  message,
});
const invalid = (message: string) => refuse(HANDSHAKE_REFUSALS.invalidToken, message);

/** Checks connection tokens as configured. */
export class ConnectTokens {
  readonly #options: ConnectTokenOptions;
  readonly #now: () => number;
  readonly #secret: Uint8Array | null;
  readonly #previous: Uint8Array | null;
  readonly #keySet: ReturnType<typeof createRemoteJWKSet> | null;

  /** A checker for `options`; a JWKS is first fetched when a token needs it. */
  constructor(options: ConnectTokenOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const encoder = new TextEncoder();
    this.#secret = options.secret === null ? null : encoder.encode(options.secret);
    this.#previous = options.previousSecret === null
      ? null
      : encoder.encode(options.previousSecret);
    this.#keySet = options.jwksUrl === null ? null : createRemoteJWKSet(new URL(options.jwksUrl), {
      cooldownDuration: options.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
  }

  /** The verdict on `token` (`null`: none given). Never throws. */
  async verify(token: string | null): Promise<TokenVerdict> {
    if (this.#options.mode === "off") return { ok: true, grant: null };
    if (token === null) {
      return this.#options.mode === "optional"
        ? { ok: true, grant: null }
        : refuse(HANDSHAKE_REFUSALS.tokenRequired, "A connection token is required");
    }
    let algorithm: unknown;
    try {
      algorithm = decodeProtectedHeader(token).alg;
    } catch {
      return invalid("Not a JWT");
    }
    try {
      if (SECRET_ALGORITHMS.includes(String(algorithm)) && this.#secret !== null) {
        return await this.#withSecrets(token);
      }
      if (KEY_SET_ALGORITHMS.includes(String(algorithm)) && this.#keySet !== null) {
        const { payload } = await jwtVerify(token, this.#keySet, this.#checks(KEY_SET_ALGORITHMS));
        return this.#granted(payload);
      }
      return invalid(`Algorithm ${String(algorithm).slice(0, 16)} is not accepted`);
    } catch (error) {
      return refusalOf(error);
    }
  }

  /** The current secret, then the previous one while it is still accepted. */
  async #withSecrets(token: string): Promise<TokenVerdict> {
    const checks = this.#checks(SECRET_ALGORITHMS);
    try {
      return this.#granted((await jwtVerify(token, this.#secret!, checks)).payload);
    } catch (error) {
      const until = this.#options.previousUntilMs ?? 0;
      const rotating = this.#previous !== null && this.#now() < until;
      if (!(error instanceof errors.JWSSignatureVerificationFailed) || !rotating) throw error;
      return this.#granted((await jwtVerify(token, this.#previous!, checks)).payload);
    }
  }

  #checks(algorithms: string[]): JWTVerifyOptions {
    const { audience, issuer } = this.#options;
    return {
      algorithms,
      requiredClaims: ["exp"],
      clockTolerance: this.#options.leewaySeconds,
      currentDate: new Date(this.#now()),
      ...(audience !== null && { audience }),
      ...(issuer !== null && { issuer }),
    };
  }

  #granted(payload: JWTPayload): TokenVerdict {
    const regions = payload.regions;
    if (
      regions !== undefined &&
      !(Array.isArray(regions) && regions.every((region) => typeof region === "string"))
    ) {
      return invalid("The regions claim must be a list of regions");
    }
    return {
      ok: true,
      grant: {
        subject: typeof payload.sub === "string" ? payload.sub : null,
        regions: regions === undefined ? null : regions.map((region) => region.toUpperCase()),
        endsAtMs: (payload.exp! + this.#options.leewaySeconds) * 1000,
      },
    };
  }
}

/** The refusal for an error `jose` threw. */
function refusalOf(error: unknown): TokenVerdict {
  if (error instanceof errors.JWTExpired) {
    return refuse(HANDSHAKE_REFUSALS.tokenExpired, "The token has expired");
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(`Claim ${error.claim} is not accepted: ${error.reason}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return invalid("No key matches the token's kid");
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid("The signature does not match");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid("Algorithm not accepted");
  const keysUnavailable = error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError);
  if (keysUnavailable) {
    return refuse(
      HANDSHAKE_REFUSALS.tokenKeysUnavailable,
      "The keys to check the token with cannot be fetched now; retry later",
    );
  }
  return invalid("The token is not valid");
}
