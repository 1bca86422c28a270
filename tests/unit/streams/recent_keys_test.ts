import assert from "node:assert/strict";
import { RecentKeys } from "../../../lib/streams/recent_keys.ts";

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
