// Hostile inbound: peers that send a message they never finish, which the runtime buffers before
// the gateway sees anything. The process keeps MAX_RSS_BYTES, closes them, and a viewer who was
// there first misses nothing. The gateway runs in its own process: its memory is what is measured.
import assert from "node:assert/strict";
import { GatewayProcess } from "../support/gateway_process.ts";
import { HostilePeer, type HostileTarget, type Unfinished } from "../support/hostile_ws.ts";
import { metricValue } from "../support/metrics.ts";
import { startNginx } from "../support/nginx.ts";
import { makeCertificate } from "../support/tls_certificate.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const MIB = 1_048_576;
/** Well above an idle gateway (about 75 MiB), well below what the peers send together. */
const BOUND = 256 * MIB;
/** Together 360 MB: at least three must go before the process is back under the bound. */
const HOSTILE: readonly Unfinished[] = [
  "frame",
  "fragments",
  "frame",
  "fragments",
  "frame",
  "fragments",
];

function startGateway(env: Record<string, string> = {}): Promise<GatewayProcess> {
  return GatewayProcess.start({
    MAX_RSS_BYTES: String(BOUND),
    MAX_CONNECTIONS: "100",
    MAX_QUEUED_BYTES: String(MIB),
    PUBLISH_INSECURE_LOOPBACK: "true",
    ...env,
  });
}

/** Publishes to AE every 100 ms until stopped; resolves with the video ids it published. */
function publishing(gateway: GatewayProcess) {
  const ids: string[] = [];
  let running = true;
  const done = (async () => {
    for (let n = 1; running && n <= 600; n++) {
      const id = `v${n}`;
      const response = await fetch(`${gateway.http}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ event: "new_trending", region: "AE", video_id: id, title: "هدف" }),
      });
      await response.body?.cancel();
      if (response.status === 202) ids.push(id);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop(): Promise<string[]> {
      running = false;
      await done;
      return ids;
    },
  };
}

/**
 * Connects the viewer, then the hostile peers through `target`, each sending an unfinished 60 MB
 * message; checks that peers are dropped until memory is back under the bound, and that the viewer
 * got every publication.
 */
async function survivesHostilePeers(gateway: GatewayProcess, target: HostileTarget) {
  await using viewer = await TestClient.connect(`${gateway.ws}/?region=AE`);
  const publisher = publishing(gateway);
  using stack = new DisposableStack();
  const peers = await Promise.all(
    HOSTILE.map(async (kind) => {
      const peer = stack.use(await HostilePeer.connect(target));
      return Object.assign(peer, { sending: peer.sendUnfinished(kind, 60 * MIB) });
    }),
  );
  await Promise.all(peers.map((peer) => peer.sending));
  await waitFor(
    async () => metricValue(await gateway.metricsText(), "process_resident_memory_bytes") < BOUND,
    { timeoutMs: 10_000, what: "resident memory back under the bound" },
  );
  const dropped = peers.filter((peer) => peer.isDropped).length;
  assert.ok(dropped >= 3, `${dropped} hostile peers dropped`);
  const ids = await publisher.stop();
  await viewer.waitForFrames(ids.length, 10_000);
  assert.deepEqual(viewer.messages.map((message) => message.video_id), ids, "every publication");
  const metrics = await gateway.metricsText();
  assert.ok(metricValue(metrics, "tvs_memory_closes_total") >= dropped, "closes counted");
  assert.equal(metricValue(metrics, "tvs_resident_bytes_limit"), BOUND);
  const logged = gateway.logs.find((line) => line.msg === "client closed");
  assert.equal(logged?.reason, "memory");
  assert.ok(Number(logged?.residentBytes) > BOUND, "the log says how much was resident");
  return peers;
}

Deno.test("peers that never finish a 60 MB message are dropped once memory passes MAX_RSS_BYTES, and the viewer misses nothing", async () => {
  await using gateway = await startGateway();
  const peers = await survivesHostilePeers(gateway, { port: gateway.port });
  assert.ok(peers.every((peer) => peer.sent > 0));
});

Deno.test("through nginx (no frame limit of its own), the same peers are dropped just as well", async () => {
  await using certificate = await makeCertificate();
  await using gateway = await startGateway({ TRUSTED_PROXIES: "127.0.0.1" });
  await using nginx = await startNginx(gateway.port, certificate);
  await survivesHostilePeers(gateway, {
    port: nginx.tlsPort,
    caCert: certificate.pem,
    host: `localhost:${nginx.tlsPort}`,
  });
});
