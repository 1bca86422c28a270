/**
 * A connection token for the operator's own commands (`tail`), where the gateway requires one: the
 * command runs with the gateway's settings, so it signs a short-lived token with the same HS256
 * secret, as the site's backend does for a page. With keys only in a JWKS there is no secret to sign
 * with, and the gateway's refusal says so.
 *
 * @module
 */

import { SignJWT } from "jose";
import type { Config } from "../config/config.ts";

/** How long an operator's token lasts; `tail` asks for another when it expires. */
const LIFETIME_SECONDS = 600;

/** A function signing the tokens `command` connects with, or `undefined` where none is needed. */
export function operatorToken(
  config: Config,
  command: string,
): (() => Promise<string>) | undefined {
  const secret = config.connectTokenSecret;
  if (config.connectToken === "off" || secret === null) return undefined;
  const key = new TextEncoder().encode(secret);
  return async () => {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" })
      .setSubject(`tvs-realtime ${command}`)
      .setIssuedAt()
      .setExpirationTime(`${LIFETIME_SECONDS}s`);
    if (config.connectTokenAudience !== null) jwt.setAudience(config.connectTokenAudience);
    if (config.connectTokenIssuer !== null) jwt.setIssuer(config.connectTokenIssuer);
    return await jwt.sign(key);
  };
}
