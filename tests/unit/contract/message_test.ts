import assert from "node:assert/strict";
import { MemoryBroker } from "../../../lib/brokers/memory.ts";
import { fingerprint } from "../../../lib/contract/fingerprint.ts";
import { Streams } from "../../../lib/streams/streams.ts";
import { parsePublication, type RejectReason } from "../../../lib/contract/message.ts";

const encoder = new TextEncoder();

/** A valid new_trending message with `fields` overriding or adding fields. */
function trending(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event: "new_trending",
    region: "AE",
    video_id: "dQw4w9WgXcQ",
    title: "A title",
    thumbnail: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hq.jpg",
    channel: "TVS",
    ts: 1732800000,
    ...fields,
  };
}

interface Case {
  readonly name: string;
  /** The channel's region; `null` is an HTTP publish. @default "AE" */
  readonly channel?: string | null;
  /** An object is serialised with JSON.stringify; a string is published as is. */
  readonly payload: Record<string, unknown> | string | Uint8Array;
  /** The rejection reason, or the fields the accepted message must carry. */
  readonly expect: RejectReason | Record<string, unknown>;
  /** Fields the accepted message must not carry. */
  readonly absent?: readonly string[];
}

const decomposedCzech =
  "Pr\u030Ci\u0301lis\u030C z\u030Clut\u030Couc\u030Cky\u0301 ku\u030An\u030C";
const longThumbnail = "https://cdn.example/" + "a".repeat(2048);

