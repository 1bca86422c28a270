import assert from "node:assert/strict";
import { startTestGateway } from "../support/gateway.ts";

Deno.test("GET / serves the page, with an ETag that answers 304", async () => {
  await using gateway = await startTestGateway();
  const page = await fetch(`${gateway.http}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await page.text(), /<html/);
  const etag = page.headers.get("etag") ?? "";
  const again = await fetch(`${gateway.http}/`, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  await again.body?.cancel();
});

Deno.test("health, readiness, metrics, probes and unknown paths answer as documented", async () => {
  await using gateway = await startTestGateway();
  const expectations: [string, number, RegExp][] = [
    ["/healthz", 200, /"ok"/],
    ["/readyz", 200, /"ready"/],
    ["/metrics", 200, /tvs_broker_connected\{broker="memory"\} 1/],
    ["/ws?region=AE", 426, /upgrade_required/],
    ["/ws?region=ZZ", 400, /unknown_region/],
    ["/nope", 404, /not_found/],
  ];
  for (const [path, status, body] of expectations) {
    const response = await fetch(`${gateway.http}${path}`);
    assert.equal(response.status, status, path);
    assert.match(await response.text(), body, path);
  }
  const wrongMethod = await fetch(`${gateway.http}/healthz`, { method: "DELETE" });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "GET, HEAD");
  await wrongMethod.body?.cancel();
});

Deno.test("the client library and the refusal probe are readable cross-origin by the allowed origins only", async () => {
  await using gateway = await startTestGateway({ ALLOWED_ORIGINS: "https://trendvidstream.com" });
  const get = (path: string, origin?: string) =>
    fetch(`${gateway.http}${path}`, { headers: origin === undefined ? {} : { origin } });
  for (const path of ["/tvs-client.js", "/close_codes.js"]) {
    const allowed = await get(path, "https://trendvidstream.com");
    assert.equal(
      allowed.headers.get("access-control-allow-origin"),
      "https://trendvidstream.com",
    );
    assert.equal(allowed.headers.get("vary"), "Origin", path);
    await allowed.body?.cancel();
    const other = await get(path, "https://evil.example");
    assert.equal(other.headers.get("access-control-allow-origin"), null, path);
    assert.equal(other.headers.get("vary"), "Origin", "caches keep the answers apart");
    await other.body?.cancel();
  }
  // The probe answers every origin: one that may not connect learns only that.
  const refused = await get("/ws?region=AE", "https://evil.example");
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get("access-control-allow-origin"), "https://evil.example");
  assert.equal((await refused.json()).error, "origin_not_allowed");
  const unknown = await get("/ws?region=ZZ", "https://trendvidstream.com");
  assert.equal(unknown.status, 400);
  assert.equal(unknown.headers.get("access-control-allow-origin"), "https://trendvidstream.com");
  await unknown.body?.cancel();
  // Nothing else is readable from another origin.
  for (const path of ["/", "/app.js", "/config.json", "/metrics", "/readyz"]) {
    const response = await get(path, "https://trendvidstream.com");
    assert.equal(response.headers.get("access-control-allow-origin"), null, path);
    await response.body?.cancel();
  }
});
