import assert from "node:assert/strict";
import { startTestGateway } from "./support/gateway.ts";
import { TestClient } from "./support/ws_client.ts";

const message = JSON.stringify({
  event: "new_trending",
  region: "DK",
  video_id: "v1",
  title: "Ærø",
  thumbnail: "javascript:alert(1)",
});
const post = (url: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${url}/publish`, {
    method: "POST",
    body: init.body ?? message,
    headers: { "content-type": "application/json", ...init.headers },
  });

Deno.test("POST /publish without a token accepts loopback clients and delivers", async () => {
  const gateway = await startTestGateway();
  const client = await TestClient.connect(`${gateway.ws}/?region=DK`);
  try {
    const response = await post(gateway.http);
    assert.equal(response.status, 202);
    const expected = {
      event: "new_trending",
      region: "DK",
      video_id: "v1",
      title: "Ærø",
      dir: "ltr",
      rtl: false,
    };
    assert.deepEqual(await response.json(), {
      published: true,
      region: "DK",
      receivers: 1,
      message: expected,
    });
    await client.waitForFrames(1);
    const { id, ...delivered } = client.messages[0] ?? {};
    assert.deepEqual(delivered, expected, "the unsafe thumbnail is gone");
    assert.match(String(id), /^DK:[0-9a-f]{16}$/);
  } finally {
    await client.close();
    await gateway.close();
  }
});

Deno.test("POST /publish with PUBLISH_TOKEN set needs the bearer token", async () => {
  const token = "s3cret-token-0123456789";
  const gateway = await startTestGateway({ PUBLISH_TOKEN: token });
  try {
    const missing = await post(gateway.http);
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).error, "unauthorized");
    const wrong = await post(gateway.http, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await post(gateway.http, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(right.status, 202);
    await right.body?.cancel();
  } finally {
    await gateway.close();
  }
});

Deno.test("POST /publish answers 400, 413, 415 and 405 with a JSON reason", async () => {
  const gateway = await startTestGateway();
  try {
    const cases: [Promise<Response>, number, string][] = [
      [post(gateway.http, { body: "{oops" }), 400, "invalid_message"],
      [
        post(gateway.http, { body: '{"event":"new_trending","region":"DK"}' }),
        400,
        "invalid_message",
      ],
      [post(gateway.http, { body: '{"event":"x"}' }), 400, "invalid_message"],
      [post(gateway.http, { body: '{"event":"x","region":"ZZ"}' }), 400, "unknown_region"],
      [post(gateway.http, { body: "x".repeat(20000) }), 413, "too_large"],
      [
        post(gateway.http, { headers: { "content-type": "text/plain" } }),
        415,
        "unsupported_media_type",
      ],
      [fetch(`${gateway.http}/publish`), 405, "method_not_allowed"],
    ];
    for (const [pending, status, error] of cases) {
      const response = await pending;
      assert.equal(response.status, status, error);
      assert.equal((await response.json()).error, error);
    }
    const viaQuery = await fetch(`${gateway.http}/publish?region=fi`, {
      method: "POST",
      body: '{"event":"x"}',
      headers: { "content-type": "application/json" },
    });
    assert.equal(viaQuery.status, 202);
    assert.equal((await viaQuery.json()).region, "FI");
  } finally {
    await gateway.close();
  }
});
