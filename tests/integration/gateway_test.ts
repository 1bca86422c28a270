import assert from "node:assert/strict";
import { startRedisGateway, startTestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { RedisServer } from "../support/redis_server.ts";
import { TcpProxy } from "../support/tcp_proxy.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

let videos = 0;
/** A new_trending payload for a video never published before in this run. */
const trending = (region: string, title: string) =>
  JSON.stringify({
    event: "new_trending",
    region,
    video_id: `vid_${region}_${++videos}`,
    title,
    thumbnail: "https://i.ytimg.com/vi/x/hq.jpg",
    channel: "TVS",
    rtl: region === "AE",
    ts: 1732800000,
  });

/** A message published after what must not arrive, to wait for instead of a fixed time. */
const marker = (id: string) =>
  JSON.stringify({ event: "new_trending", video_id: id, title: "marker" });

Deno.test("an AE publish reaches both AE clients exactly once and no FI client", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using ae1 = await TestClient.connect(`${gateway.ws}/?region=AE`);
  await using ae2 = await TestClient.connect(`${gateway.ws}/ws?region=AE`);
  await using fi = await TestClient.connect(`${gateway.ws}/?region=FI`);
  assert.equal(await redis.publish("tvs:AE", trending("AE", "مقطع رائج")), 1);
  await redis.publish("tvs:AE", marker("ae_end"));
  await redis.publish("tvs:FI", marker("fi_end"));
  for (const client of [ae1, ae2]) {
    const titles = (await client.waitForVideo("ae_end")).map((message) => message.title);
    assert.deepEqual(titles, ["مقطع رائج", "marker"], "once each");
  }
  assert.deepEqual(await fi.waitForVideo("fi_end"), [fi.messages[0]], "nothing of AE on FI");
});

Deno.test("region names are case-insensitive and several can be joined", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using lower = await TestClient.connect(`${gateway.ws}/?region=ae`);
  await using both = await TestClient.connect(`${gateway.ws}/?region=fi,Gb`);
  await redis.publish("tvs:AE", trending("AE", "a"));
  await redis.publish("tvs:GB", trending("GB", "b"));
  await redis.publish("tvs:FI", trending("FI", "c"));
  await redis.publish("tvs:AE", marker("ae_end"));
  await redis.publish("tvs:FI", marker("fi_end"));
  assert.deepEqual((await lower.waitForVideo("ae_end")).map((m) => m.title), ["a", "marker"]);
  assert.deepEqual((await both.waitForVideo("fi_end")).map((m) => m.title), ["b", "c", "marker"]);
});

Deno.test("a client naming no region gets DEFAULT_REGION", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using client = await TestClient.connect(`${gateway.ws}/`);
  await redis.publish("tvs:DK", trending("DK", "not mine"));
  await redis.publish("tvs:US", trending("US", "mine"));
  await client.waitForFrames(1);
  assert.equal(client.messages[0]?.title, "mine");
});

Deno.test("an unknown or malformed region is refused with 400 listing the valid regions", async () => {
  await using setup = await startRedisGateway();
  const { gateway } = setup;
  for (
    const query of ["region=ZZ", "region=AE,ZZ", "region=%00%FF", `region=${"A".repeat(300)}`]
  ) {
    const response = await fetch(`${gateway.http}/?${query}`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    const body = await response.json();
    assert.equal(response.status, 400, query);
    assert.equal(body.error, "unknown_region");
    assert.deepEqual(body.regions, ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"]);
  }
  await assert.rejects(TestClient.connect(`${gateway.ws}/?region=ZZ`));
});

Deno.test("Unicode arrives exactly as published and unescaped, with or without \\/", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  const titles = {
    AE: "هدف رائع في الدقيقة 90 🔥",
    CZ: "Příliš žluťoučký kůň úpěl ďábelské ódy",
    FI: "Äänekoski: yö järven rannalla",
    DK: "Rødgrød med fløde på Ærø",
    GB: "Family 👨‍👩‍👧‍👦 reunion",
  };
  await using client = await TestClient.connect(`${gateway.ws}/?region=AE,CZ,FI,DK,GB`);
  for (const [region, title] of Object.entries(titles)) {
    // The PHP publisher without JSON_UNESCAPED_SLASHES escapes "/" as "\/".
    const escaped = trending(region, title).replaceAll("/", "\\/");
    await redis.publish(`tvs:${region}`, escaped);
  }
  // Fully escaped (json_encode without flags): \uXXXX for every non-ASCII character.
  const asciiOnly = trending("CZ", titles.CZ).replace(
    /[\u0080-\uffff]/g,
    (char) => "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0"),
  );
  await redis.publish("tvs:CZ", asciiOnly);
  await client.waitForFrames(6);
  const [ae, cz, fi, dk, gb, czEscaped] = client.frames;
  for (
    const [frame, title] of [
      [ae, titles.AE],
      [cz, titles.CZ],
      [fi, titles.FI],
      [dk, titles.DK],
      [gb, titles.GB],
      [czEscaped, titles.CZ],
    ]
  ) {
    assert.ok(frame?.includes(`"title":"${title}"`), `raw frame carries the title: ${frame}`);
    assert.ok(!frame?.includes("\\u"), "no \\u escapes on the wire");
    assert.ok(
      frame?.includes('"thumbnail":"https://i.ytimg.com/vi/x/hq.jpg"'),
      "slashes unescaped",
    );
  }
});

