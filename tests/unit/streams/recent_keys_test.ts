import assert from "node:assert/strict";
import { RecentKeys, SAME_SIGHTING_MS } from "../../../lib/streams/recent_keys.ts";

Deno.test("a key is new once per window, counted from its first sighting", () => {
  let now = 0;
  const keys = new RecentKeys({ windowMs: 1000, capacity: 10, now: () => now });
  assert.equal(keys.claim("a"), true);
  now = 999;
  assert.equal(keys.claim("a"), false);
  now = 1000;
  assert.equal(keys.claim("a"), true, "the window ends 1000 ms after the first sighting");
});

Deno.test("memory stays within capacity, oldest forgotten first", () => {
  const keys = new RecentKeys({ windowMs: 60_000, capacity: 3, now: () => 0 });
  for (const key of ["a", "b", "c", "d"]) assert.equal(keys.claim(key), true);
  assert.equal(keys.size, 3);
  assert.equal(keys.claim("a"), true, "a was evicted");
  assert.equal(keys.claim("d"), false, "d is still remembered");
});

Deno.test("expired keys are dropped, so memory follows the window", () => {
  let now = 0;
  const keys = new RecentKeys({ windowMs: 100, capacity: 1000, now: () => now });
  for (let i = 0; i < 500; i++) keys.claim(`k${i}`);
  now = 200;
  keys.claim("fresh");
  assert.equal(keys.size, 1);
});

Deno.test("a key merged from another instance is new once more for its own first publication", () => {
  const now = 1000;
  const keys = new RecentKeys({ windowMs: 60_000, capacity: 10, now: () => now });
  // Another instance saw "v1" first in publication f1, 200 ms ago; this one holds f1 too.
  keys.merge([
    { key: "v1", seenAt: 800, fingerprint: "f1" },
    { key: "v2", seenAt: 800, fingerprint: "f2" },
  ]);
  assert.equal(keys.claim("v1", "f1"), true, "f1 itself: new here as there");
  assert.equal(keys.claim("v1", "f1"), false, "and once only");
  assert.equal(keys.claim("v2", "f9"), false, "another publication of v2: a repeat");
  assert.equal(keys.claim("v2", "f2"), false, "the first claim settles it");
});

Deno.test("a merged first sighting stops counting as this instance's after a while", () => {
  let now = 0;
  const keys = new RecentKeys({ windowMs: 3_600_000, capacity: 10, now: () => now });
  keys.merge([{ key: "v1", seenAt: 0, fingerprint: "f1" }]);
  now = SAME_SIGHTING_MS;
  assert.equal(keys.claim("v1", "f1"), false, "the same bytes republished later: a repeat");
});
