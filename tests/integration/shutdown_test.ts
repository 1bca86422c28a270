import assert from "node:assert/strict";
import { metricValue } from "../support/metrics.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

const CLIENTS = 200;
const DRAIN_SECONDS = 2;

for (const workers of [1, 2]) {
  Deno.test(`SIGTERM drains ${CLIENTS} clients of ${workers} worker(s) with 1012 over the window and exits 0 before the deadline`, async () => {
    await using gateway = await GatewayProcess.start({
      DRAIN_SECONDS: String(DRAIN_SECONDS),
      MAX_CONNECTIONS_PER_IP: "1000",
      WORKERS: String(workers),
    });
    const clients = await Promise.all(
      Array.from(
        { length: CLIENTS },
        (_, i) => TestClient.connect(`${gateway.ws}/?region=${i % 2 ? "AE" : "CZ"}`),
      ),
    );
    const closedAt: number[] = [];
    const codes = clients.map((client) =>
      client.closed.then((event) => {
        closedAt.push(performance.now());
        return event.code;
      })
    );
    // Clients see "open" before the gateway has processed every upgrade; wait until it has.
    await waitFor(
      async () => metricValue(await gateway.metricsText(), 'tvs_sockets{state="open"}') === CLIENTS,
      {
        what: "all clients open on the gateway",
      },
    );
    const signalledAt = performance.now();
    gateway.signal("SIGTERM");
    await waitFor(async () => {
      const response = await fetch(`${gateway.http}/readyz`);
      const body = await response.json();
      return response.status === 503 && body.reason === "draining";
    }, { timeoutMs: 500, intervalMs: 10, what: "readyz 503 draining" });
    const late = await fetch(`${gateway.http}/ws?region=AE`);
    assert.equal(late.status, 503);
    assert.equal((await late.json()).error, "draining");

    const seen = await Promise.all(codes);
    const tally = Object.fromEntries(
      [...new Set(seen)].map((code) => [code, seen.filter((c) => c === code).length]),
    );
    assert.deepEqual(
      Object.keys(tally),
      ["1012"],
      `every client got 1012: ${JSON.stringify(tally)}`,
    );
    const status = await gateway.status();
    const exitedAfterMs = performance.now() - signalledAt;
    assert.equal(status.code, 0);
    assert.ok(exitedAfterMs < (DRAIN_SECONDS + 3) * 1000, `exited after ${exitedAfterMs} ms`);

    closedAt.sort((a, b) => a - b);
    const histogram = new Array(25).fill(0);
    for (const at of closedAt) histogram[Math.min(24, Math.floor((at - signalledAt) / 100))]++;
    console.log("per 100 ms:", histogram.join(" "));
    const spreadMs = closedAt.at(-1)! - closedAt[0]!;
    const firstQuarter = closedAt.filter((at) => at - signalledAt < DRAIN_SECONDS * 250).length;
    console.log(
      `drain: ${CLIENTS} clients closed over ${spreadMs.toFixed(0)} ms, ` +
        `${firstQuarter} in the first quarter; exit 0 after ${exitedAfterMs.toFixed(0)} ms`,
    );
    assert.ok(spreadMs > DRAIN_SECONDS * 1000 * 0.8, `closes spread over ${spreadMs} ms`);
    assert.ok(firstQuarter < CLIENTS * 0.4, `${firstQuarter} closed in the first quarter`);
    const messages = gateway.logs.map((line) => line.msg);
    assert.ok(messages.includes("draining") && messages.includes("stopped"));
    const drained = gateway.logs.filter((line) => line.msg === "drained").length;
    assert.equal(drained, workers, "every worker drained");
  });
}

Deno.test("a second signal exits at once", async () => {
  await using gateway = await GatewayProcess.start({
    DRAIN_SECONDS: "30",
    MAX_CONNECTIONS_PER_IP: "1000",
  });
  // Enough clients that the 30 s drain is still under way when the second signal comes.
  await using _clients = await TestClient.connectAll(
    Array.from({ length: 400 }, () => `${gateway.ws}/?region=FI`),
  );
  gateway.signal("SIGTERM");
  await waitFor(() => gateway.logs.some((line) => line.msg === "draining"), { what: "draining" });
  const secondAt = performance.now();
  gateway.signal("SIGINT");
  const status = await gateway.status();
  assert.equal(status.code, 1);
  assert.ok(performance.now() - secondAt < 1000);
  assert.ok(gateway.logs.some((line) => line.msg === "second signal, exiting now"));
});

Deno.test("handshakes still in flight when the drain starts leave with later batches", async () => {
  await using gateway = await GatewayProcess.start({
    DRAIN_SECONDS: "1",
    MAX_CONNECTIONS_PER_IP: "1000",
  });
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => TestClient.connect(`${gateway.ws}/?region=GB`)),
  );
  const signalledAt = performance.now();
  gateway.signal("SIGTERM");
  const closedAt = await Promise.all(
    clients.map((client) => client.closed.then(() => performance.now())),
  );
  const firstTick = closedAt.filter((at) => at - signalledAt < 100).length;
  assert.ok(firstTick <= CLIENTS / 4, `${firstTick} of ${CLIENTS} closed in the first 100 ms`);
  assert.equal((await gateway.status()).code, 0);
});

Deno.test("a gateway with no clients stops at once, whatever the drain window", async () => {
  const gateway = await GatewayProcess.start({ DRAIN_SECONDS: "30" });
  const signalledAt = performance.now();
  gateway.signal("SIGTERM");
  const status = await gateway.status();
  assert.equal(status.code, 0);
  assert.ok(performance.now() - signalledAt < 1500, "no waiting out an empty window");
});

Deno.test("sockets that open after the drain window are closed too, and the process exits 0", async () => {
  await using gateway = await GatewayProcess.start({
    DRAIN_SECONDS: "0",
    MAX_CONNECTIONS_PER_IP: "5000",
  });
  // Clients see "open" before the gateway has processed every upgrade: many open late.
  const sockets = Array.from({ length: 1000 }, () => new WebSocket(`${gateway.ws}/ws?region=FI`));
  const codes = sockets.map((socket) =>
    new Promise<number>((resolve) => socket.onclose = (event) => resolve(event.code))
  );
  await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.onopen = resolve)));
  const signalledAt = performance.now();
  gateway.signal("SIGTERM");
  const status = await gateway.status();
  const exitedAfterMs = performance.now() - signalledAt;
  assert.equal(status.code, 0);
  assert.ok(exitedAfterMs < 5000, `exited after ${exitedAfterMs} ms, not at the hard deadline`);
  // The drain stops waiting for close handshakes 500 ms after its last batch, so that a restart
  // is short; the sockets still closing then are cut by the server's stop, and it logs how many.
  // On a quiet machine none is: every client sees 1012. Beside other test files some clients now
  // and then answer too late (at worst 288 of 2,000 when this test opened 2,000); only those may
  // see another code, and never most of them.
  const drained = gateway.logs.find((line) => line.msg === "drained");
  const unconfirmed = Number(drained?.unconfirmed);
  const cut = (await Promise.all(codes)).filter((code) => code !== 1012).length;
  assert.ok(cut <= unconfirmed, `${cut} clients saw no 1012, ${unconfirmed} left unconfirmed`);
  assert.ok(cut < sockets.length / 2, `${cut} of ${sockets.length} clients saw no 1012`);
});
