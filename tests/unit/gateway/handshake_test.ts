import assert from "node:assert/strict";
import { LocalLimits } from "../../../lib/delivery/admission.ts";
import { SignJWT } from "jose";
import { ConnectTokens } from "../../../lib/gateway/connect_tokens.ts";
import { TEST_SECRET, tokenOptions } from "../../support/tokens.ts";
import { checkHandshake, checkRegions } from "../../../lib/gateway/handshake.ts";

const NO_TOKENS = tokenOptions();

const policy = { regions: ["AE", "FI", "GB"], defaultRegion: "GB" };
const check = (query: string) => checkRegions(new URLSearchParams(query), policy);

Deno.test("regions are read case-insensitively, in order, without repeats", () => {
  assert.deepEqual(check("region=fi,AE,fi"), { ok: true, regions: ["FI", "AE"], since: null });
  assert.deepEqual(check("region=ae&region=gb"), { ok: true, regions: ["AE", "GB"], since: null });
});

Deno.test("no region means the default region", () => {
  assert.deepEqual(check(""), { ok: true, regions: ["GB"], since: null });
  assert.deepEqual(check("region="), { ok: true, regions: ["GB"], since: null });
});

Deno.test("unknown, malformed and oversized region lists are refused as unknown_region", () => {
  for (
    const query of [
      "region=ZZ",
      "region=AE,ZZ",
      "region=%3Cscript%3E",
      `region=${"A,".repeat(200)}`,
    ]
  ) {
    const verdict = check(query);
    assert.ok(!verdict.ok, query);
    assert.equal(verdict.refusal.status, 400);
    assert.equal(verdict.refusal.error, "unknown_region");
    assert.deepEqual(verdict.extra?.regions, policy.regions);
  }
});

Deno.test("the refusal message quotes at most 16 printable characters of the value", () => {
  const verdict = check(`region=${encodeURIComponent("\u0000" + "B".repeat(40))}`);
  assert.ok(!verdict.ok);
  assert.equal(verdict.message, `Unknown region "?${"B".repeat(15)}…"`);
});

Deno.test("since gives a cursor per subscribed region; empty since asks for recovery only", () => {
  const verdict = check("region=AE,FI,GB&since=AE:00000000000000ff,GB:k3j9x2p1:42");
  assert.ok(verdict.ok);
  assert.deepEqual(
    verdict.since,
    new Map<string, unknown>([
      ["AE", { kind: "message", fingerprint: "00000000000000ff" }],
      ["FI", null],
      ["GB", { kind: "position", position: { epoch: "k3j9x2p1", offset: 42 } }],
    ]),
  );
  const empty = check("region=GB&since=");
  assert.ok(empty.ok);
  assert.deepEqual(empty.since, new Map([["GB", null]]));
});

Deno.test("a malformed since is refused as invalid_since", () => {
  for (
    const query of [
      "region=AE&since=garbage",
      "region=AE&since=GB:abc:1",
      "region=AE&since=AE:abc:1,AE:abc:2",
      "region=AE&since=AE:ABC:1",
      "region=AE&since=AE:abc:-1",
      `region=AE&since=${"AE:abc:1,".repeat(200)}`,
    ]
  ) {
    const verdict = check(query);
    assert.ok(!verdict.ok, query);
    assert.equal(verdict.refusal.error, "invalid_since", query);
    assert.equal(verdict.refusal.status, 400);
  }
});

Deno.test("the guards answer in order: draining, version, origin, regions, token, capacity", async () => {
  const limits = new LocalLimits({
    maxConnections: 1,
    maxConnectionsPerIp: 1,
    ipv6PrefixLength: 64,
  });
  await limits.reserve("203.0.113.9");
  const everythingWrong = {
    params: new URLSearchParams("region=ZZ"),
    origin: "https://evil.example",
    host: "gw.example",
    protocol: null,
    address: "203.0.113.9",
    version: "8",
    token: "not-a-jwt" as string | null,
  };
  const context = {
    draining: true,
    origins: { kind: "same-origin" } as const,
    regions: policy.regions,
    defaultRegion: policy.defaultRegion,
    limits,
    tokens: new ConnectTokens({ ...NO_TOKENS, mode: "required", secret: TEST_SECRET }),
  };
  const errorOf = async (request: typeof everythingWrong, draining: boolean) => {
    const verdict = await checkHandshake(request, { ...context, draining }, { reserve: false });
    return verdict.ok ? "accepted" : verdict.refusal.error;
  };
  assert.equal(await errorOf(everythingWrong, true), "draining");
  assert.equal(await errorOf(everythingWrong, false), "unsupported_version");
  assert.equal(await errorOf({ ...everythingWrong, version: "13" }, false), "origin_not_allowed");
  const sameOrigin = { ...everythingWrong, version: "13", origin: "https://gw.example" };
  assert.equal(await errorOf(sameOrigin, false), "unknown_region");
  const badToken = { ...sameOrigin, params: new URLSearchParams("region=AE") };
  assert.equal(await errorOf(badToken, false), "invalid_token");
  const token = await new SignJWT({ regions: ["AE"] }).setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1h").sign(new TextEncoder().encode(TEST_SECRET));
  assert.equal(
    await errorOf({ ...badToken, token, params: new URLSearchParams("region=AE,GB") }, false),
    "region_not_allowed",
  );
  const known = { ...badToken, token };
  assert.equal(await errorOf(known, false), "too_many_connections");
  limits.release("203.0.113.9");
  assert.equal(await errorOf(known, false), "accepted");
  const probe = await checkHandshake({ ...known, version: null }, { ...context, draining: false }, {
    reserve: false,
  });
  assert.ok(probe.ok, "the probe has no version to check");
});

Deno.test("an unsupported version is told which one to use", async () => {
  const verdict = await checkHandshake({
    params: new URLSearchParams(),
    origin: null,
    host: "gw",
    protocol: null,
    address: "a",
    version: "8",
    token: null,
  }, {
    draining: false,
    origins: { kind: "any" },
    regions: policy.regions,
    defaultRegion: policy.defaultRegion,
    limits: new LocalLimits({ maxConnections: 1, maxConnectionsPerIp: 1, ipv6PrefixLength: 64 }),
    tokens: new ConnectTokens(NO_TOKENS),
  }, { reserve: true });
  assert.ok(!verdict.ok);
  assert.equal(verdict.refusal.status, 426);
  assert.deepEqual(verdict.headers, { "sec-websocket-version": "13" });
});
