import assert from "node:assert/strict";
import { startTestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { rawRequest } from "../support/raw_http.ts";
import { TestClient } from "../support/ws_client.ts";

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

Deno.test("POST /publish with PUBLISH_INSECURE_LOOPBACK accepts a direct local request and delivers", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=DK`);
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
  const answer = await response.json();
  assert.match(String(answer.id), /^DK:[0-9a-f]{16}$/);
  assert.deepEqual(answer, {
    published: true,
    duplicate: false,
    id: answer.id,
    region: "DK",
    receivers: 1,
    message: expected,
  });
  await client.waitForFrames(1);
  const { id, ...delivered } = client.messages[0] ?? {};
  assert.deepEqual(delivered, expected, "the unsafe thumbnail is gone");
  assert.equal(id, answer.id, "the answer names the id clients get");
});

Deno.test("POST /publish of a video_id already delivered answers 200 duplicate, naming the first id, and sends nothing", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=DK`);
  const first = await (await post(gateway.http)).json();
  await client.waitForFrames(1);
  const again = JSON.stringify({ ...JSON.parse(message), title: "Ærø, igen" });
  const response = await post(gateway.http, { body: again });
  assert.equal(response.status, 200);
  const answer = await response.json();
  assert.deepEqual(answer, {
    published: false,
    duplicate: true,
    id: answer.id,
    duplicate_of: first.id,
    region: "DK",
  });
  assert.notEqual(answer.id, first.id);
  const bytesAgain = await post(gateway.http);
  assert.equal((await bytesAgain.json()).duplicate_of, first.id, "the same bytes again");
  const metrics = await gateway.metricsText();
  assert.equal(
    metricValue(metrics, 'tvs_publish_requests_total{result="duplicate",producer="loopback"}'),
    2,
  );
  const marker = JSON.stringify({ ...JSON.parse(message), video_id: "marker", title: "m" });
  await (await post(gateway.http, { body: marker })).body?.cancel();
  await client.waitForVideo("marker");
  assert.deepEqual(client.messages.map((entry) => entry.video_id), ["v1", "marker"]);
});

