import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePublication } from "../../../lib/contract/message.ts";

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

/** A `new_trending` payload with `fields` over a valid base. */
function trendingPayload(fields: Record<string, unknown>): Uint8Array {
  return encoder.encode(JSON.stringify({
    event: "new_trending",
    video_id: "abc",
    title: "x",
    ...fields,
  }));
}

/** The characters of UTF-16 `codes`. */
const fromCodes = (codes: number[]) => codes.map((code) => String.fromCharCode(code));
/**
 * Text near the line between text the parser leaves as it is and text it normalises: characters
 * at the inner edges of the ranges it passes through, and at most one from just outside them.
 */
const nearPlainText = fc.tuple(
  fc.string({
    unit: fc.constantFrom(...fromCodes([0x20, 0x41, 0x61, 0x7e, 0xa0, 0xc5, 0x2ff, 0x621, 0x627])),
    minLength: 1,
    maxLength: 12,
  }),
  fc.option(
    fc.constantFrom(...fromCodes([0x1f, 0x7f, 0x9f, 0x300, 0x30a, 0x620, 0x64b, 0x653, 0xd800])),
  ),
  fc.nat(),
).map(([text, outsider, at]) => {
  if (outsider === null) return text;
  const cut = at % (text.length + 1);
  return text.slice(0, cut) + outsider + text.slice(cut);
});

Deno.test("titles come out as their NFC form without control or bidi control characters, trimmed", () => {
  fc.assert(
    fc.property(fc.oneof(nearPlainText, trickyText, anyText), (title) => {
      const result = parse(trendingPayload({ title }));
      if (!title.isWellFormed()) {
        assert.ok(!result.ok && result.reason === "invalid_unicode");
        return;
      }
      const expected = title.replace(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu, "").normalize("NFC")
        .trim();
      if (!result.ok) {
        assert.equal(expected, "", `rejected: ${result.reason}`);
        return;
      }
      const shown: string = JSON.parse(result.message.body).title;
      // Where stripped isolates decided the direction, a mark of it leads the title.
      if (shown !== expected) {
        assert.match(title, /[\u2066-\u2069]/);
        assert.equal(shown.slice(1), expected);
        assert.match(shown, /^[\u200e\u200f]/);
      }
    }),
    { numRuns: RUNS },
  );
});

/** A lower-case host name label. */
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,4}[a-z0-9])?$/);
/** https URLs as thumbnails are written: host names of lower-case labels, plain path segments. */
const plainUrl = fc.record({
  host: fc.array(label, { maxLength: 2 }),
  top: fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/),
  path: fc.array(fc.stringMatching(/^[\w~-]{1,5}(?:\.[\w~-]{1,3})?$/), { maxLength: 3 }),
  slash: fc.boolean(),
}).map(({ host, top, path, slash }) =>
  `https://${[...host, top].join(".")}/${path.join("/")}${slash && path.length > 0 ? "/" : ""}`
);
/** Changes that each make the URL parser rewrite a URL, or refuse it. */
const urlEdits: ((url: string) => string)[] = [
  (url) => url.replace("https", "HTTPS"),
  (url) => url.replace("https://", "https://u:p@"),
  (url) => url.replace(/(?<=^https:\/\/[^/]*)[a-z]/, (letter) => letter.toUpperCase()),
  (url) => url.replace(/\/(?=[^/]*$)/, ":443/"),
  (url) => url.replace(/\/(?=[^/]*$)/, "./"),
  (url) => url.replace("https://", "https://xn--"),
  (url) => url.replace("https://", "https://xn--a."),
  (url) => url.replace(/[a-z0-9]+\//, "1.2.3/"),
  (url) => url.replace(/[a-z0-9]+\//, "0x7f/"),
  (url) => url.replace(/[a-z0-9]+\//, "é/"),
  (url) => url + "/.",
  (url) => url + "/..",
  (url) => url + "/./x",
  (url) => url + "/%2e%2E/x",
  (url) => url + "%41",
  (url) => url + "?q=1",
  (url) => url + "#f",
  (url) => url + " x",
  (url) => url + "\\x",
  (url) => url + "é",
  (url) => url.replace(/\/$/, ""),
];
/** URL-shaped strings near the line between URLs kept as written and URLs the parser rewrites. */
const urlLike = fc.tuple(plainUrl, fc.option(fc.constantFrom(...urlEdits))).map(([url, edit]) =>
  edit === null ? url : edit(url)
);

/** What a thumbnail must come out as: the URL parser's canonical https URL, or nothing. */
function expectedThumbnail(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const safe = url.protocol === "https:" && url.hostname !== "" && !url.username && !url.password;
  return safe ? url.href : undefined;
}

Deno.test("thumbnails come out as the URL parser's https URL, or are removed", () => {
  fc.assert(
    fc.property(fc.oneof(urlLike, fc.webUrl({ withQueryParameters: true })), (thumbnail) => {
      const result = parse(trendingPayload({ thumbnail }));
      assert.ok(result.ok);
      assert.equal(JSON.parse(result.message.body).thumbnail, expectedThumbnail(thumbnail));
    }),
    { numRuns: RUNS },
  );
});

Deno.test("a payload is refused as invalid UTF-8 exactly when a strict decoder refuses it", () => {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const prefix = encoder.encode('{"event":"new_trending","video_id":"abc","title":"a');
  const suffix = encoder.encode('"}');
  const replacement = [0xef, 0xbf, 0xbd];
  const bytes = fc.array(
    fc.oneof(fc.integer({ min: 0x20, max: 0xff }), fc.constant(replacement)),
    { maxLength: 24 },
  );
  fc.assert(
    fc.property(bytes, (parts) => {
      const payload = Uint8Array.from([...prefix, ...parts.flat(), ...suffix]);
      let valid = true;
      try {
        strict.decode(payload);
      } catch {
        valid = false;
      }
      const result = parse(payload);
      assert.equal(!result.ok && result.reason === "invalid_utf8", !valid);
    }),
    { numRuns: RUNS },
  );
});
