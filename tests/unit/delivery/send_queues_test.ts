import assert from "node:assert/strict";
import { SendQueues } from "../../../lib/delivery/send_queues.ts";

Deno.test("a slot starts at zero, and a released one is given out again, zeroed", () => {
  const bounds = new SendQueues(1000);
  const a = bounds.allocate();
  const b = bounds.allocate();
  assert.notEqual(a, b);
  bounds.values[a] = 700;
  assert.equal(bounds.values[a], 700);
  bounds.release(a);
  const c = bounds.allocate();
  assert.equal(c, a, "the freed slot is reused");
  assert.equal(bounds.values[c], 0);
  assert.equal(bounds.budget, 1000);
});

Deno.test("the bounds grow past their first size and keep every value", () => {
  const bounds = new SendQueues(1);
  const before = bounds.values;
  const slots = Array.from({ length: 3000 }, () => bounds.allocate());
  for (const slot of slots) bounds.values[slot] = slot * 2;
  assert.notEqual(bounds.values, before, "a grown array: read values afresh");
  assert.ok(bounds.values.length >= 3000);
  for (const slot of slots) assert.equal(bounds.values[slot], slot * 2);
  assert.equal(new Set(slots).size, 3000);
});
