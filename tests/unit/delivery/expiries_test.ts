import assert from "node:assert/strict";
import { Expiries } from "../../../lib/delivery/expiries.ts";
import { waitFor } from "../../support/wait.ts";

Deno.test("items fall due once their moment has passed, never before; deleted ones never", async () => {
  const due: string[] = [];
  const dueAt = new Map<string, number>();
  const expiries = new Expiries<string>((item) => {
    due.push(item);
    dueAt.set(item, Date.now());
  });
  const now = Date.now();
  expiries.add("past", now - 5000);
  expiries.add("soon", now + 1200);
  expiries.add("left", now + 1200);
  expiries.add("later", now + 2200);
  expiries.add("moved", now + 60_000);
  expiries.add("moved", now + 1500);
  expiries.delete("left");
  await waitFor(() => due.length === 4, { timeoutMs: 5000, what: "four due" });
  assert.equal(due[0], "past");
  assert.deepEqual(new Set(due), new Set(["past", "soon", "moved", "later"]));
  for (const [item, offset] of [["soon", 1200], ["moved", 1500], ["later", 2200]] as const) {
    const late = dueAt.get(item)! - (now + offset);
    assert.ok(late >= 0 && late < 2100, `${item} due ${late} ms after its moment`);
  }
});
