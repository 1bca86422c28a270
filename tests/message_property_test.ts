import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePublication } from "../lib/message.ts";

const encoder = new TextEncoder();
const RUNS = 2000;

/** Parses, asserting it never throws; returns the verdict. */
function parse(payload: Uint8Array, region: string | null = "AE") {
  return parsePublication(payload, { region });
}

/** Every accepted message is accepted again, unchanged, when published once more. */
function assertStable(payload: Uint8Array, region: string | null = "AE"): void {
  const first = parse(payload, region);
  if (!first.ok) return;
  const again = parse(encoder.encode(first.message.body), first.message.region);
  assert.ok(again.ok, `round trip rejected: ${!again.ok && again.reason}`);
  assert.equal(again.message.body, first.message.body);
  assert.equal(again.message.dedupeKey, first.message.dedupeKey);
}

const anyText = fc.string({ unit: "binary", maxLength: 80 });
/** Letters, combining marks, controls, bidi marks and spaces: where normalisation bugs hide. */
const trickyText = fc.string({
  unit: fc.constantFrom(
    "e",
    "c",
    "A",
    "\u0301",
    "\u030C",
    "\u0001",
    "\u0085",
    "\u200F",
    " ",
    "ا",
    "\u2066",
    "\u2069",
    "\uAC00",
    "\u1161",
  ),
  maxLength: 40,
});
const trendingMessage = fc.record({
  event: fc.constantFrom("new_trending", "new_trending", "video_removed", "Bad-Event"),
  region: fc.option(fc.constantFrom("AE", "ae", "GB", ""), { nil: undefined }),
  video_id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), anyText, fc.integer()),
  title: fc.oneof(
    anyText,
    trickyText,
    fc.string({ unit: "grapheme", maxLength: 600 }),
    fc.constant(null),
  ),
  channel: fc.option(fc.oneof(anyText, trickyText), { nil: undefined }),
  thumbnail: fc.option(fc.oneof(fc.webUrl(), anyText), { nil: undefined }),
  rtl: fc.option(fc.oneof(fc.boolean(), fc.string()), { nil: undefined }),
  ts: fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
  extra: fc.option(fc.jsonValue({ maxDepth: 20 }), { nil: undefined }),
}, { requiredKeys: ["event"] });

Deno.test("no byte sequence crashes the parser", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      parse(bytes);
    }),
    { numRuns: RUNS },
  );
});

Deno.test("no JSON value crashes the parser, and accepted ones survive a round trip", () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 24 }), fc.constantFrom("AE", null), (value, region) => {
      assertStable(encoder.encode(JSON.stringify(value)), region);
    }),
    { numRuns: RUNS },
  );
});

Deno.test("trending-shaped messages never crash the parser and round-trip when accepted", () => {
  fc.assert(
    fc.property(trendingMessage, fc.constantFrom("AE", "GB", null), (message, region) => {
      assertStable(encoder.encode(JSON.stringify(message)), region);
    }),
    { numRuns: RUNS },
  );
});

Deno.test("accepted new_trending messages carry a dir and a boolean rtl", () => {
  fc.assert(
    fc.property(trendingMessage, (message) => {
      const result = parse(encoder.encode(JSON.stringify({ ...message, event: "new_trending" })));
      if (!result.ok) return;
      const body = JSON.parse(result.message.body);
      assert.ok(body.dir === "rtl" || body.dir === "ltr");
      assert.equal(typeof body.rtl, "boolean");
      assert.equal(body.region, "AE");
      if (body.thumbnail !== undefined) assert.ok(body.thumbnail.startsWith("https://"));
    }),
    { numRuns: RUNS },
  );
});
