import assert from "node:assert/strict";
import { utf8Length } from "../../../lib/contract/utf8.ts";

Deno.test("utf8Length equals the encoded length, surrogates included", () => {
  const encoder = new TextEncoder();
  for (const text of ["", "ascii", "é", "č€", "مرحبا", "🎬👨‍👩‍👧", "\ud800x", "x\udc00", "\ud83c"]) {
    assert.equal(utf8Length(text), encoder.encode(text).byteLength, JSON.stringify(text));
  }
});
