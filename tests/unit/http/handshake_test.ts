import assert from "node:assert/strict";
import { checkRegions } from "../../../lib/http/handshake.ts";

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