Deno.test("POST /publish with PUBLISH_TOKEN set needs the bearer token", async () => {
  const token = "s3cret-token-0123456789";
  await using gateway = await startTestGateway({ PUBLISH_TOKEN: token });
  const missing = await post(gateway.http);
  assert.equal(missing.status, 401);
  assert.equal((await missing.json()).error, "unauthorized");
  const wrong = await post(gateway.http, { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const right = await post(gateway.http, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(right.status, 202);
  await right.body?.cancel();
  assert.equal(wrong.headers.get("www-authenticate"), 'Bearer realm="publish"');
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_publish_requests_total{result="unauthorized"}'), 2);
  assert.equal(
    metricValue(metrics, 'tvs_publish_requests_total{result="published",producer="default"}'),
    1,
    "PUBLISH_TOKEN's holder is the producer named default",
  );
});

Deno.test("named publish tokens: each producer is named in metrics and logs, limited to its regions, never its token shown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tvs-tokens-" });
  const file = `${dir}/publish_tokens`;
  const cron = "cron-token-0123456789abcdef";
  const nordic = "nordic-token-0123456789abcdef";
  await Deno.writeTextFile(
    file,
    `# producer:token[:regions]\ncron:${cron}\n\nnordic:${nordic}:DK,FI\n`,
  );
  await using gateway = await startTestGateway({
    PUBLISH_TOKENS_FILE: file,
    STATUS_TOKEN: "status-token-0123456789abcdef",
  });
  const as = (token: string, region: string) =>
    post(gateway.http, {
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ ...JSON.parse(message), region, video_id: `${token}-${region}` }),
    });
  const answers = [
    [await as(cron, "AE"), 202],
    [await as(nordic, "DK"), 202],
    [await as(nordic, "AE"), 403],
    [await as("status-token-0123456789abcdef", "DK"), 401],
  ] as const;
  for (const [response, status] of answers) {
    assert.equal(response.status, status);
    await response.body?.cancel();
  }
  const metrics = await gateway.metricsText();
  const sample = (labels: string) => metricValue(metrics, `tvs_publish_requests_total{${labels}}`);
  assert.equal(sample('result="published",producer="cron"'), 1);
  assert.equal(sample('result="published",producer="nordic"'), 1);
  assert.equal(sample('result="region_not_allowed",producer="nordic"'), 1);
  assert.equal(sample('result="unauthorized"'), 1, "the status token cannot publish");
  const refusal = gateway.logs.find((line) => line.result === "region_not_allowed");
  assert.equal(refusal?.producer, "nordic");
  const logs = JSON.stringify(gateway.logs);
  for (const token of [cron, nordic]) assert.ok(!logs.includes(token), "no token in a log");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("STATUS_TOKEN reads /status.json from afar; a producer's token does not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tvs-tokens-" });
  const file = `${dir}/publish_tokens`;
  await Deno.writeTextFile(file, "cron:cron-token-0123456789abcdef\n");
  const statusToken = "status-token-0123456789abcdef";
  await using gateway = await startTestGateway({
    PUBLISH_TOKENS_FILE: file,
    STATUS_TOKEN: statusToken,
  });
  // As a proxy forwards a visitor: not a direct local request.
  const from = (token: string) =>
    fetch(`${gateway.http}/status.json`, {
      headers: { authorization: `Bearer ${token}`, "x-forwarded-for": "203.0.113.7" },
    });
  const reader = await from(statusToken);
  assert.equal(reader.status, 200);
  await reader.body?.cancel();
  const producer = await from("cron-token-0123456789abcdef");
  assert.equal(producer.status, 401);
  await producer.body?.cancel();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("without PUBLISH_TOKEN, HTTP publishing is off by default: 403, logged and counted", async () => {
  await using gateway = await startTestGateway({ PUBLISH_INSECURE_LOOPBACK: "false" });
  const response = await post(gateway.http);
  assert.equal(response.status, 403);
  const answer = await response.json();
  assert.equal(answer.error, "publish_disabled");
  assert.match(answer.message, /set PUBLISH_TOKEN/);
  const config = await (await fetch(`${gateway.http}/config.json`)).json();
  assert.equal(config.publish, false, "the page offers no publish form");
  assert.equal(
    metricValue(
      await gateway.metricsText(),
      'tvs_publish_requests_total{result="publish_disabled"}',
    ),
    1,
  );
  assert.ok(
    gateway.logs.some((line) =>
      line.msg === "publish refused" && line.result === "publish_disabled"
    ),
  );
});

Deno.test("even with PUBLISH_INSECURE_LOOPBACK, a proxied or foreign-Host request never publishes", async () => {
  await using gateway = await startTestGateway();
  const port = Number(new URL(gateway.http).port);
  const publish = (headers: Record<string, string>) =>
    rawRequest({
      port,
      method: "POST",
      path: "/publish",
      headers: { "content-type": "application/json", ...headers },
      body: message,
    });
  const proxied: Record<string, string>[] = [
    { "x-forwarded-for": "203.0.113.5" },
    { forwarded: "for=203.0.113.5" },
    { "x-real-ip": "203.0.113.5" },
    // nginx without any proxy header still forwards the visitor's Host.
    { host: "ws.trendvidstream.com" },
    // A page rebinding its DNS name to 127.0.0.1 sends its own host too.
    { host: "evil.example:8765" },
  ];
  for (const headers of proxied) {
    const response = await publish(headers);
    assert.equal(response.status, 403, JSON.stringify(headers));
    assert.equal(JSON.parse(response.body).error, "not_local");
    const config = await rawRequest({ port, path: "/config.json", headers });
    assert.equal(JSON.parse(config.body).publish, false, JSON.stringify(headers));
  }
  for (const host of [`localhost:${port}`, `[::1]:${port}`, `127.0.0.1:${port}`]) {
    // The first publishes, the next two are told they repeat it: none is refused.
    const local = await publish({ host });
    assert.ok(local.status === 202 || local.status === 200, `${host}: ${local.status}`);
  }
  assert.equal((await (await fetch(`${gateway.http}/config.json`)).json()).publish, true);
  assert.equal(
    metricValue(await gateway.metricsText(), 'tvs_publish_requests_total{result="not_local"}'),
    5,
  );
});

Deno.test("POST /publish answers 400, 413, 415 and 405 with a JSON reason", async () => {
  await using gateway = await startTestGateway();
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
});
