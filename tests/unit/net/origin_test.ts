import assert from "node:assert/strict";
import { originAllowed, type OriginPolicy, parseOriginPattern } from "../../../lib/net/origin.ts";

/** A request to `host`, its scheme unknown (no trusted proxy said). */
const to = (host: string, protocol: string | null = null) => ({ host, protocol });

function listOf(...origins: string[]): OriginPolicy {
  return { kind: "list", origins: origins.map(parseOriginPattern) };
}

Deno.test("same-origin allows the gateway's own host and clients without Origin", () => {
  const policy = { kind: "same-origin" } as const;
  assert.ok(originAllowed(policy, null, to("gw.example:8765")));
  assert.ok(originAllowed(policy, "https://gw.example:8765", to("GW.example:8765")));
  assert.ok(!originAllowed(policy, "https://evil.example", to("gw.example:8765")));
  assert.ok(!originAllowed(policy, "null", to("gw.example:8765")));
});

Deno.test("the gateway's own host counts only over http or https, and over the scheme a proxy names", () => {
  const policy = { kind: "same-origin" } as const;
  assert.ok(!originAllowed(policy, "ftp://gw.example", to("gw.example")));
  assert.ok(!originAllowed(policy, "chrome-extension://gw.example", to("gw.example")));
  assert.ok(originAllowed(policy, "https://gw.example", to("gw.example", "https:")));
  assert.ok(!originAllowed(policy, "http://gw.example", to("gw.example", "https:")));
});

Deno.test("a list allows exactly its origins, scheme, host and port; * allows any", () => {
  const policy = listOf("https://trendvidstream.com");
  assert.ok(originAllowed(policy, "https://trendvidstream.com", to("gw")));
  assert.ok(!originAllowed(policy, "http://trendvidstream.com", to("gw")));
  assert.ok(!originAllowed(policy, "https://trendvidstream.com:444", to("gw")));
  assert.ok(!originAllowed(policy, "ftp://trendvidstream.com", to("gw")));
  assert.ok(originAllowed({ kind: "any" }, "https://anything.example", to("gw")));
});

Deno.test("https://*.example.com allows every subdomain at any depth, not the apex nor look-alikes", () => {
  const policy = listOf("https://*.trendvidstream.com");
  assert.ok(originAllowed(policy, "https://www.trendvidstream.com", to("gw")));
  assert.ok(originAllowed(policy, "https://a.b.trendvidstream.com", to("gw")));
  assert.ok(!originAllowed(policy, "https://trendvidstream.com", to("gw")));
  assert.ok(!originAllowed(policy, "https://eviltrendvidstream.com", to("gw")));
  assert.ok(!originAllowed(policy, "https://www.trendvidstream.com.evil.example", to("gw")));
  assert.ok(!originAllowed(policy, "http://www.trendvidstream.com", to("gw")));
  assert.ok(!originAllowed(policy, "https://www.trendvidstream.com:8443", to("gw")));
  assert.ok(
    originAllowed(listOf("https://*.example.com:8443"), "https://a.example.com:8443", to("gw")),
  );
});

Deno.test("wildcards other than a leading *. in the host are refused, as are paths", () => {
  for (const bad of ["https://ex*.com", "https://*", "*://example.com", "https://a.*.com"]) {
    assert.throws(() => parseOriginPattern(bad), SyntaxError, bad);
  }
  assert.throws(() => parseOriginPattern("https://example.com/page"), SyntaxError);
  assert.throws(() => parseOriginPattern("ftp://example.com"), SyntaxError);
  assert.equal(parseOriginPattern("https://Example.com/").host, "example.com");
});

Deno.test("the gateway's own origin is always allowed, whatever the list", () => {
  const policy = listOf("https://trendvidstream.com");
  assert.ok(originAllowed(policy, "https://ws.trendvidstream.com", to("ws.trendvidstream.com")));
  assert.ok(originAllowed(policy, "http://localhost:8765", to("localhost:8765")));
  assert.ok(!originAllowed(policy, "http://localhost:8766", to("localhost:8765")));
});
