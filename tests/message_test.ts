import assert from "node:assert/strict";
import { parsePublication } from "../lib/message.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("a JSON object with a string event is accepted and re-serialised without escapes", () => {
  const result = parsePublication(
    bytes('{"event":"new_trending","title":"\\u010desk\\u00e1","u":"https:\\/\\/a"}'),
  );
  assert.ok(result.ok);
  assert.equal(result.message.event, "new_trending");
  assert.equal(result.message.body, '{"event":"new_trending","title":"česká","u":"https://a"}');
});

Deno.test("each kind of bad publication is rejected with its reason", () => {
  const cases: [Uint8Array, string][] = [
    [bytes(""), "empty"],
    [bytes("x".repeat(16385)), "too_large"],
    [new Uint8Array([0x7b, 0xff, 0x7d]), "invalid_utf8"],
    [new Uint8Array([0xed, 0xa0, 0x80]), "invalid_utf8"],
    [bytes("{"), "invalid_json"],
    [bytes("null"), "not_object"],
    [bytes("[]"), "not_object"],
    [bytes("1"), "not_object"],
    [bytes("{}"), "missing_event"],
    [bytes('{"event":null}'), "missing_event"],
  ];
  for (const [payload, reason] of cases) {
    const result = parsePublication(payload);
    assert.ok(!result.ok);
    assert.equal(result.reason, reason);
  }
});

Deno.test("a payload at the size limit is accepted", () => {
  const padding = "x".repeat(16384 - '{"event":"e","p":""}'.length);
  assert.ok(parsePublication(bytes(`{"event":"e","p":"${padding}"}`)).ok);
});
