/// <reference lib="dom" />
// The callbacks given to page.evaluate run in the browser.
import assert from "node:assert/strict";
import { CONTENT_SECURITY_POLICY } from "../../lib/http/static_assets.ts";
import { SCREENSHOTS, withPage } from "../support/browser.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { freePort } from "../support/wait.ts";
import type { Page } from "playwright-core";

let videos = 0;

async function publish(gateway: TestGateway, message: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${gateway.http}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event: "new_trending", video_id: `p${++videos}`, ...message }),
  });
  const answer = await response.text();
  assert.equal(response.status, 202, answer);
}

/**
 * The region picker's option names, once the page has filled it: that waits for `/config.json`,
 * which the page fetches after its load event.
 */
async function regionOptions(page: Page): Promise<string[]> {
  await page.waitForSelector("#region option", { state: "attached" });
  return await page.locator("#region option").allTextContents();
}

await Deno.mkdir(SCREENSHOTS, { recursive: true });
console.log(`page screenshots: ${SCREENSHOTS}`);

Deno.test("an Arabic AE toast is right-to-left with the exact text, every line at its right edge; Czech, Finnish, Danish exact too; each in its language", async () => {
  await using gateway = await startTestGateway();
  await withPage(async ({ page, errors }) => {
    const cases = [
      {
        region: "AE",
        lang: "ar",
        dir: "rtl",
        title: "هدف رائع في الدقيقة 90 — كأس الخليج",
        channel: "بي إن سبورتس",
        where: "رائج في الإمارات العربية المتحدة",
        dismiss: "إغلاق",
      },
      // Published decomposed (c + U+030C): the gateway composes it.
      {
        region: "CZ",
        lang: "cs",
        dir: "ltr",
        title: "Příliš žluťoučký kůň úpěl ďábelské ódy",
        channel: "ČT sport",
        decomposed: true,
        where: "Populární teď: Česko",
        dismiss: "Zavřít",
      },
      {
        region: "FI",
        lang: "fi",
        dir: "ltr",
        title: "Äänekosken yö — revontulet järven yllä",
        channel: "Yle Areena",
        where: "Nousussa nyt: Suomi",
        dismiss: "Sulje",
      },
      {
        region: "DK",
        lang: "da",
        dir: "ltr",
        title: "Rødgrød med fløde på Ærø",
        channel: "DR Mad",
        where: "Populært i Danmark",
        dismiss: "Luk",
      },
    ];
    for (const item of cases) {
      await page.goto(`${gateway.http}/?region=${item.region}`);
      await page.waitForSelector('#status[data-status="live"]');
      await publish(gateway, {
        region: item.region,
        title: item.decomposed ? item.title.normalize("NFD") : item.title,
        channel: item.channel,
        thumbnail: "https://i.ytimg.com/vi/demo/hqdefault.jpg",
        ts: Math.floor(Date.now() / 1000) - 5,
      });
      const toast = page.locator(".toast").first();
      await toast.waitFor();
      const title = toast.locator(".title bdi");
      assert.equal(await title.textContent(), item.title, item.region);
      assert.equal(
        await title.evaluate((el) => getComputedStyle(el).direction),
        item.dir,
        item.region,
      );
      assert.equal(await toast.evaluate((el) => getComputedStyle(el).direction), item.dir);
      assert.equal(await toast.getAttribute("lang"), item.lang);
      assert.equal(await toast.locator(".channel").textContent(), item.channel);
      // The toast's own words are the region's language: the region's line (its name from Intl,
      // then how long ago, from Intl too) and the dismiss button.
      const where = toast.locator(".where");
      assert.ok(String(await where.textContent()).startsWith(`${item.where} · `), item.region);
      const ago = await where.locator("time").textContent();
      // Published 5 s ago by its ts; the page may render it a second or two later.
      const expectedAgo = await page.evaluate((lang) => {
        const format = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
        return [5, 6, 7, 8].map((seconds) => format.format(-seconds, "second"));
      }, item.lang);
      assert.ok(expectedAgo.includes(String(ago)), `${item.region}: ${ago}`);
      assert.equal(await toast.locator(".dismiss").getAttribute("aria-label"), item.dismiss);
      if (item.region === "CZ") assert.match(String(ago), /^před \d+ sekundami$/);
      if (item.region === "AE") {
        // Every line of a right-to-left toast ends at the same right edge: the region's line
        // too, which used to be left-to-right English and stopped short of the title's edge.
        const edges = await toast.locator(".where, .title, .channel").evaluateAll((lines) =>
          lines.map((line) => {
            const range = document.createRange();
            range.selectNodeContents(line);
            return range.getBoundingClientRect().right;
          })
        );
        assert.equal(edges.length, 3);
        for (const edge of edges) {
          assert.ok(Math.abs(edge - edges[0]!) < 1, `right edges ${edges.join(", ")}`);
        }
      }
      if (item.region === "AE" || item.region === "CZ") {
        // Photograph the toast, not its fade-in.
        await toast.evaluate((el) =>
          Promise.all(el.getAnimations().map((animation) => animation.finished))
        );
        const path = `${SCREENSHOTS}${item.region.toLowerCase()}-toast.png`;
        await page.screenshot({ path });
        await toast.screenshot({
          path: `${SCREENSHOTS}${item.region.toLowerCase()}-toast-close-up.png`,
        });
      }
    }
    assert.deepEqual(errors, []);
  });
});