Deno.test("bad publishes are dropped, counted and logged once each, and the next good one goes out", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using client = await TestClient.connect(`${gateway.ws}/?region=AE`);
  const bad: [string, string | Uint8Array][] = [
    ["empty", ""],
    ["invalid_json", "{not json"],
    ["not_object", "[1,2]"],
    ["not_object", '"just a string"'],
    ["invalid_utf8", new Uint8Array([0x7b, 0x22, 0x65, 0x22, 0x3a, 0xc3, 0x28, 0x7d])],
    ["missing_event", '{"title":"no event"}'],
    ["missing_event", '{"event":42}'],
  ];
  for (const [, payload] of bad) await redis.publish("tvs:AE", payload);
  // The good one comes after every bad one: once it is here, they were all handled.
  await redis.publish("tvs:AE", trending("AE", "good"));
  await client.waitForFrames(1);
  assert.deepEqual(client.messages.map((m) => m.title), ["good"]);
  const metrics = await gateway.metricsText();
  for (const reason of new Set(bad.map(([reason]) => reason))) {
    const expected = bad.filter(([r]) => r === reason).length;
    assert.equal(
      metricValue(metrics, `tvs_messages_rejected_total{reason="${reason}"}`),
      expected,
      reason,
    );
  }
  const rejectionLines = gateway.logs.filter((line) => line.msg === "publication rejected");
  assert.equal(rejectionLines.length, new Set(bad.map(([reason]) => reason)).size);
});

Deno.test("a flood of bad publishes writes one log line, not one per message", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  for (let i = 0; i < 200; i++) await redis.publish("tvs:AE", "garbage");
  await waitFor(
    async () =>
      metricValue(
        await gateway.metricsText(),
        'tvs_messages_rejected_total{reason="invalid_json"}',
      ) === 200,
    { what: "200 rejections" },
  );
  assert.equal(gateway.logs.filter((line) => line.msg === "publication rejected").length, 1);
});

Deno.test("after Redis is killed and restarted the same clients receive again within 2 s", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using client = await TestClient.connect(`${gateway.ws}/?region=CZ`);
  await redis.publish("tvs:CZ", trending("CZ", "before"));
  await client.waitForFrames(1);
  await redis.kill();
  await waitFor(async () => !(await gateway.ready()), { what: "not ready" });
  const restartedAt = performance.now();
  await redis.restart();
  // Publish until the gateway is subscribed again: the first copy that arrives measures it.
  await waitFor(async () => {
    await redis.publish("tvs:CZ", trending("CZ", "after"));
    return client.frames.length > 1;
  }, { timeoutMs: 2000, intervalMs: 50, what: "delivery after restart" });
  const resumedMs = performance.now() - restartedAt;
  console.log(`delivery resumed ${resumedMs.toFixed(0)} ms after Redis accepted connections`);
  assert.ok(resumedMs < 2000, `resumed after ${resumedMs} ms`);
  assert.equal(client.messages[1]?.title, "after");
  // The subscriber can deliver before the command connection is back: ready comes a bit later.
  await waitFor(() => gateway.ready(), { what: "ready again" });
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, "tvs_broker_reconnects_total"), 1);
  assert.equal(metricValue(metrics, 'tvs_broker_connected{broker="redis"}'), 1);
  const warnings = gateway.logs.filter((line) => line.msg === "broker unavailable, retrying");
  assert.equal(warnings.length, 1, "one line per state change, not per retry");
});

