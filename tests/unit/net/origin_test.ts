import assert from "node:assert/strict";
import { originAllowed } from "../../../lib/net/origin.ts";

Deno.test("same-origin allows the gateway's own host and clients without Origin", () => {
  const policy = { kind: "same-origin" } as const;
  assert.ok(originAllowed(policy, null, "gw.example:8765"));
  assert.ok(originAllowed(policy, "https://gw.example:8765", "GW.example:8765"));
  assert.ok(!originAllowed(policy, "https://evil.example", "gw.example:8765"));
  assert.ok(!originAllowed(policy, "null", "gw.example:8765"));
});

Deno.test("a list allows exactly its origins, * allows any", () => {
  const policy = { kind: "list", origins: ["https://trendvidstream.com"] } as const;
  assert.ok(originAllowed(policy, "https://trendvidstream.com", "gw"));
  assert.ok(!originAllowed(policy, "http://trendvidstream.com", "gw"));
  assert.ok(!originAllowed(policy, "https://trendvidstream.com:444", "gw"));
  assert.ok(originAllowed({ kind: "any" }, "https://anything.example", "gw"));
});

Deno.test("the gateway's own origin is always allowed, whatever the list", () => {
  const policy = { kind: "list", origins: ["https://trendvidstream.com"] } as const;
  assert.ok(originAllowed(policy, "https://ws.trendvidstream.com", "ws.trendvidstream.com"));
  assert.ok(originAllowed(policy, "http://localhost:8765", "localhost:8765"));
  assert.ok(!originAllowed(policy, "http://localhost:8766", "localhost:8765"));
});
