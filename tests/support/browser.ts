/**
 * Debian's Chromium, headless, driven by playwright-core (which cannot download browsers here).
 *
 * @module
 */

import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";

/** Where the browser tests write screenshots; printed by the tests. */
export const SCREENSHOTS = new URL("../artifacts/screenshots/", import.meta.url).pathname;

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

/** A page, with what the browser reported while the test ran. */
export interface TestPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions of the page. */
  readonly errors: string[];
}

/** Runs `fn` with a fresh page in a fresh browser, closed afterwards whatever happens. */
export async function withPage(
  fn: (page: TestPage) => Promise<void>,
  options: BrowserContextOptions = {},
): Promise<void> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const context = await browser.newContext({ locale: "en-GB", ...options });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (message) => {
      // Thumbnails point at CDNs this machine cannot reach; that is not the page's error.
      if (message.type() === "error" && !message.text().includes("ERR_NAME_NOT_RESOLVED")) {
        errors.push(message.text());
      }
    });
    page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
    await fn({ page, errors });
  } finally {
    await browser.close();
  }
}