Deno.test("a title with markup shows literally and nothing runs, under a strict CSP", async () => {
  await using gateway = await startTestGateway();
  const page = await fetch(`${gateway.http}/`);
  await page.body?.cancel();
  assert.equal(page.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
  assert.match(CONTENT_SECURITY_POLICY, /img-src 'self' https:/);
  await withPage(async ({ page, errors }) => {
    await page.goto(`${gateway.http}/?region=GB`);
    await page.waitForSelector('#status[data-status="live"]');
    const hostile = `<img src=x onerror="window.__x=1">`;
    await publish(gateway, {
      region: "GB",
      title: hostile,
      channel: "<script>window.__x=2</script>",
      thumbnail: "javascript:window.__x=3",
    });
    const toast = page.locator(".toast").first();
    await toast.waitFor();
    assert.equal(await toast.locator(".title").textContent(), hostile);
    assert.equal(await toast.locator(".channel").textContent(), "<script>window.__x=2</script>");
    assert.equal(await toast.locator(".title img, .channel script").count(), 0);
    assert.equal(
      await toast.locator(".thumb img").count(),
      0,
      "the javascript: thumbnail never arrives",
    );
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => (globalThis as { __x?: number }).__x), undefined);
    // Even script the page did not write cannot run: an inline script is refused by the CSP.
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.__x = 4";
      document.body.append(script);
    });
    assert.equal(await page.evaluate(() => (globalThis as { __x?: number }).__x), undefined);
    assert.ok(
      errors.every((error) => error.includes("Content Security Policy")),
      errors.join("\n"),
    );
  });
});

Deno.test("after the gateway restarts the status shows reconnecting then live, and the next toast arrives", async () => {
  const port = await freePort();
  // The gateway restarts on the same port: the stack stops whichever instance runs at the end.
  await using running = new AsyncDisposableStack();
  let gateway = running.use(await startTestGateway({ PORT: String(port) }));
  await withPage(async ({ page }) => {
    await page.goto(`${gateway.http}/?region=CH`);
    await page.waitForSelector('#status[data-status="live"]');
    await page.evaluate(() => {
      const status = document.getElementById("status")!;
      const seen: string[] = [];
      (globalThis as { __statuses?: string[] }).__statuses = seen;
      new MutationObserver(() => seen.push(String(status.dataset.status)))
        .observe(status, { attributes: true, attributeFilter: ["data-status"] });
    });
    await gateway.close();
    await page.waitForSelector('#status[data-status="reconnecting"]');
    assert.equal(await page.locator("#status").textContent(), "Reconnecting…");
    gateway = running.use(await startTestGateway({ PORT: String(port) }));
    await page.waitForSelector('#status[data-status="live"]', { timeout: 10_000 });
    const statuses = await page.evaluate(() =>
      (globalThis as { __statuses?: string[] }).__statuses
    );
    assert.equal(statuses?.[0], "reconnecting");
    assert.equal(statuses?.at(-1), "live");
    await publish(gateway, { region: "CH", title: "Zürich: Die Street Parade in 4K" });
    await page.locator(".toast").first().waitFor();
    assert.equal(
      await page.locator(".toast .title").textContent(),
      "Zürich: Die Street Parade in 4K",
    );
  });
});

Deno.test("at most 4 toasts; dismissed after 5 s unless hovered, by the button, or by Escape", async () => {
  await using gateway = await startTestGateway();
  await withPage(async ({ page }) => {
    await page.clock.install();
    await page.goto(`${gateway.http}/?region=US`);
    await page.waitForSelector('#status[data-status="live"]');
    for (let i = 1; i <= 6; i++) await publish(gateway, { region: "US", title: `Video ${i}` });
    await page.waitForFunction(() =>
      document.querySelectorAll(".toast .title").length === 4 &&
      document.querySelector(".toast:last-child .title")?.textContent === "Video 6"
    );
    assert.deepEqual(await page.locator(".toast .title").allTextContents(), [
      "Video 3",
      "Video 4",
      "Video 5",
      "Video 6",
    ]);
    // Keyboard: the dismiss button is reachable and works.
    await page.locator(".toast").nth(0).locator(".dismiss").focus();
    await page.keyboard.press("Enter");
    assert.deepEqual(await page.locator(".toast .title").allTextContents(), [
      "Video 4",
      "Video 5",
      "Video 6",
    ]);
    await page.locator(".toast").nth(0).focus();
    await page.keyboard.press("Escape");
    assert.deepEqual(await page.locator(".toast .title").allTextContents(), [
      "Video 5",
      "Video 6",
    ]);
    await page.locator(".toast").nth(1).hover();
    await page.clock.runFor(6000);
    assert.deepEqual(
      await page.locator(".toast .title").allTextContents(),
      ["Video 6"],
      "the hovered one stays",
    );
    await page.mouse.move(5, 5);
    await page.clock.runFor(4000);
    assert.equal(await page.locator(".toast").count(), 1, "the pause kept its remaining time");
    await page.clock.runFor(1500);
    assert.equal(await page.locator(".toast").count(), 0);
    const live = await page.locator("#toasts").getAttribute("aria-live");
    assert.equal(live, "polite");
  });
});

