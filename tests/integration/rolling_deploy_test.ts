// Several gateway hosts behind one load balancer, the weekly rolling deploy: three gateways on one
// Redis behind real nginx with deploy/nginx-upstream.conf, restarted one by one (SIGTERM drain,
// start again on the same port) while publications flow every 100 ms and the viewers, clients of
// the shipped library over wss, reconnect through nginx to whichever gateway it picks.
import assert from "node:assert/strict";
// @ts-types="npm:@types/ws@8.18.1"
import WebSocket from "ws";
import { TvsClient } from "../../lib/client/tvs-client.js";
import { closing } from "../support/disposable.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { startNginx } from "../support/nginx.ts";
import { RedisServer } from "../support/redis_server.ts";
import { makeCertificate } from "../support/tls_certificate.ts";
import { delay, freePort, waitFor } from "../support/wait.ts";

const VIEWERS = 24;
const GATEWAYS = 3;

/** The `ws` package's WebSocket, trusting `ca`: what a viewer's browser does with a real certificate. */
function trusting(ca: string): typeof globalThis.WebSocket {
  class TrustingWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { ca });
      // An EventEmitter without an 'error' listener throws; the library listens as a browser
      // page does, through the WebSocket interface.
      this.on("error", () => {});
    }
  }
  return TrustingWebSocket as unknown as typeof globalThis.WebSocket;
}

Deno.test("a rolling restart of three gateways behind nginx: every viewer gets every publication exactly once, in order", async () => {
  await using certificate = await makeCertificate();
  await using redis = await RedisServer.start();
  const env = { REDIS_URL: redis.url, DRAIN_SECONDS: "1", TRUSTED_PROXIES: "127.0.0.1" };
  const ports = await Promise.all(Array.from({ length: GATEWAYS }, () => freePort()));
  const gateways = await Promise.all(
    ports.map((port) => GatewayProcess.start({ ...env, PORT: String(port) })),
  );
  await using _gateways = {
    [Symbol.asyncDispose]: async () => {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
    },
  };
  await using nginx = await startNginx(ports[0]!, certificate, { upstreamPorts: ports });
  for (const gateway of gateways) await waitFor(() => gateway.ready(), { what: "ready" });

  const titles = Array.from({ length: VIEWERS }, () => [] as string[]);
  const unrecovered: string[] = [];
  const viewers = titles.map((seen, i) => {
    const client = new TvsClient({
      url: `wss://localhost:${nginx.tlsPort}/ws`,
      regions: ["AE"],
      WebSocket: trusting(certificate.pem),
      baseDelayMs: 100,
      maxDelayMs: 500,
    });
    client.addEventListener("trending", (event) => {
      seen.push(String((event as CustomEvent).detail.title));
    });
    client.addEventListener("recovery", (event) => {
      const detail = (event as CustomEvent).detail;
      if (!detail.recovered) unrecovered.push(`viewer ${i}`);
    });
    client.start();
    return closing(client);
  });
  await using _viewers = {
    [Symbol.asyncDispose]: async () => {
      for (const viewer of viewers) await viewer[Symbol.asyncDispose]();
    },
  };
  await waitFor(() => viewers.every((viewer) => viewer.status === "live"), { what: "all live" });
  const sockets = async () =>
    await Promise.all(
      gateways.map(async (gateway) =>
        metricValue(await gateway.metricsText(), 'tvs_sockets{state="open"}')
      ),
    );
  const before = await sockets();
  assert.ok(before.every((count) => count > 0), `nginx spread the viewers: ${before}`);

  // A producer's schedule: one publication every 100 ms for as long as the deploy takes.
  let published = 0;
  let publishing = true;
  const producer = (async () => {
    while (publishing) {
      await redis.publish(
        "tvs:AE",
        JSON.stringify({ event: "new_trending", video_id: `r${published}`, title: `${published}` }),
      );
      published++;
      await delay(100);
    }
  })();
  for (let i = 0; i < GATEWAYS; i++) {
    await gateways[i]!.stop();
    gateways[i] = await GatewayProcess.start({ ...env, PORT: String(ports[i]) });
    await waitFor(() => gateways[i]!.ready(), { what: `gateway ${i} ready again` });
  }
  // A last few after the deploy: a repeat of any earlier one would arrive before them.
  await delay(1000);
  publishing = false;
  await producer;
  const expected = Array.from({ length: published }, (_, i) => String(i));
  await waitFor(() => titles.every((seen) => seen.length >= published), {
    timeoutMs: 15_000,
    what: `${published} publications to every viewer`,
  });
  for (const [i, seen] of titles.entries()) {
    assert.deepEqual(seen, expected, `viewer ${i}: every publication once, in order`);
  }
  assert.deepEqual(unrecovered, [], "no viewer was told its history had a gap");
  const after = await sockets();
  assert.equal(after.reduce((sum, count) => sum + count, 0), VIEWERS);
  console.log(
    `rolling deploy: ${published} publications, ${VIEWERS} viewers over gateways ` +
      `${before.join("/")} before, ${after.join("/")} after`,
  );
});
