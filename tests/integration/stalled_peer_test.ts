// A peer that stops reading keeps, after the gateway has closed it, what the runtime had queued for
// it, for as long as its TCP connection lives (Deno's pending writes hold it; nothing in its API
// cancels them: docs/operations.md, "What bounds memory"). Behind the shipped nginx, its
// send_timeout ends such a connection and with it the gateway's side.
import assert from "node:assert/strict";
import { GatewayProcess } from "../support/gateway_process.ts";
import { metricValue } from "../support/metrics.ts";
import { startNginx } from "../support/nginx.ts";
import { RedisServer } from "../support/redis_server.ts";
import { makeCertificate } from "../support/tls_certificate.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const MESSAGE_BYTES = 16_000;
const BATCH = 32;
/** Enough to fill the kernel's buffers on both hops and the client's budget many times over. */
const MAX_MESSAGES = 8_000;
const PADDING = "x".repeat(MESSAGE_BYTES - 120);

/** The gateway's TCP connections on `port` that hold bytes the peer has not taken (Send-Q). */
function connectionsWithUnsentBytes(port: number): number {
  const { stdout } = new Deno.Command("ss", {
    args: ["-tnH", "state", "established", `( sport = :${port} )`],
  }).outputSync();
  return new TextDecoder().decode(stdout).split("\n")
    .filter((line) => Number(line.trim().split(/\s+/)[1] ?? 0) > 0).length;
}

/** Upgrades through nginx over TLS, then never reads a byte. */
async function stalledPeer(port: number, caCert: string): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [caCert] });
  await conn.write(
    new TextEncoder().encode(
      `GET /?region=AE HTTP/1.1\r\nHost: localhost:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  const head = new Uint8Array(1024);
  const read = await conn.read(head);
  const status = new TextDecoder().decode(head.subarray(0, read ?? 0)).split("\r\n")[0];
  assert.match(status ?? "", / 101 /);
  return conn;
}

Deno.test("a peer that stops reading behind nginx: closed as slow, then its connection ended by nginx's send_timeout, and a viewer gets everything", async () => {
  await using redis = await RedisServer.start();
  await using gateway = await GatewayProcess.start({
    REDIS_URL: redis.url,
    MAX_BUFFERED_BYTES: String(64 * 1024),
    TRUSTED_PROXIES: "127.0.0.1",
  });
  await waitFor(() => gateway.ready(), { what: "ready" });
  await using certificate = await makeCertificate();
  await using nginx = await startNginx(gateway.port, certificate, { sendTimeoutSeconds: 2 });
  await using viewer = await TestClient.connect(`${gateway.ws}/?region=AE`);
  const stalled = await stalledPeer(nginx.tlsPort, certificate.pem);
  const slowCloses = async () =>
    metricValue(await gateway.metricsText(), 'tvs_disconnects_total{code="4001"}');
  let published = 0;
  while ((await slowCloses()) === 0 && published < MAX_MESSAGES) {
    await redis.pipeline(Array.from({ length: BATCH }, () => {
      const message = {
        event: "new_trending",
        video_id: `s${published++}`,
        title: "t",
        p: PADDING,
      };
      return ["PUBLISH", "tvs:AE", JSON.stringify(message)];
    }));
    await viewer.waitForFrames(published, 10_000);
  }
  assert.equal(await slowCloses(), 1, `closed as slow after ${published} messages`);
  // Closed, yet the connection is there with bytes it was never sent: only its end frees them.
  assert.equal(connectionsWithUnsentBytes(gateway.port), 1);
  await waitFor(() => connectionsWithUnsentBytes(gateway.port) === 0, {
    timeoutMs: 15_000,
    what: "nginx to end the stalled connection",
  });
  assert.equal(viewer.messages.length, published);
  stalled.close();
});
