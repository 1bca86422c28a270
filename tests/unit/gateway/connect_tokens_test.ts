// Tokens made here with jose, checked by the gateway's checker; keys of a real JWKS server on
// loopback.
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { ConnectTokens } from "../../../lib/gateway/connect_tokens.ts";
import {
  hs256,
  signingKey,
  startJwksServer,
  tampered,
  TEST_SECRET,
  tokenOptions,
  unsigned,
} from "../../support/tokens.ts";
import { delay } from "../../support/wait.ts";

const HS256 = tokenOptions({ mode: "required", secret: TEST_SECRET });

/** The refusal's error, or `accepted`. */
async function verdictOf(tokens: ConnectTokens, token: string | null): Promise<string> {
  const verdict = await tokens.verify(token);
  return verdict.ok ? "accepted" : verdict.refusal.error;
}

Deno.test("a valid HS256 token grants its regions, names its subject and ends at exp plus the leeway", async () => {
  const tokens = new ConnectTokens(HS256);
  const verdict = await tokens.verify(await hs256({ sub: "viewer-7", regions: ["ae", "GB"] }));
  assert.ok(verdict.ok && verdict.grant !== null);
  assert.equal(verdict.grant.subject, "viewer-7");
  assert.deepEqual(verdict.grant.regions, ["AE", "GB"]);
  const endsInSeconds = (verdict.grant.endsAtMs - Date.now()) / 1000;
  assert.ok(endsInSeconds > 3600 + 25 && endsInSeconds <= 3600 + 31, String(endsInSeconds));
  const anyRegion = await tokens.verify(await hs256({}));
  assert.ok(anyRegion.ok && anyRegion.grant?.regions === null);
});

Deno.test("expired, not yet valid, tampered, wrongly signed, unsigned and exp-less tokens are refused", async () => {
  const tokens = new ConnectTokens(HS256);
  const valid = await hs256({ sub: "a", regions: ["AE"] });
  const cases: [string, string | null, string][] = [
    ["no token", null, "token_required"],
    ["not a JWT", "hello", "invalid_token"],
    ["expired a minute ago", await hs256({ expIn: -60 }), "token_expired"],
    ["expired within the leeway", await hs256({ expIn: -10 }), "accepted"],
    ["valid in two minutes", await hs256({ nbfIn: 120 }), "invalid_token"],
    ["valid within the leeway", await hs256({ nbfIn: 10 }), "accepted"],
    ["tampered regions", tampered(valid, { regions: ["AE", "GB"] }), "invalid_token"],
    [
      "another secret",
      await hs256({}, "another-secret-of-thirty-two-bytes-or-more"),
      "invalid_token",
    ],
    ["alg none", unsigned({}), "invalid_token"],
    ["regions not a list", await hs256({ regions: "AE" as unknown as string[] }), "invalid_token"],
  ];
  const noExp = await new SignJWT({}).setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(TEST_SECRET));
  cases.push(["no exp", noExp, "invalid_token"]);
  for (const [name, token, expected] of cases) {
    assert.equal(await verdictOf(tokens, token), expected, name);
  }
});

Deno.test("aud and iss are enforced when configured", async () => {
  const tokens = new ConnectTokens({
    ...HS256,
    audience: "tvs-realtime",
    issuer: "trendvidstream",
  });
  const right = { aud: "tvs-realtime", iss: "trendvidstream" };
  assert.equal(await verdictOf(tokens, await hs256(right)), "accepted");
  assert.equal(await verdictOf(tokens, await hs256({ ...right, aud: "other" })), "invalid_token");
  assert.equal(await verdictOf(tokens, await hs256({ ...right, iss: "evil" })), "invalid_token");
  assert.equal(await verdictOf(tokens, await hs256({})), "invalid_token");
});

Deno.test("optional mode lets a connection without a token in and checks one that has it; off checks nothing", async () => {
  const optional = new ConnectTokens({ ...HS256, mode: "optional" });
  assert.equal(await verdictOf(optional, null), "accepted");
  assert.equal(await verdictOf(optional, unsigned({})), "invalid_token");
  const off = new ConnectTokens({ ...HS256, mode: "off" });
  assert.equal(await verdictOf(off, "garbage"), "accepted");
});

Deno.test("a rotation: the previous secret is accepted until its moment, then refused", async () => {
  const previous = "the-previous-secret-of-thirty-two-bytes!!";
  let now = Date.now();
  const tokens = new ConnectTokens({
    ...HS256,
    previousSecret: previous,
    previousUntilMs: now + 60_000,
    now: () => now,
  });
  const old = await hs256({ sub: "old" }, previous);
  assert.equal(await verdictOf(tokens, old), "accepted");
  assert.equal(await verdictOf(tokens, await hs256({ sub: "new" })), "accepted");
  now += 61_000;
  assert.equal(await verdictOf(tokens, old), "invalid_token");
  assert.equal(await verdictOf(tokens, await hs256({ sub: "new" })), "accepted");
});

Deno.test("RS256 and ES256 through a JWKS: cached, fetched again for an unknown kid after the cool-down", async () => {
  const rsa = await signingKey("RS256", "rsa-1");
  const ec = await signingKey("ES256", "ec-1");
  await using jwks = startJwksServer([rsa]);
  const tokens = new ConnectTokens({ ...HS256, jwksUrl: jwks.url, jwksCooldownMs: 500 });
  assert.equal(await verdictOf(tokens, await rsa.sign({ sub: "r" })), "accepted");
  assert.equal(await verdictOf(tokens, await rsa.sign({ sub: "r2" })), "accepted");
  assert.equal(jwks.fetches, 1, "the key set is cached");
  jwks.keys = [rsa, ec];
  assert.equal(await verdictOf(tokens, await ec.sign({})), "invalid_token", "within the cool-down");
  assert.equal(jwks.fetches, 1, "an unknown kid does not refetch within the cool-down");
  await delay(600);
  assert.equal(await verdictOf(tokens, await ec.sign({})), "accepted");
  assert.equal(jwks.fetches, 2);
  const stranger = await signingKey("RS256", "rsa-1");
  assert.equal(
    await verdictOf(tokens, await stranger.sign({})),
    "invalid_token",
    "same kid, other key",
  );
  // The classic swap: HS256 signed with the public key as the secret.
  const swapped = await hs256({}, JSON.stringify(rsa.publicJwk));
  assert.equal(await verdictOf(tokens, swapped), "invalid_token");
  const keysOnly = new ConnectTokens({ ...HS256, secret: null, jwksUrl: jwks.url });
  assert.equal(
    await verdictOf(keysOnly, await hs256({})),
    "invalid_token",
    "no HS256 without a secret",
  );
});

Deno.test("a JWKS host that cannot be reached refuses with token_keys_unavailable, to be retried", async () => {
  const rsa = await signingKey("RS256", "rsa-1");
  const jwks = startJwksServer([rsa]);
  const url = jwks.url;
  await jwks[Symbol.asyncDispose]();
  const tokens = new ConnectTokens({ ...HS256, jwksUrl: url });
  assert.equal(await verdictOf(tokens, await rsa.sign({})), "token_keys_unavailable");
});
