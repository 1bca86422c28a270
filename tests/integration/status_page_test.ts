/// <reference lib="dom" />
// The operators' status page: who may read its figures, and what Chromium shows of a live
// process of two workers.
import assert from "node:assert/strict";
import { SCREENSHOTS, withPage } from "../support/browser.ts";
import { startTestCluster, startTestGateway } from "../support/gateway.ts";
import { waitFor } from "../support/wait.ts";
import { TestEventStream } from "../support/sse_client.ts";
import { TestClient } from "../support/ws_client.ts";

const TOKEN = "status-token-0123456789";

Deno.test("the status figures need the token, or a direct local request without proxy headers", async () => {
  await using gateway = await startTestGateway({
    PUBLISH_TOKEN: TOKEN,
    PUBLISH_INSECURE_LOOPBACK: "false",
  });
  const status = (headers: Record<string, string>) =>
    fetch(`${gateway.http}/status.json`, { headers }).then(async (response) => ({
      status: response.status,
      body: await response.json(),
    }));
  const local = await status({});
  assert.equal(local.status, 200, "a local request reads it");
  assert.equal(local.body.broker.kind, "memory");
  assert.equal(local.body.regions.length, 8);
  const proxied = await status({ "x-forwarded-for": "203.0.113.9" });
  assert.equal(proxied.status, 401, "a proxied one needs the token");
  assert.equal(proxied.body.error, "unauthorized");
  assert.equal(
    (await status({ "x-forwarded-for": "203.0.113.9", authorization: "Bearer nope" }))
      .status,
    401,
  );
  const withToken = await status({
    "x-forwarded-for": "203.0.113.9",
    authorization: `Bearer ${TOKEN}`,
  });
  assert.equal(withToken.status, 200);
  const page = await fetch(`${gateway.http}/status`, { headers: { "x-forwarded-for": "1.2.3.4" } });
  assert.equal(page.status, 200, "the page itself holds no figures");
  assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  await page.body?.cancel();
});

Deno.test("the status page shows a live process of two workers in Chromium", async () => {
  await using cluster = await startTestCluster({ MAX_CONNECTIONS: "50" });
  await waitFor(() => cluster.ready(), { what: "ready" });
  await using _clients = await TestClient.connectAll([
    ...Array.from({ length: 6 }, () => `${cluster.ws}/?region=AE`),
    ...Array.from({ length: 3 }, () => `${cluster.ws}/?region=CZ,FI`),
  ]);
  await using _streams = await TestEventStream.openAll(
    [1, 2].map(() => `${cluster.http}/events?region=AE`),
  );
  let sent = 0;
  const publish = (region: string, title: string) =>
    cluster.publish(
      region,
      JSON.stringify({ event: "new_trending", region, video_id: `s${++sent}`, title }),
    );
  await publish("CZ", "Příliš žluťoučký kůň úpěl ďábelské ódy");
  await cluster.publish("FI", "{not json");
  for (let i = 0; i < 3; i++) {
    await fetch(`${cluster.http}/ws?region=ZZ`).then((response) => response.body?.cancel());
  }

  await withPage(async ({ page, errors }) => {
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${cluster.http}/status`);
    const ae = page.locator('#regions tr[data-region="AE"]');
    const title = ae.locator(".last-title");
    // One message per poll of the page (every second), so the charts have a shape: each waits for
    // the page to show the one before.
    for (let i = 0; i < 5; i++) {
      const text = `هدف رائع في الدقيقة ${90 + i}؟`;
      await publish("AE", text);
      await waitFor(async () => await title.textContent() === text, {
        what: `AE message ${i + 1} shown`,
      });
    }
    assert.equal(await ae.locator("td output").first().textContent(), "8", "8 AE subscribers");
    assert.equal(await title.evaluate((el) => getComputedStyle(el).direction), "rtl");
    const cz = page.locator('#regions tr[data-region="CZ"] .last-title');
    assert.equal(await cz.textContent(), "Příliš žluťoučký kůň úpěl ďábelské ódy");
    assert.equal(await cz.evaluate((el) => getComputedStyle(el).direction), "ltr");
    const chart = ae.locator("polyline").last();
    await waitFor(async () => ((await chart.getAttribute("points")) ?? "").split(" ").length >= 3, {
      what: "the deliveries chart has three points",
    });

    const refusals = await page.locator("#refusals li").allTextContents();
    assert.ok(refusals.some((text) => /publication FI.*invalid_json/.test(text)), `${refusals}`);
    const counted = await page.locator("#refusal-counts li").allTextContents();
    assert.ok(
      counted.some((text) => /handshake.*unknown_region ×3.*latest: 127\.0\.0\.1/.test(text)),
      `anonymous handshakes are counted, not listed: ${counted}`,
    );
    assert.ok(!refusals.some((text) => text.includes("unknown_region")), `${refusals}`);
    assert.equal(
      refusals.filter((text) => text.includes("invalid_json")).length,
      1,
      "a rejection both workers saw is listed once",
    );

    const limits = await page.locator('#limits [data-setting="MAX_CONNECTIONS"]').textContent();
    assert.match(limits ?? "", /11 of 50 sockets \(22\.0%\)/);
    assert.equal(
      await page.locator("#transports").textContent(),
      "9 WebSocket · 2 Server-Sent Events",
    );
    assert.equal(await page.locator("#workers tr").count(), 2, "a row per worker");
    const perWorker = await page.locator("#workers tr td:nth-child(2) output").allTextContents();
    assert.equal(perWorker.map(Number).reduce((a, b) => a + b), 11, `sockets ${perWorker}`);
    assert.match(await page.locator("#broker").textContent() ?? "", /Embedded broker: subscribed/);
    assert.equal(await page.locator("#ready").textContent(), "Ready");
    assert.match(
      await page.locator("#memory").textContent() ?? "",
      /^RSS \d+(\.\d)? (B|KiB|MiB|GiB)$/,
    );
    await page.screenshot({ path: `${SCREENSHOTS}status-page.png`, fullPage: true });
    assert.deepEqual(errors, [], "no CSP violation or script error");
  });
});
