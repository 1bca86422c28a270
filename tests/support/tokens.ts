/**
 * Connection tokens made in the test with `jose`, as a site's backend would make them, and a JWKS
 * server on loopback that publishes the public keys (and counts how often it is asked).
 *
 * @module
 */

import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import type { ConnectTokenOptions } from "../../lib/gateway/connect_tokens.ts";

/** An HS256 secret of the length the gateway asks for. */
export const TEST_SECRET = "tvs-test-secret-of-thirty-two-bytes-at-least";

/** A checker's options: `mode` off and nothing set, but for `overrides`. */
export function tokenOptions(overrides: Partial<ConnectTokenOptions> = {}): ConnectTokenOptions {
  return {
    mode: "off",
    secret: null,
    previousSecret: null,
    previousUntilMs: null,
    jwksUrl: null,
    audience: null,
    issuer: null,
    leewaySeconds: 30,
    ...overrides,
  };
}

/** What a test token says; `exp` is in seconds from now (default 1 h), `nbf` likewise. */
export interface TokenClaims extends Omit<JWTPayload, "exp" | "nbf"> {
  readonly expIn?: number;
  readonly nbfIn?: number;
  readonly regions?: readonly string[];
}

/** Unix seconds `offset` seconds from now. */
const inSeconds = (offset: number) => Math.floor(Date.now() / 1000) + offset;

/** Builds an unsigned token of `claims`. */
function build(claims: TokenClaims): SignJWT {
  const { expIn = 3600, nbfIn, ...rest } = claims;
  const jwt = new SignJWT(rest).setIssuedAt().setExpirationTime(inSeconds(expIn));
  return nbfIn === undefined ? jwt : jwt.setNotBefore(inSeconds(nbfIn));
}

/** An HS256 token of `claims` signed with `secret`. */
export async function hs256(claims: TokenClaims, secret = TEST_SECRET): Promise<string> {
  return await build(claims).setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`): what an attacker tries first. */
export function unsigned(claims: TokenClaims): string {
  const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "");
  const { expIn = 3600, ...rest } = claims;
  return `${part({ alg: "none", typ: "JWT" })}.${part({ ...rest, exp: inSeconds(expIn) })}.`;
}

/** `token` with its payload swapped for `claims`, the signature kept. */
export function tampered(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".");
  const decoded = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
  const swapped = btoa(JSON.stringify({ ...decoded, ...claims }))
    .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${header}.${swapped}.${signature}`;
}

/** A key pair that signs tokens named by its `kid`. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: "RS256" | "ES256";
  readonly publicJwk: JWK;
  sign(claims: TokenClaims): Promise<string>;
}

/** A new key pair for `alg`, named `kid`. */
export async function signingKey(alg: "RS256" | "ES256", kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...await exportJWK(publicKey), kid, alg, use: "sig" };
  return {
    kid,
    alg,
    publicJwk,
    sign: (claims) => build(claims).setProtectedHeader({ alg, kid }).sign(privateKey),
  };
}

/** A JWKS endpoint on loopback whose keys a test changes. */
export interface JwksServer extends AsyncDisposable {
  readonly url: string;
  /** The keys it publishes now. */
  keys: SigningKey[];
  /** Requests answered so far. */
  readonly fetches: number;
}

/** Serves `keys` as a JWKS at `http://127.0.0.1:<port>/jwks.json`. */
export function startJwksServer(keys: SigningKey[]): JwksServer {
  let fetches = 0;
  const state = { keys };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    fetches++;
    return Response.json({ keys: state.keys.map((key) => key.publicJwk) });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(next) {
      state.keys = next;
    },
    get fetches() {
      return fetches;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