const CASES: readonly Case[] = [
  // Scripts and direction.
  {
    name: "Arabic title in AE",
    payload: trending({ title: "هدف رائع في الدقيقة الأخيرة", rtl: true }),
    expect: { title: "هدف رائع في الدقيقة الأخيرة", dir: "rtl", rtl: true },
  },
  {
    name: "Hebrew title",
    channel: "GB",
    payload: trending({ region: "GB", title: "שיר חדש של הלהקה" }),
    expect: { dir: "rtl", rtl: true },
  },
  {
    name: "Persian title",
    payload: trending({ title: "ویدیوی پربازدید امروز" }),
    expect: { dir: "rtl", rtl: true },
  },
  {
    name: "Urdu title",
    payload: trending({ title: "آج کی مقبول ترین ویڈیو" }),
    expect: { dir: "rtl", rtl: true },
  },
  {
    name: "Czech title, composed",
    channel: "CZ",
    payload: trending({ region: "CZ", title: "Příliš žluťoučký kůň" }),
    expect: { title: "Příliš žluťoučký kůň", dir: "ltr", rtl: false },
  },
  {
    name: "Czech title, decomposed (c + U+030C) arrives composed",
    channel: "CZ",
    payload: trending({ region: "CZ", title: decomposedCzech }),
    expect: { title: "Příliš žluťoučký kůň", dir: "ltr" },
  },
  {
    name: "Finnish title",
    channel: "FI",
    payload: trending({ region: "FI", title: "Hyvää yötä, Äänekoski" }),
    expect: { title: "Hyvää yötä, Äänekoski", dir: "ltr" },
  },
  {
    name: "Danish title",
    channel: "DK",
    payload: trending({ region: "DK", title: "Rødgrød med fløde på Ærø" }),
    expect: { title: "Rødgrød med fløde på Ærø" },
  },
  {
    name: "emoji ZWJ sequences survive intact",
    channel: "GB",
    payload: trending({ region: "GB", title: "👨‍👩‍👧‍👦 family of 🏳️‍🌈 fans" }),
    expect: { title: "👨‍👩‍👧‍👦 family of 🏳️‍🌈 fans", dir: "ltr" },
  },
  {
    name: "emoji only: no strong character, left-to-right",
    payload: trending({ title: "🔥🔥🔥 2024" }),
    expect: { dir: "ltr", rtl: false },
  },
  {
    name: "mixed, Latin first",
    payload: trending({ title: "Messi يسجل هدفا رائعا" }),
    expect: { dir: "ltr", rtl: false },
  },
  {
    name: "mixed, Arabic first",
    channel: "GB",
    payload: trending({ region: "GB", title: "هدف Messi الرائع" }),
    expect: { dir: "rtl", rtl: true },
  },
  {
    name: "numbers-first Arabic",
    payload: trending({ title: "2024 كأس العالم" }),
    expect: { dir: "rtl", rtl: true },
  },
  {
    name: "an isolated English quote does not decide an Arabic title; an RLM keeps it so",
    payload: trending({ title: "\u2066Top 10\u2069 أفضل الأهداف" }),
    expect: { dir: "rtl", title: "\u200fTop 10 أفضل الأهداف" },
  },
  {
    name: "English title in AE with rtl:true keeps rtl but is dir ltr",
    payload: trending({ title: "Dubai skyline at night", rtl: true }),
    expect: { dir: "ltr", rtl: true },
  },
  // Title limits and normalisation.
  {
    name: "title of 500 characters",
    payload: trending({ title: "é".repeat(500) }),
    expect: { title: "é".repeat(500) },
  },
  {
    name: "title of 500 emoji (code points, not UTF-16 units)",
    payload: trending({ title: "🎬".repeat(500) }),
    expect: { title: "🎬".repeat(500) },
  },
  {
    name: "title of 501 characters",
    payload: trending({ title: "a".repeat(501) }),
    expect: "invalid_title",
  },
  { name: "title of spaces only", payload: trending({ title: "   \t " }), expect: "invalid_title" },
  {
    name: "title trimmed",
    payload: trending({ title: "  Padded  " }),
    expect: { title: "Padded" },
  },
  {
    name: "C0 and C1 control characters removed",
    payload: trending({ title: "Hello\u0000\u0007 World\u0085\u009b", channel: "a\nb" }),
    expect: { title: "Hello World", channel: "ab" },
  },
  {
    name: "bidi embeddings, overrides and isolates removed; LRM, RLM, ALM, ZWJ and ZWNJ kept",
    payload: trending({
      title: "\u202eevil\u202c \u2067هدف\u2069 \u202adone",
      channel: "\u200fقناة\u200e \u061c می\u200cخواهم 👩\u200d💻",
    }),
    expect: { title: "evil هدف done", channel: "\u200fقناة\u200e \u061c می\u200cخواهم 👩\u200d💻" },
  },
  {
    name: "a control character between a letter and its accent does not block composition",
    payload: trending({ title: "Cafe\u0001\u0301" }),
    expect: { title: "Café" },
  },
  {
    name: "title of control characters only",
    payload: trending({ title: "\u0001\u0002" }),
    expect: "invalid_title",
  },
  {
    name: "lone surrogate",
    payload: '{"event":"new_trending","video_id":"a","title":"bad \\ud800 text"}',
    expect: "invalid_unicode",
  },
  {
    name: "lone surrogate in an extra field",
    payload: '{"event":"other","note":"\\udfff"}',
    expect: "invalid_unicode",
  },
  {
    name: "invalid UTF-8 bytes",
    payload: new Uint8Array([
      ...encoder.encode('{"event":"x","t":"'),
      0xc3,
      0x28,
      ...encoder.encode('"}'),
    ]),
    expect: "invalid_utf8",
  },
  {
    name: "channel of 200 characters",
    payload: trending({ channel: "ø".repeat(200) }),
    expect: { channel: "ø".repeat(200) },
  },
  {
    name: "channel of 201 characters",
    payload: trending({ channel: "c".repeat(201) }),
    expect: "invalid_channel",
  },
  // Thumbnails: anything but an absolute https URL is removed, the message kept.
  {
    name: "https thumbnail kept",
    payload: trending(),
    expect: { thumbnail: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hq.jpg" },
  },
  {
    name: "escaped slashes in the thumbnail",
    payload: JSON.stringify(trending()).replaceAll("/", "\\/"),
    expect: { thumbnail: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hq.jpg" },
  },
  {
    name: "javascript: thumbnail",
    payload: trending({ thumbnail: "javascript:alert(1)" }),
    expect: {},
    absent: ["thumbnail"],
  },
  {
    name: "data: thumbnail",
    payload: trending({ thumbnail: "data:image/png;base64,AAAA" }),
    expect: {},
    absent: ["thumbnail"],
  },
  {
    name: "http: thumbnail",
    payload: trending({ thumbnail: "http://i.ytimg.com/x.jpg" }),
    expect: {},
    absent: ["thumbnail"],
  },
  {
    name: "http: thumbnail on a loopback host (a local gateway's demo)",
    payload: trending({ thumbnail: "http://localhost:8765/demo/thumbnails/ae-1.svg" }),
    expect: { thumbnail: "http://localhost:8765/demo/thumbnails/ae-1.svg" },
  },
  {
    name: "http: thumbnail on a host that only starts like loopback",
    payload: trending({ thumbnail: "http://localhost.evil.example/x.jpg" }),
    expect: {},
    absent: ["thumbnail"],
  },
  {
    name: "relative thumbnail",
    payload: trending({ thumbnail: "//i.ytimg.com/x.jpg" }),
    expect: {},
    absent: ["thumbnail"],
  },
  {
    name: "thumbnail with credentials",
    payload: trending({ thumbnail: "https://u:p@evil.example/x.jpg" }),
    expect: {},
    absent: ["thumbnail"],
  },
  {
    name: "thumbnail over 2,048 bytes",
    payload: trending({ thumbnail: longThumbnail }),
    expect: {},
    absent: ["thumbnail"],
  },
  {
    name: "thumbnail not a string",
    payload: trending({ thumbnail: 42 }),
    expect: {},
    absent: ["thumbnail"],
  },
  // Regions.
  {
    name: "region missing means the channel's",
    payload: trending({ region: undefined }),
    expect: { region: "AE" },
  },
  { name: "region in lower case", payload: trending({ region: "ae" }), expect: { region: "AE" } },
  {
    name: "region differs from the channel's",
    payload: trending({ region: "GB" }),
    expect: "region_mismatch",
  },
  { name: "region not a string", payload: trending({ region: 7 }), expect: "region_mismatch" },
  {
    name: "HTTP publish naming its region",
    channel: null,
    payload: trending({ region: "dk" }),
    expect: { region: "DK" },
  },
  {
    name: "HTTP publish naming no region",
    channel: null,
    payload: trending({ region: undefined }),
    expect: "missing_region",
  },
  // Wrong types and shapes.
  { name: "video_id a number", payload: trending({ video_id: 123 }), expect: "invalid_video_id" },
  {
    name: "video_id with a space",
    payload: trending({ video_id: "a b" }),
    expect: "invalid_video_id",
  },
  {
    name: "video_id of 64 characters",
    payload: trending({ video_id: "v".repeat(64) }),
    expect: { video_id: "v".repeat(64) },
  },
  {
    name: "video_id of 65 characters",
    payload: trending({ video_id: "v".repeat(65) }),
    expect: "invalid_video_id",
  },
  {
    name: "video_id missing",
    payload: trending({ video_id: undefined }),
    expect: "invalid_video_id",
  },
  { name: "title a number", payload: trending({ title: 7 }), expect: "invalid_title" },
  { name: "rtl a string", payload: trending({ rtl: "yes" }), expect: "invalid_rtl" },
  { name: "ts a string", payload: trending({ ts: "1732800000" }), expect: "invalid_ts" },
  { name: "ts a fraction", payload: trending({ ts: 1732800000.5 }), expect: "invalid_ts" },
  { name: "ts in milliseconds", payload: trending({ ts: 1732800000000 }), expect: "invalid_ts" },
  { name: "ts before 2000", payload: trending({ ts: 123 }), expect: "invalid_ts" },
  { name: "ts absent", payload: trending({ ts: undefined }), expect: {}, absent: ["ts"] },
  { name: "event missing", payload: trending({ event: undefined }), expect: "missing_event" },
  {
    name: "event not a string",
    payload: trending({ event: ["new_trending"] }),
    expect: "missing_event",
  },
  {
    name: "event in camel case",
    payload: trending({ event: "NewTrending" }),
    expect: "invalid_event",
  },
  { name: "event empty", payload: trending({ event: "" }), expect: "invalid_event" },
  { name: "an array", payload: "[]", expect: "not_object" },
  { name: "null", payload: "null", expect: "not_object" },
  { name: "not JSON", payload: "{event: new_trending}", expect: "invalid_json" },
  { name: "empty", payload: "", expect: "empty" },
  { name: "over 16 KiB", payload: trending({ extra: "x".repeat(16384) }), expect: "too_large" },
  {
    name: "nested 17 levels deep",
    payload: `{"event":"other","deep":${"[".repeat(16)}1${"]".repeat(16)}}`,
    expect: "too_deep",
  },
  // Growth of the contract.
  {
    name: "another event passes with the generic limits",
    payload: { event: "video_removed", video_id: "not checked here!" },
    expect: { event: "video_removed", region: "AE" },
    absent: ["dir", "rtl"],
  },
  {
    name: "unknown fields pass through, normalised",
    payload: trending({ views: 12345, tags: ["c\u030C", { nested: true }], __proto__x: 1 }),
    expect: { views: 12345, tags: ["č", { nested: true }], __proto__x: 1 },
  },
  {
    name: "a __proto__ key stays a plain field",
    payload: '{"event":"other","__proto__":{"polluted":true}}',
    expect: { event: "other" },
  },
];

function payloadBytes(payload: Case["payload"]): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  return encoder.encode(typeof payload === "string" ? payload : JSON.stringify(payload));
}

Deno.test("message corpus: each case has its expected outcome", () => {
  for (const testCase of CASES) {
    const result = parsePublication(payloadBytes(testCase.payload), {
      region: testCase.channel === undefined ? "AE" : testCase.channel,
    });
    if (typeof testCase.expect === "string") {
      assert.ok(!result.ok, `${testCase.name}: expected ${testCase.expect}, was accepted`);
      assert.equal(result.reason, testCase.expect, testCase.name);
      continue;
    }
    assert.ok(result.ok, `${testCase.name}: rejected as ${!result.ok && result.reason}`);
    const body = JSON.parse(result.message.body);
    for (const [field, value] of Object.entries(testCase.expect)) {
      assert.deepEqual(body[field], value, `${testCase.name}: ${field}`);
    }
    for (const field of testCase.absent ?? []) {
      assert.ok(!(field in body), `${testCase.name}: ${field} should be absent`);
    }
    assert.ok(!/\\u[0-9a-f]{4}/i.test(result.message.body), `${testCase.name}: no \\u escapes`);
    assert.ok(!result.message.body.includes("\\/"), `${testCase.name}: no escaped slashes`);
  }
});

Deno.test("a removed thumbnail is reported, and the dedupe key is the video_id", () => {
  const result = parsePublication(payloadBytes(trending({ thumbnail: "javascript:x" })), {
    region: "AE",
  });
  assert.ok(result.ok);
  assert.deepEqual(result.message.removed, ["thumbnail"]);
  assert.equal(result.message.dedupeKey, "dQw4w9WgXcQ");
  const other = parsePublication(payloadBytes({ event: "other" }), { region: "AE" });
  assert.ok(other.ok);
  assert.equal(other.message.dedupeKey, null);
});

Deno.test("a __proto__ field does not become the message's prototype", () => {
  const result = parsePublication(
    payloadBytes('{"event":"other","__proto__":{"polluted":true}}'),
    { region: "AE" },
  );
  assert.ok(result.ok);
  assert.equal(
    result.message.body,
    '{"event":"other","__proto__":{"polluted":true},"region":"AE"}',
  );
});

interface DuplicateCase {
  readonly name: string;
  /** Publications as [seconds after start, region, video_id]. */
  readonly sequence: readonly [number, string, string][];
  /** Whether each one goes out. */
  readonly delivered: readonly boolean[];
}

const DUPLICATES: readonly DuplicateCase[] = [
  {
    name: "the same video twice within the window",
    sequence: [[0, "AE", "v1"], [1800, "AE", "v1"]],
    delivered: [true, false],
  },
  {
    name: "the same video again after the window",
    sequence: [[0, "AE", "v1"], [3601, "AE", "v1"]],
    delivered: [true, true],
  },
  {
    name: "a repeat does not extend the window",
    sequence: [[0, "AE", "v1"], [3000, "AE", "v1"], [3601, "AE", "v1"]],
    delivered: [true, false, true],
  },
  {
    name: "the same bytes published twice",
    sequence: [[0, "AE", "v1"], [0, "AE", "v1"]],
    delivered: [true, false],
  },
  {
    name: "the same video in two regions",
    sequence: [[0, "AE", "v1"], [1, "GB", "v1"]],
    delivered: [true, true],
  },
  {
    name: "different videos",
    sequence: [[0, "AE", "v1"], [1, "AE", "v2"]],
    delivered: [true, true],
  },
];

Deno.test("duplicates inside and outside the window", () => {
  for (const testCase of DUPLICATES) {
    let now = 0;
    const streams = new Streams(new MemoryBroker(), {
      regions: ["AE", "GB"],
      dedupeWindowMs: 3_600_000,
      dedupeCapacity: 100,
      recentFrames: 10,
      now: () => now,
    });
    const delivered: boolean[] = [];
    for (const [seconds, region, videoId] of testCase.sequence) {
      now = seconds * 1000;
      const payload = payloadBytes(
        trending({ region, video_id: videoId, ts: 1732800000 + seconds }),
      );
      const result = parsePublication(payload, { region });
      assert.ok(result.ok);
      delivered.push(streams.claim(region, fingerprint(payload), result.message.dedupeKey));
    }
    assert.deepEqual(delivered, testCase.delivered, testCase.name);
  }
});