Deno.test("the region picker shows each region's name in its language, remembers the choice, and ?region= preselects", async () => {
  await using gateway = await startTestGateway();
  await withPage(async ({ page }) => {
    await page.goto(`${gateway.http}/`);
    const names = await regionOptions(page);
    assert.deepEqual(names, [
      "الإمارات العربية المتحدة",
      "Suomi",
      "Česko",
      "Danmark",
      "België",
      "United Kingdom",
      "Schweiz",
      "United States",
    ]);
    assert.equal(await page.locator("#region").inputValue(), "US", "DEFAULT_REGION first");
    await page.selectOption("#region", "FI");
    await page.waitForSelector('#status[data-status="live"]');
    assert.match(page.url(), /\?region=FI$/);
    await page.goto(`${gateway.http}/`);
    await regionOptions(page);
    assert.equal(await page.locator("#region").inputValue(), "FI", "remembered across reloads");
    await page.goto(`${gateway.http}/?region=dk`);
    await regionOptions(page);
    assert.equal(await page.locator("#region").inputValue(), "DK");
    await page.waitForSelector('#status[data-status="live"]');
    await publish(gateway, { region: "DK", title: "Hygge i København" });
    await page.locator(".toast").first().waitFor();
  });
});

Deno.test("a browser that prefers French sees Belgium and Switzerland in French, and a Belgian toast in French", async () => {
  await using gateway = await startTestGateway();
  await withPage(async ({ page }) => {
    await page.goto(`${gateway.http}/?region=BE`);
    const names = await regionOptions(page);
    assert.equal(names[4], "Belgique");
    assert.equal(names[6], "Suisse");
    await page.waitForSelector('#status[data-status="live"]');
    await publish(gateway, { region: "BE", title: "La Grand-Place illuminée" });
    const toast = page.locator(".toast").first();
    await toast.waitFor();
    assert.equal(await toast.getAttribute("lang"), "fr-BE");
    assert.equal(await toast.locator(".where").textContent(), "Tendances : Belgique");
    assert.equal(await toast.locator(".dismiss").getAttribute("aria-label"), "Fermer");
  }, { locale: "fr-BE" });
});

Deno.test("with the embedded broker and nothing arriving, the page says what to run; the first toast hides it", async () => {
  await using gateway = await startTestGateway();
  await withPage(async ({ page }) => {
    await page.goto(`${gateway.http}/?region=GB`);
    await page.waitForSelector('#status[data-status="live"]');
    const hint = page.locator("#hint");
    await hint.waitFor({ state: "visible", timeout: 8000 });
    assert.match(String(await hint.textContent()), /deno task demo/);
    await publish(gateway, { region: "GB", title: "Mind the gap" });
    await page.locator(".toast").first().waitFor();
    assert.equal(await hint.isVisible(), false);
  });
});

Deno.test("the test form publishes to the chosen region in local mode, and is absent otherwise", async () => {
  await using local = await startTestGateway();
  await withPage(async ({ page }) => {
    await page.goto(`${local.http}/?region=BE`);
    await page.waitForSelector('#status[data-status="live"]');
    await page.fill("input[name=title]", "Bruxelles : la Grand-Place illuminée");
    await page.click("button[type=submit]");
    await page.locator(".toast").first().waitFor();
    assert.equal(
      await page.locator(".toast .title").textContent(),
      "Bruxelles : la Grand-Place illuminée",
    );
    assert.equal(await page.locator("#send-result").textContent(), "Sent.");
  });
  await using locked = await startTestGateway({ PUBLISH_TOKEN: "a-long-enough-token-123" });
  await withPage(async ({ page }) => {
    await page.goto(`${locked.http}/`);
    await page.waitForSelector('#status[data-status="live"]');
    assert.equal(await page.locator("#send").isHidden(), true);
  });
});

Deno.test("on a phone with reduced motion, toasts fill the width and do not animate", async () => {
  await using gateway = await startTestGateway();
  await withPage(async ({ page }) => {
    await page.goto(`${gateway.http}/?region=AE`);
    await page.waitForSelector('#status[data-status="live"]');
    await publish(gateway, {
      region: "AE",
      title: "جولة في برج خليفة عند الغروب",
      channel: "دبي اليوم",
    });
    const toast = page.locator(".toast").first();
    await toast.waitFor();
    assert.equal(await toast.evaluate((el) => getComputedStyle(el).animationName), "none");
    const box = await toast.boundingBox();
    assert.ok(box !== null && box.width > 340, `toast width ${box?.width} on a 375 px screen`);
    await page.screenshot({ path: `${SCREENSHOTS}ae-toast-phone.png` });
  }, { viewport: { width: 375, height: 700 }, reducedMotion: "reduce", isMobile: true });
});