Deno.test("with Redis down at start the gateway listens, is not ready, and logs the outage once", async () => {
  await using redis = await RedisServer.start();
  await redis.kill();
  await using gateway = await startTestGateway({ REDIS_URL: redis.url });
  const health = await fetch(`${gateway.http}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const readiness = await fetch(`${gateway.http}/readyz`);
  assert.equal(readiness.status, 503);
  assert.match((await readiness.json()).reason, /^broker_(connecting|reconnecting)$/);
  // Several attempts, each closed at once, before Redis is back.
  await redis.refuseConnections(4);
  await redis.restart();
  await waitFor(() => gateway.ready(), { timeoutMs: 2000, what: "ready once Redis is up" });
  const client = await TestClient.connect(`${gateway.ws}/?region=GB`);
  assert.equal(await redis.publish("tvs:GB", trending("GB", "hello")), 1, "subscribed again");
  await client.waitForFrames(1);
  await client.close();
  const outageLines = gateway.logs.filter((line) => line.msg === "broker unavailable, retrying");
  assert.equal(outageLines.length, 1);
});

Deno.test("a decomposed Czech and an Arabic title reach the client normalised, with dir", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using client = await TestClient.connect(`${gateway.ws}/?region=CZ,GB`);
  const decomposed = "Pr\u030Ci\u0301lis\u030C z\u030Clut\u030Couc\u030Cky\u0301 ku\u030An\u030C";
  await redis.publish(
    "tvs:CZ",
    JSON.stringify({ event: "new_trending", video_id: "cz1", title: decomposed }),
  );
  // An Arabic title trending in GB, published without rtl.
  await redis.publish(
    "tvs:GB",
    JSON.stringify({
      event: "new_trending",
      region: "GB",
      video_id: "gb1",
      title: "2024 كأس العالم",
    }),
  );
  await client.waitForFrames(2);
  const { id, ...czech } = client.messages[0] ?? {};
  assert.match(String(id), /^CZ:[0-9a-f]{16}$/);
  assert.deepEqual(czech, {
    event: "new_trending",
    video_id: "cz1",
    title: "Příliš žluťoučký kůň",
    region: "CZ",
    dir: "ltr",
    rtl: false,
  });
  assert.ok(
    client.frames[0]?.includes('"title":"Příliš žluťoučký kůň"'),
    "composed on the wire",
  );
  assert.equal(client.messages[1]?.dir, "rtl");
  assert.equal(client.messages[1]?.rtl, true);
});

Deno.test("a video re-published within the window goes out once, and is counted", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using client = await TestClient.connect(`${gateway.ws}/?region=FI`);
  const publish = (ts: number) =>
    redis.publish(
      "tvs:FI",
      JSON.stringify({ event: "new_trending", video_id: "fi1", title: "Sauna", ts }),
    );
  await publish(1732800000);
  await publish(1732800060);
  await redis.publish("tvs:FI", trending("FI", "next"));
  await client.waitForFrames(2);
  assert.deepEqual(client.messages.map((m) => m.title), ["Sauna", "next"], "next came after");
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_messages_deduplicated_total{region="FI"}'), 1);
});

Deno.test("/metrics counts what each region received and delivered, and when the last came", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using readers = await TestClient.connectAll([1, 2].map(() => `${gateway.ws}/?region=DK`));
  const before = Math.floor(Date.now() / 1000);
  await redis.publish("tvs:DK", trending("DK", "Rødgrød med fløde"));
  await redis.publish("tvs:DK", "{not json");
  await redis.publish("tvs:DK", trending("DK", "Ærø"));
  await Promise.all(readers.map((reader) => reader.waitForFrames(2)));
  const after = Date.now() / 1000;
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_messages_received_total{region="DK"}'), 3);
  assert.equal(metricValue(metrics, 'tvs_deliveries_total{region="DK"}'), 4);
  // A region with no traffic yet is there from the start, at zero.
  assert.match(metrics, /^tvs_messages_received_total\{region="US"\} 0$/m);
  const last = metricValue(metrics, "tvs_last_message_timestamp_seconds");
  assert.ok(last >= before && last <= after, `last message at ${last}`);
});

Deno.test("two gateways on one Redis each deliver a video once, and drop its re-publication alike", async () => {
  await using setup = await startRedisGateway();
  const { gateway: first, redis } = setup;
  await using second = await startTestGateway({ REDIS_URL: redis.url });
  await using clients = await TestClient.connectAll([
    `${first.ws}/?region=DK`,
    `${second.ws}/?region=DK`,
  ]);
  await waitFor(() => second.ready(), { what: "second gateway ready" });
  for (const ts of [1732800000, 1732800300, 1732800600]) {
    await redis.publish(
      "tvs:DK",
      JSON.stringify({ event: "new_trending", video_id: "dk1", title: "Hygge", ts }),
    );
  }
  await redis.publish("tvs:DK", trending("DK", "last"));
  for (const client of clients) await client.waitForFrames(2);
  for (const client of clients) {
    assert.deepEqual(client.messages.map((m) => m.title), ["Hygge", "last"]);
  }
});

Deno.test("an unsafe thumbnail is removed and counted, the message delivered", async () => {
  await using setup = await startRedisGateway();
  const { gateway, redis } = setup;
  await using client = await TestClient.connect(`${gateway.ws}/?region=BE`);
  await redis.publish(
    "tvs:BE",
    JSON.stringify({
      event: "new_trending",
      video_id: "be1",
      title: "Bruxelles",
      thumbnail: "javascript:alert(1)",
    }),
  );
  await client.waitForFrames(1);
  assert.equal(client.messages[0]?.thumbnail, undefined);
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_message_fields_removed_total{field="thumbnail"}'), 1);
});

Deno.test("when the Redis connections go silent the gateway notices, reconnects and delivers again, clients kept", async () => {
  await using redis = await RedisServer.start();
  await using proxy = TcpProxy.start(redis.port);
  await using gateway = await startTestGateway({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  await waitFor(() => gateway.ready(), { what: "ready" });
  const client = await TestClient.connect(`${gateway.ws}/?region=AE`);
  let closed = false;
  client.closed.then(() => closed = true);
  let sent = 0;
  const publish = () =>
    redis.publish(
      "tvs:AE",
      JSON.stringify({ event: "new_trending", video_id: `s${++sent}`, title: "صمت" }),
    );
  await publish();
  await client.waitForFrames(1);

  proxy.silence();
  const silencedAt = performance.now();
  let notReadyAfterMs: number | undefined;
  // Keep publishing while the gateway is deaf, until one gets through again.
  await waitFor(async () => {
    if (notReadyAfterMs === undefined && !(await gateway.ready())) {
      notReadyAfterMs = performance.now() - silencedAt;
    }
    await publish();
    return client.frames.length > 1;
  }, { timeoutMs: 15_000, intervalMs: 250, what: "delivery through a new connection" });
  const deliveringAfterMs = performance.now() - silencedAt;
  console.log(
    `silent Redis: /readyz 503 after ${Math.round(notReadyAfterMs ?? -1)} ms, ` +
      `delivering again after ${Math.round(deliveringAfterMs)} ms`,
  );
  assert.ok(client.frames.length > 1, "delivery came back");
  assert.ok(deliveringAfterMs < 10_000, `back within 10 s (${deliveringAfterMs} ms)`);
  assert.ok(notReadyAfterMs !== undefined, "/readyz said so while it could not hear Redis");
  assert.equal(closed, false, "the WebSocket client was kept");
  const metrics = await gateway.metricsText();
  assert.ok(
    metricValue(metrics, 'tvs_broker_silent_connections_total{connection="subscriber"}') >= 1,
  );
  assert.ok(gateway.logs.some((line) => line.msg === "broker connection silent"));
  await waitFor(() => gateway.ready(), { what: "ready again" });
  await client.close();
});
