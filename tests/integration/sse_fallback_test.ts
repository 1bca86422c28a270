/// <reference lib="dom" />
// Where WebSockets cannot get through: real nginx (the shipped site, HTTP/2 on TLS) configured to
// forward no Upgrade, in front of a gateway on Redis. The demo page in Chromium must fall back to
// Server-Sent Events on its own, show it, and lose nothing across a gateway restart.
import assert from "node:assert/strict";
import { withPage } from "../support/browser.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { startNginx } from "../support/nginx.ts";
import { RedisServer } from "../support/redis_server.ts";
import { makeCertificate } from "../support/tls_certificate.ts";
import { delay, freePort, waitFor } from "../support/wait.ts";

/** Publishes on Redis every 100 ms until stopped; keeps the titles some gateway received. */
class Producer {
  /** Titles of the publications a gateway was subscribed for: what the design promises. */
  readonly promised: string[] = [];
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(redis: RedisServer) {
    this.#done = (async () => {
      for (let i = 0; !this.#stopped && i < 600; i++) {
        const title = `Rødgrød ${i}`;
        const message = { event: "new_trending", video_id: `s${i}`, title };
        if (await redis.publish("tvs:DK", JSON.stringify(message)) > 0) this.promised.push(title);
        await delay(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

Deno.test("through nginx that strips Upgrade, the page falls back to SSE over HTTP/2 and loses nothing across a gateway restart", async () => {
  await using certificate = await makeCertificate();
  await using redis = await RedisServer.start();
  const env = { REDIS_URL: redis.url, TRUSTED_PROXIES: "127.0.0.1", DRAIN_SECONDS: "1" };
  const port = await freePort();
  await using running = new AsyncDisposableStack();
  let gateway = running.use(await GatewayProcess.start({ ...env, PORT: String(port) }));
  await waitFor(() => gateway.ready(), { what: "gateway ready" });
  await using nginx = await startNginx(port, certificate, { stripUpgrade: true });

  await withPage(async ({ page, errors }) => {
    const titles: string[] = [];
    await page.exposeFunction("toastShown", (title: string) => titles.push(title));
    // What the browser's network layer says each stream went over (an unfinished response has no
    // resource timing entry yet).
    const streamProtocols: string[] = [];
    const network = await page.context().newCDPSession(page);
    network.on("Network.responseReceived", ({ response }) => {
      if (new URL(response.url).pathname === "/events") {
        streamProtocols.push(response.protocol ?? "");
      }
    });
    await network.send("Network.enable");
    await page.goto(`${nginx.https}/?region=DK`);
    await page.evaluate(() => {
      const toasts = document.getElementById("toasts")!;
      new MutationObserver((records) => {
        for (const record of records) {
          for (const node of record.addedNodes) {
            const title = (node as Element).querySelector?.(".title bdi")?.textContent;
            // @ts-ignore: exposed by the test
            if (title) globalThis.toastShown(title);
          }
        }
      }).observe(toasts, { childList: true });
    });
    const live = page.locator('#status[data-status="live"][data-transport="sse"]');
    await live.waitFor({ timeout: 20_000 });
    assert.equal(await live.textContent(), "Live · Server-Sent Events");
    assert.deepEqual([...new Set(streamProtocols)], ["h2"], "the streams go over HTTP/2");

    const producer = new Producer(redis);
    try {
      await waitFor(() => titles.length >= 10, { timeoutMs: 5000, what: "toasts over SSE" });
      gateway.signal("SIGTERM");
      assert.equal((await gateway.status()).code, 0);
      gateway = running.use(await GatewayProcess.start({ ...env, PORT: String(port) }));
      await waitFor(() => gateway.ready(), { what: "gateway ready again" });
      const after = producer.promised.length;
      await waitFor(() => producer.promised.length >= after + 10, { what: "more publications" });
    } finally {
      await producer.stop();
    }
    await waitFor(() => titles.at(-1) === producer.promised.at(-1), {
      timeoutMs: 10_000,
      what: `the last toast (${titles.length} of ${producer.promised.length})`,
    });
    console.log(
      `SSE through nginx without Upgrade: ${producer.promised.length} publications received by ` +
        `a gateway, ${titles.length} toasts`,
    );
    assert.deepEqual(titles, producer.promised, "every promised toast exactly once, in order");
    await live.waitFor();
    assert.ok(streamProtocols.length >= 2, "the page opened a new stream after the restart");
    // Chromium reports each failed WebSocket handshake and the probe's 426 before the fallback,
    // and nginx's 502 while the gateway restarts; nothing else may go wrong.
    const unexpected = errors.filter((error) =>
      !/WebSocket connection to .* failed|status of (426|502|503)/.test(error)
    );
    assert.deepEqual(unexpected, []);
  }, { ignoreHTTPSErrors: true });
});
