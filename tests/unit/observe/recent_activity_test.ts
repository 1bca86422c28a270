import assert from "node:assert/strict";
import { mergeActivity, RecentActivity } from "../../../lib/observe/recent_activity.ts";

Deno.test("a flood of anonymous refusals is counted, and leaves the producers' refusals listed", () => {
  const activity = new RecentActivity();
  activity.refused({ kind: "publication", reason: "invalid_json", region: "FI", detail: "{not" });
  for (let i = 0; i < 10_000; i++) {
    activity.counted({ kind: "handshake", reason: "unknown_region", detail: `10.0.0.${i % 250}` });
  }
  activity.counted({ kind: "publish_request", reason: "unauthorized", detail: "no token" });
  const { refusals, refusalCounts } = activity.snapshot();
  assert.deepEqual(refusals.map((refusal) => refusal.reason), ["invalid_json"]);
  const counts = Object.fromEntries(refusalCounts.map((entry) => [entry.reason, entry.count]));
  assert.deepEqual(counts, { unknown_region: 10_000, unauthorized: 1 });
  const handshakes = refusalCounts.find((entry) => entry.reason === "unknown_region");
  assert.equal(handshakes?.latest.detail, "10.0.0.249", "the latest one is kept");
});

Deno.test("a process of workers adds up the counts and keeps the latest of each", () => {
  const [a, b] = [new RecentActivity(), new RecentActivity()];
  a.counted({ kind: "handshake", reason: "draining", detail: "first" });
  b.counted({ kind: "handshake", reason: "draining", detail: "second" });
  b.counted({ kind: "handshake", reason: "draining", detail: "third" });
  const merged = mergeActivity([a.snapshot(), b.snapshot()]);
  assert.equal(merged.refusalCounts.length, 1);
  assert.equal(merged.refusalCounts[0]!.count, 3);
  assert.equal(merged.refusalCounts[0]!.latest.detail, "third");
});
