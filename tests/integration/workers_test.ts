// WORKERS: one process serving on every worker, with limits, metrics, readiness and recovery that
// hold for the whole process.
import assert from "node:assert/strict";
import { TvsClient } from "../../lib/client/tvs-client.js";
import { closing } from "../support/disposable.ts";
import { startTestCluster, type TestCluster } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { rawRequest, upgradeHeaders } from "../support/raw_http.ts";
import { RedisServer } from "../support/redis_server.ts";
import { delay, waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

/** Open sockets per worker, as `/metrics` tells them, once there are `total` in all. */
/** How many workers the process says run (`tvs_workers`). */
async function workersRunning(cluster: TestCluster): Promise<number> {
  return metricValue(await cluster.metricsText(), "tvs_workers");
}

async function socketsPerWorker(cluster: TestCluster, total?: number): Promise<number[]> {
  const perWorker = async () => {
    const metrics = await cluster.metricsText();
    return [0, 1].map((worker) => metricValue(metrics, `tvs_worker_sockets{worker="${worker}"}`));
  };
  // A client sees its socket open a moment before the gateway has taken the upgrade in.
  if (total !== undefined) {
    await waitFor(async () => (await perWorker()).reduce((a, b) => a + b) === total, {
      what: `${total} open sockets`,
    });
  }
  return await perWorker();
}

const trending = (n: number, region = "AE") =>
  JSON.stringify({ event: "new_trending", region, video_id: `w${n}`, title: `هدف ${n}` });

for (const broker of ["redis", "memory"] as const) {
  Deno.test(`with two workers (${broker} broker) every client gets each message once, in order`, async () => {
    await using redis = await RedisServer.start();
    await using cluster = await startTestCluster(
      broker === "redis" ? { REDIS_URL: redis.url } : {},
    );
    await waitFor(() => cluster.ready(), { what: "every worker ready" });
    await using clients = await TestClient.connectAll(
      Array.from({ length: 40 }, (_, i) => `${cluster.ws}/?region=${i % 2 ? "AE" : "AE,FI"}`),
    );
    const spread = await socketsPerWorker(cluster, 40);
    assert.ok(spread.every((count) => count > 0), `the kernel spread them: ${spread}`);
    for (let n = 1; n <= 30; n++) {
      if (broker === "redis") await redis.publish("tvs:AE", trending(n));
      else await cluster.publish("AE", trending(n));
    }
    // A thirty-first after the thirty: a duplicate of any would arrive before it.
    if (broker === "redis") await redis.publish("tvs:AE", trending(31));
    else await cluster.publish("AE", trending(31));
    for (const client of clients) {
      assert.deepEqual(
        (await client.waitForVideo("w31")).map((message) => message.video_id),
        Array.from({ length: 31 }, (_, i) => `w${i + 1}`),
      );
    }
    const metrics = await cluster.metricsText();
    assert.equal(
      metricValue(metrics, 'tvs_messages_received_total{region="AE"}'),
      31,
      "not doubled",
    );
    const deliveries = metricValue(metrics, 'tvs_deliveries_total{region="AE"}');
    assert.equal(deliveries, 40 * 31, `summed: ${deliveries}`);
    assert.equal(metricValue(metrics, 'tvs_subscriptions{region="FI"}'), 20);
    assert.equal(metricValue(metrics, "tvs_workers"), 2);
    assert.equal(metricValue(metrics, `tvs_broker_connected{broker="${broker}"}`), 1);
  });
}

Deno.test("connection limits hold for the process, however the kernel spreads the sockets", async () => {
  await using cluster = await startTestCluster({
    MAX_CONNECTIONS: "10",
    MAX_CONNECTIONS_PER_IP: "6",
  });
  const port = cluster.port;
  const connect = (localAddress: string) =>
    rawRequest({ port, localAddress, path: "/?region=AE", headers: upgradeHeaders() });
  await using stack = new AsyncDisposableStack();
  for (let i = 0; i < 6; i++) {
    const response = stack.use(await connect("127.0.0.1"));
    assert.equal(response.status, 101, `socket ${i} from 127.0.0.1`);
  }
  const seventh = stack.use(await connect("127.0.0.1"));
  assert.equal(seventh.status, 429);
  for (let i = 0; i < 4; i++) assert.equal(stack.use(await connect("127.0.0.2")).status, 101);
  const eleventh = stack.use(await connect("127.0.0.3"));
  assert.equal(eleventh.status, 503);
  assert.equal(JSON.parse(eleventh.body).error, "too_many_connections");
  const spread = await socketsPerWorker(cluster, 10);
  assert.ok(spread.every((count) => count > 0), `both workers hold some: ${spread}`);
  const metrics = await cluster.metricsText();
  assert.equal(
    metricValue(metrics, 'tvs_handshake_refusals_total{reason="too_many_connections_per_ip"}'),
    1,
  );
});

Deno.test("readiness speaks for the process: every worker's broker, and the drain", async () => {
  await using redis = await RedisServer.start();
  await using cluster = await startTestCluster({ REDIS_URL: redis.url });
  await waitFor(() => cluster.ready(), { what: "ready" });
  await redis.kill();
  await waitFor(async () => !(await cluster.ready()), { what: "not ready without Redis" });
  const answer = await (await fetch(`${cluster.http}/readyz`)).json();
  assert.match(answer.reason, /^broker_/);
  await redis.restart();
  await waitFor(() => cluster.ready(), { timeoutMs: 10_000, what: "ready again" });
});

Deno.test("a worker that dies is logged and replaced; its clients come back and miss nothing", async () => {
  await using redis = await RedisServer.start();
  await using cluster = await startTestCluster({ REDIS_URL: redis.url });
  await waitFor(() => cluster.ready(), { what: "ready" });
  await using stack = new AsyncDisposableStack();
  const received = Array.from({ length: 12 }, () => [] as string[]);
  const clients = received.map((titles) => {
    const client = stack.use(closing(
      new TvsClient({
        url: `${cluster.ws}/ws`,
        regions: ["GB"],
        baseDelayMs: 50,
        maxDelayMs: 200,
      }),
    ));
    client.addEventListener("trending", (event) => {
      titles.push(String((event as CustomEvent).detail.video_id));
    });
    client.start();
    return client;
  });
  await waitFor(() => clients.every((client) => client.status === "live"), { what: "live" });
  assert.ok((await socketsPerWorker(cluster))[0]! > 0, "worker 0 holds some clients");
  // A producer's schedule, one message each 20 ms, not a wait.
  const publish = async (from: number, to: number) => {
    for (let n = from; n <= to; n++) {
      await redis.publish("tvs:GB", trending(n, "GB"));
      await delay(20);
    }
  };
  await publish(1, 10);
  cluster.terminate(0);
  await publish(11, 40);
  await waitFor(() => received.every((titles) => titles.length === 40), {
    timeoutMs: 10_000,
    what: "every message on every client",
  });
  const expected = Array.from({ length: 40 }, (_, i) => `w${i + 1}`);
  for (const titles of received) assert.deepEqual(titles, expected, "exactly once, in order");
  await waitFor(async () => (await cluster.metricsText()).includes("tvs_workers 2"), {
    what: "two workers again",
  });
  assert.equal(metricValue(await cluster.metricsText(), "tvs_worker_restarts_total"), 1);
  assert.ok(cluster.logs.some((line) => line.msg === "worker died, replacing it"));
});

Deno.test("a worker that keeps dying ends the process's serving with a reason", async () => {
  await using cluster = await startTestCluster();
  let failure: string | undefined;
  cluster.failure.then((reason) => failure = reason);
  for (let i = 0; i < 6 && failure === undefined; i++) {
    // Once its replacement is up, worker 1 dies again.
    await waitFor(async () => failure !== undefined || (await workersRunning(cluster)) === 2, {
      what: "two workers up",
    });
    cluster.terminate(1);
  }
  await waitFor(() => failure !== undefined, { what: "failure" });
  assert.match(failure!, /^worker 1 died 6 times within 60 s$/);
});

Deno.test("once a replaced worker listens, new connections reach it as much as the others", async () => {
  await using cluster = await startTestCluster({ MAX_CONNECTIONS_PER_IP: "1000" });
  await waitFor(() => cluster.ready(), { what: "ready" });
  await using before = await TestClient.connectAll(
    Array.from({ length: 20 }, () => `${cluster.ws}/?region=AE`),
  );
  await socketsPerWorker(cluster, 20);
  cluster.terminate(0);
  await waitFor(async () => (await cluster.metricsText()).includes("tvs_workers 2"), {
    what: "the replacement listening",
  });
  const [, survivor] = await socketsPerWorker(cluster);
  await using after = await TestClient.connectAll(
    Array.from({ length: 400 }, () => `${cluster.ws}/?region=AE`),
  );
  const [replacement, both] = await socketsPerWorker(cluster, 400 + survivor!);
  // The kernel spreads by a hash of each connection: 400 land within 20 % of half each (four
  // standard deviations of a fair split).
  assert.ok(replacement! >= 160 && replacement! <= 240, `replacement ${replacement}`);
  assert.equal(both! - survivor!, 400 - replacement!, "existing connections stay where they are");
  assert.equal(before.length + after.length, 420);
});
