/// <reference lib="dom" />
// The topology TrendVidStream runs: TLS ends at nginx on the gateway's host (the shipped
// deploy/nginx.conf, with a throwaway certificate), the gateway listens on loopback behind it,
// and Redis is another host (127.0.0.2 is one to a client on 127.0.0.1).
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { withPage } from "../support/browser.ts";
import { startTestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { startNginx } from "../support/nginx.ts";
import { hs256 } from "../support/tokens.ts";
import { RedisServer } from "../support/redis_server.ts";
import { makeCertificate } from "../support/tls_certificate.ts";
import { waitFor } from "../support/wait.ts";

Deno.test("through nginx: wss delivery end to end, the gateway's own page let in, anonymous publish refused", async () => {
  await using certificate = await makeCertificate();
  await using redis = await RedisServer.start({ bind: "127.0.0.2" });
  // The worst case a developer could ship: no token, and local publishing switched on.
  await using gateway = await startTestGateway({
    REDIS_URL: redis.url,
    TRUSTED_PROXIES: "127.0.0.1",
    ALLOWED_ORIGINS: "https://trendvidstream.com",
    PUBLISH_INSECURE_LOOPBACK: "true",
  });
  await using nginx = await startNginx(Number(new URL(gateway.http).port), certificate);
  await waitFor(() => gateway.ready(), { what: "gateway ready with Redis on 127.0.0.2" });
  using client = Deno.createHttpClient({ caCerts: [certificate.pem] });
  const https = nginx.https;

  const anonymous = await fetch(`${https}/publish`, {
    client,
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "127.0.0.1" },
    body: JSON.stringify({
      event: "new_trending",
      region: "AE",
      video_id: "p",
      title: "FREE PRIZE",
    }),
  });
  assert.equal(anonymous.status, 403, "no anonymous publish through the proxy");
  assert.equal((await anonymous.json()).error, "not_local");
  const metrics = await fetch(`${https}/metrics`, { client });
  assert.equal(metrics.status, 404, "internals stay off the public side");
  await metrics.body?.cancel();
  const status = await fetch(`${https}/status.json`, { client });
  assert.equal(status.status, 401, "the status page's figures need the token through the proxy");
  assert.equal(status.headers.get("www-authenticate"), 'Bearer realm="status"');
  await status.body?.cancel();

  await withPage(async ({ page, errors }) => {
    await page.goto(`${https}/?region=AE`);
    await page.waitForSelector('#status[data-status="live"]');
    assert.equal(await page.locator("#send").isHidden(), true, "no publish form through a proxy");
    const receivers = await redis.publish(
      "tvs:AE",
      JSON.stringify({ event: "new_trending", video_id: "t1", title: "هدف رائع في الدقيقة 90" }),
    );
    assert.equal(receivers, 1);
    const title = page.locator(".toast .title bdi");
    await title.waitFor();
    assert.equal(await title.textContent(), "هدف رائع في الدقيقة 90");
    assert.equal(await title.evaluate((el) => getComputedStyle(el).direction), "rtl");
    assert.deepEqual(errors, []);
  }, { ignoreHTTPSErrors: true });
  assert.equal(
    metricValue(await gateway.metricsText(), 'tvs_deliveries_total{region="AE"}'),
    1,
    "delivered over wss",
  );
});

/** Opens a TLS connection from `localAddress` and sends `text`; resolves once it is open. */
function tlsSocket(port: number, ca: string, localAddress: string, text: string) {
  const tcp = net.connect({ host: "127.0.0.1", port, localAddress });
  const socket = tls.connect({ socket: tcp, ca, servername: "localhost" });
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => resolve(performance.now()))
  );
  socket.on("data", () => {});
  socket.on("error", () => {});
  return new Promise<{ readonly closed: Promise<number>; destroy(): void }>((resolve) =>
    socket.once("secureConnect", () => {
      socket.write(text);
      resolve({ closed, destroy: () => socket.destroy() });
    })
  );
}

