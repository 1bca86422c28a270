/// <reference lib="dom" />
// A page of the main site, on another origin than the gateway, uses the client library exactly as
// the README shows: it imports it from the gateway and opens the gateway's WebSocket.
import assert from "node:assert/strict";
import { withPage } from "../support/browser.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";

/** The library's files, for a site that serves its own copy. */
const LIBRARY: ReadonlyMap<string, string> = new Map(
  await Promise.all(
    ["tvs-client.js", "close_codes.js"].map(async (name) =>
      [
        `/lib/${name}`,
        await Deno.readTextFile(new URL(`../../lib/client/${name}`, import.meta.url)),
      ] as const
    ),
  ),
);

/**
 * The main site: one page on `http://localhost:<port>` (another origin than the gateway's
 * `127.0.0.1`) that follows `?region=` from the gateway at `?gateway=`, importing the library from
 * that gateway, as the README shows, or with `?library=own` from its own copy under `/lib/`.
 */
function startSite(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { pathname, searchParams: params } = new URL(request.url);
    const file = LIBRARY.get(pathname);
    if (file !== undefined) {
      return new Response(file, { headers: { "content-type": "text/javascript" } });
    }
    if (pathname !== "/") return new Response(null, { status: 204 });
    const gateway = new URL(params.get("gateway") ?? "");
    const library = params.get("library") === "own" ? "/lib" : gateway.origin;
    const page = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>TrendVidStream</title>
<body>
<script type="module">
  import { TvsClient } from "${library}/tvs-client.js";
  const client = new TvsClient({
    url: "ws://${gateway.host}/ws",
    regions: [${JSON.stringify(params.get("region"))}],
    baseDelayMs: 50,
  });
  globalThis.statuses = [];
  client.addEventListener("status", (event) => {
    statuses.push(event.detail);
    document.body.dataset.status = event.detail.status;
  });
  client.addEventListener("trending", (event) => {
    const toast = document.createElement("p");
    toast.className = "toast";
    toast.dir = event.detail.dir;
    toast.textContent = event.detail.title;
    document.body.append(toast);
  });
  client.start();
</script>`;
    return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
  });
}

/** The site's origin. */
function originOf(site: Deno.HttpServer<Deno.NetAddr>): string {
  return `http://localhost:${site.addr.port}`;
}

/** The site's page following `region` of `gateway`, with the library from `library`. */
function pageUrl(
  site: Deno.HttpServer<Deno.NetAddr>,
  gateway: TestGateway,
  region: string,
  library: "gateway" | "own" = "gateway",
) {
  const query = new URLSearchParams({ region, gateway: gateway.http, library });
  return `${originOf(site)}/?${query}`;
}

Deno.test("a page on another origin imports the client from the gateway and shows the toast", async () => {
  await using site = startSite();
  await using gateway = await startTestGateway({ ALLOWED_ORIGINS: originOf(site) });
  await withPage(async ({ page, errors }) => {
    await page.goto(pageUrl(site, gateway, "AE"));
    await page.waitForSelector('body[data-status="live"]', { state: "attached" });
    const response = await fetch(`${gateway.http}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        event: "new_trending",
        region: "AE",
        video_id: "x1",
        title: "هدف رائع",
      }),
    });
    assert.equal(response.status, 202, await response.text());
    const toast = page.locator(".toast");
    await toast.waitFor();
    assert.equal(await toast.textContent(), "هدف رائع");
    assert.equal(await toast.evaluate((el) => getComputedStyle(el).direction), "rtl");
    assert.deepEqual(errors, []);
  });
});

Deno.test("a page refused by origin or by region stops instead of retrying", async () => {
  await using site = startSite();
  await using gateway = await startTestGateway({ ALLOWED_ORIGINS: "https://trendvidstream.com" });
  await using open = await startTestGateway({ ALLOWED_ORIGINS: originOf(site) });
  const refusals = async (of: TestGateway, reason: string) =>
    metricValue(await of.metricsText(), `tvs_handshake_refusals_total{reason="${reason}"}`);
  const stopsWith = async (
    of: TestGateway,
    region: string,
    reason: string,
    library: "gateway" | "own",
  ) => {
    await withPage(async ({ page }) => {
      await page.goto(pageUrl(site, of, region, library));
      await page.waitForSelector('body[data-status="stopped"]', {
        state: "attached",
        timeout: 10_000,
      });
      const statuses = await page.evaluate(() =>
        (globalThis as unknown as { statuses: { status: string; reason?: string }[] }).statuses
      );
      assert.equal(statuses.at(-1)?.reason, reason);
      // A retry would have said "reconnecting" first.
      assert.ok(!statuses.some((entry) => entry.status === "reconnecting"), "no retry");
      // One WebSocket handshake, one probe asking why, and nothing after the stop.
      assert.equal(await refusals(of, reason), 2);
    });
  };
  // A page on an origin the gateway does not allow (its own copy of the library: the gateway's
  // is not readable there).
  await stopsWith(gateway, "AE", "origin_not_allowed", "own");
  // An allowed page asking for a region the gateway does not serve.
  await stopsWith(open, "ZZ", "unknown_region", "gateway");
});
