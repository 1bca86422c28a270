import assert from "node:assert/strict";
import { startTestGateway } from "./support/gateway.ts";

Deno.test("GET / serves the page, with an ETag that answers 304", async () => {
  const gateway = await startTestGateway();
  try {
    const page = await fetch(`${gateway.http}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await page.text(), /<html/);
    const etag = page.headers.get("etag") ?? "";
    const again = await fetch(`${gateway.http}/`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    await again.body?.cancel();
  } finally {
    await gateway.close();
  }
});

Deno.test("health, readiness, metrics, probes and unknown paths answer as documented", async () => {
  const gateway = await startTestGateway();
  try {
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
  } finally {
    await gateway.close();
  }
});
