import assert from "node:assert/strict";
import { memoryCeiling } from "../../../lib/config/memory_ceiling.ts";

Deno.test("the host's memory is the ceiling", () => {
  assert.deepEqual(memoryCeiling(() => ({ total: 24 * 1024 ** 3 })), {
    bytes: 24 * 1024 ** 3,
    source: "host memory",
  });
});

Deno.test("without the figure (no permission), a modest fallback", () => {
  const denied = () => {
    throw new Deno.errors.NotCapable("Requires sys access to systemMemoryInfo");
  };
  assert.equal(memoryCeiling(denied).bytes, 1024 ** 3);
});
