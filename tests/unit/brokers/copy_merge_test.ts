import assert from "node:assert/strict";
import { COPY_WINDOW_MS, CopyMerge } from "../../../lib/brokers/copy_merge.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("copy merge passes each publication once, from whichever connection brings it first", () => {
  const merge = new CopyMerge(() => 0);
  assert.equal(merge.pass(0, "AE", bytes("a")), true);
  assert.equal(merge.pass(1, "AE", bytes("a")), false);
  assert.equal(merge.pass(1, "AE", bytes("b")), true);
  assert.equal(merge.pass(0, "AE", bytes("b")), false);
});

Deno.test("copy merge passes the same bytes published twice twice, and drops both copies", () => {
  const merge = new CopyMerge(() => 0);
  const passed = [
    merge.pass(0, "AE", bytes("a")),
    merge.pass(0, "AE", bytes("a")),
    merge.pass(1, "AE", bytes("a")),
    merge.pass(1, "AE", bytes("a")),
  ];
  assert.deepEqual(passed, [true, true, false, false]);
});

Deno.test("copy merge tells regions apart", () => {
  const merge = new CopyMerge(() => 0);
  assert.equal(merge.pass(0, "AE", bytes("a")), true);
  assert.equal(merge.pass(1, "GB", bytes("a")), true);
});

Deno.test("copy merge forgets a publication after its window: a copy that late passes", () => {
  let now = 0;
  const merge = new CopyMerge(() => now);
  assert.equal(merge.pass(0, "AE", bytes("a")), true);
  now = COPY_WINDOW_MS - 1;
  assert.equal(merge.pass(1, "AE", bytes("a")), false);
  now = COPY_WINDOW_MS + 1;
  assert.equal(merge.pass(1, "AE", bytes("a")), true);
});