Deno.test("nginx closes half-sent request headers within its timeout, which the gateway alone cannot", async () => {
  await using certificate = await makeCertificate();
  await using gateway = await startTestGateway({ TRUSTED_PROXIES: "127.0.0.1" });
  const gatewayPort = Number(new URL(gateway.http).port);
  await using nginx = await startNginx(gatewayPort, certificate);
  const half = "GET /?region=AE HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow";
  const started = performance.now();
  const proxied = await Promise.all(
    Array.from({ length: 20 }, () => tlsSocket(nginx.tlsPort, certificate.pem, "127.0.0.3", half)),
  );
  // The same half request straight to the gateway, for contrast.
  const direct = await Deno.connect({ hostname: "127.0.0.1", port: gatewayPort });
  await direct.write(new TextEncoder().encode(half));
  const closedAt = await Promise.all(proxied.map((socket) => socket.closed));
  const seconds = closedAt.map((at) => (at - started) / 1000);
  console.log(
    `half-sent headers: nginx closed all ${seconds.length} after ` +
      `${Math.min(...seconds).toFixed(1)}-${Math.max(...seconds).toFixed(1)} s`,
  );
  for (const elapsed of seconds) assert.ok(elapsed >= 9 && elapsed < 15, `${elapsed} s`);
  // The gateway still holds its own: Deno.serve has no header-read timeout.
  const stillOpen = await Promise.race([
    direct.read(new Uint8Array(1)).then(() => false, () => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 200)),
  ]);
  assert.equal(stillOpen, true, "the gateway alone holds a half-sent header");
  direct.close();
  for (const socket of proxied) socket.destroy();
});

/** Sends `request` over TLS (SNI `servername`) to `port`; resolves with the first answer, if any. */
async function tlsExchange(port: number, ca: string, servername: string, request: string) {
  const socket = tls.connect({ host: "127.0.0.1", port, ca, servername });
  return await new Promise<{ readonly handshake: boolean; readonly answer: string }>(
    (resolve) => {
      let handshake = false;
      socket.once("secureConnect", () => {
        handshake = true;
        socket.write(request);
      });
      socket.once("data", (chunk) => {
        resolve({ handshake, answer: chunk.toString() });
        socket.destroy();
      });
      socket.once("error", () => {});
      socket.once("close", () => resolve({ handshake, answer: "" }));
    },
  );
}

Deno.test("nginx refuses hosts it does not serve: a rebound name never reaches the gateway", async () => {
  await using certificate = await makeCertificate();
  await using gateway = await startTestGateway({ TRUSTED_PROXIES: "127.0.0.1" });
  await using nginx = await startNginx(Number(new URL(gateway.http).port), certificate);
  const upgrade = (host: string) =>
    `GET /?region=AE HTTP/1.1\r\nHost: ${host}\r\nOrigin: https://${host}\r\n` +
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Sec-WebSocket-Version: 13\r\n\r\n";
  const served = await tlsExchange(
    nginx.tlsPort,
    certificate.pem,
    "localhost",
    upgrade("localhost"),
  );
  assert.match(served.answer, /^HTTP\/1\.1 101 /, "its own name upgrades");
  const rebound = await tlsExchange(
    nginx.tlsPort,
    certificate.pem,
    "localhost",
    upgrade("evil.example"),
  );
  assert.equal(rebound.handshake, true);
  assert.equal(rebound.answer, "", "another site's Host gets no answer at all (444)");
  const otherName = await tlsExchange(
    nginx.tlsPort,
    certificate.pem,
    "evil.example",
    upgrade("evil.example"),
  );
  assert.equal(otherName.handshake, false, "TLS for another name is refused at the handshake");
  assert.equal(
    metricValue(
      await gateway.metricsText(),
      'tvs_handshake_refusals_total{reason="origin_not_allowed"}',
    ),
    0,
  );
  assert.equal(metricValue(await gateway.metricsText(), 'tvs_sockets{state="open"}') <= 1, true);
});

Deno.test("through nginx, a connection token in ?token= never reaches the access log", async () => {
  await using certificate = await makeCertificate();
  const secret = "tvs-proxy-test-secret-of-32-bytes-or-more";
  await using gateway = await startTestGateway({
    TRUSTED_PROXIES: "127.0.0.1",
    CONNECT_TOKEN: "required",
    CONNECT_TOKEN_SECRET: secret,
  });
  await using nginx = await startNginx(Number(new URL(gateway.http).port), certificate);
  using client = Deno.createHttpClient({ caCerts: [certificate.pem] });
  const token = await hs256({ sub: "viewer-9" }, secret);
  const stream = await fetch(`${nginx.https}/events?region=AE&token=${token}`, { client });
  assert.equal(stream.status, 200);
  await stream.body?.cancel();
  const refused = await fetch(`${nginx.https}/events?region=AE&token=${token}x`, { client });
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  await waitFor(async () => (await nginx.accessLog()).split("\n").length > 2, {
    what: "two lines in the access log",
  });
  const log = await nginx.accessLog();
  assert.match(log, /"GET \/events HTTP\/2\.0" 200 /);
  assert.match(log, /"GET \/events HTTP\/2\.0" 401 /);
  assert.ok(!log.includes(token.split(".")[2]!), "no token in the access log");
  assert.ok(!log.includes("token="), "no query string in the access log");
});
