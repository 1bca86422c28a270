import assert from "node:assert/strict";
import { fingerprint } from "../../../lib/contract/fingerprint.ts";

const encoder = new TextEncoder();

Deno.test("a fingerprint is 16 hex digits, the same for the same bytes, different for others", () => {
  const one = fingerprint(encoder.encode('{"event":"new_trending","video_id":"a"}'));
  assert.match(one, /^[0-9a-f]{16}$/);
  assert.equal(fingerprint(encoder.encode('{"event":"new_trending","video_id":"a"}')), one);
  assert.notEqual(fingerprint(encoder.encode('{"event":"new_trending","video_id":"b"}')), one);
  assert.notEqual(fingerprint(new Uint8Array(0)), fingerprint(new Uint8Array(1)));
});

Deno.test("fingerprints of 100,000 similar publications do not collide", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    seen.add(
      fingerprint(encoder.encode(`{"event":"new_trending","video_id":"v${i}","ts":1732800000}`)),
    );
  }
  assert.equal(seen.size, 100_000);
});
