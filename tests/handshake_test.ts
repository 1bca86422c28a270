import assert from "node:assert/strict";
import { checkRegions } from "../lib/handshake.ts";

const policy = { regions: ["AE", "FI", "GB"], defaultRegion: "GB" };
const check = (query: string) => checkRegions(new URLSearchParams(query), policy);

Deno.test("regions are read case-insensitively, in order, without repeats", () => {
  assert.deepEqual(check("region=fi,AE,fi"), { ok: true, regions: ["FI", "AE"] });
  assert.deepEqual(check("region=ae&region=gb"), { ok: true, regions: ["AE", "GB"] });
});

Deno.test("no region means the default region", () => {
  assert.deepEqual(check(""), { ok: true, regions: ["GB"] });
  assert.deepEqual(check("region="), { ok: true, regions: ["GB"] });
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
