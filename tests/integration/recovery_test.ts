import assert from "node:assert/strict";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { metricValue } from "../support/metrics.ts";
import { RedisServer } from "../support/redis_server.ts";
import { TcpProxy } from "../support/tcp_proxy.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

let videos = 0;

async function publish(gateway: TestGateway, region: string, title: string): Promise<void> {
  const response = await fetch(`${gateway.http}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event: "new_trending", region, video_id: `r${++videos}`, title }),
  });
  assert.equal(response.status, 202);
  await response.body?.cancel();
}

Deno.test("every message carries an id, and a plain client gets no control frames", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=AE`);
  await publish(gateway, "AE", "one");
  await publish(gateway, "AE", "two");
  await client.waitForFrames(2);
  const [first, second] = client.messages;
  assert.match(String(first?.id), /^AE:[0-9a-f]{16}$/);
  assert.match(String(second?.id), /^AE:[0-9a-f]{16}$/);
  assert.notEqual(first?.id, second?.id);
  assert.ok(client.frames[0]?.startsWith('{"id":"AE:'), "the id comes first");
});

Deno.test("a client resuming from an id gets the recovery frame, the missed messages, then live", async () => {
  await using gateway = await startTestGateway();
  const first = await TestClient.connect(`${gateway.ws}/?region=FI&since=`);
  await first.waitForFrames(1);
  const subscribed = first.messages[0];
  assert.equal(subscribed?.event, "subscribed");
  assert.match(String(subscribed?.position), /^FI:[0-9a-z]{8}:0$/, "a stream position");
  await publish(gateway, "FI", "m1");
  await first.waitForFrames(2);
  const lastId = String(first.messages[1]?.id);
  await first.close();

  for (const title of ["m2", "m3", "m4"]) await publish(gateway, "FI", title);
  await using again = await TestClient.connect(`${gateway.ws}/?region=FI&since=${lastId}`);
  await again.waitForFrames(4);
  const [recovery, ...replayed] = again.messages;
  assert.deepEqual(recovery, {
    event: "recovery",
    region: "FI",
    recovered: true,
    replayed: 3,
    position: again.messages[3]?.id,
  });
  assert.deepEqual(replayed.map((m) => m.title), ["m2", "m3", "m4"]);
  await publish(gateway, "FI", "m5");
  await again.waitForFrames(5);
  assert.equal(again.messages[4]?.title, "m5");
  const metrics = await gateway.metricsText();
  assert.equal(metricValue(metrics, 'tvs_recoveries_total{result="recovered"}'), 1);
  assert.equal(metricValue(metrics, "tvs_replayed_messages_total"), 3);
});

Deno.test("a position older than the history gets recovered: false and the current position", async () => {
  await using gateway = await startTestGateway({ HISTORY_SIZE: "3" });
  await publish(gateway, "CZ", "m1");
  const first = await TestClient.connect(`${gateway.ws}/?region=CZ&since=`);
  await first.waitForFrames(1);
  const position = String(first.messages[0]?.position);
  await first.close();
  for (let i = 2; i <= 10; i++) await publish(gateway, "CZ", `m${i}`);
  // 202 means handed to the broker; the gateway takes each in a later turn (held while it loads
  // its de-duplication keys after a start). Reconnect once all ten are in the history.
  await waitFor(
    async () =>
      metricValue(await gateway.metricsText(), 'tvs_messages_received_total{region="CZ"}') === 10,
    { what: "ten CZ publications taken in" },
  );
  await using again = await TestClient.connect(`${gateway.ws}/?region=CZ&since=${position}`);
  await again.waitForFrames(1);
  await publish(gateway, "CZ", "after");
  await again.waitForFrames(2);
  assert.equal(again.messages[1]?.title, "after", "nothing replayed before the next message");
  assert.deepEqual(again.messages[0], {
    event: "recovery",
    region: "CZ",
    recovered: false,
    replayed: 0,
    position: String(again.messages[0]?.position).match(/^CZ:[0-9a-f]{16}$/)?.[0],
  });
});

Deno.test("several regions resume each from its own position", async () => {
  await using gateway = await startTestGateway();
  await publish(gateway, "AE", "ae1");
  await publish(gateway, "GB", "gb1");
  const first = await TestClient.connect(`${gateway.ws}/?region=AE,GB&since=`);
  await first.waitForFrames(2);
  const positions = first.messages.map((m) => String(m.position));
  await first.close();
  await publish(gateway, "AE", "ae2");
  await publish(gateway, "GB", "gb2");
  await publish(gateway, "GB", "gb3");
  await using again = await TestClient.connect(
    `${gateway.ws}/?region=AE,GB&since=${positions.join(",")}`,
  );
  await again.waitForFrames(5);
  const titles = again.messages.filter((m) => m.title !== undefined).map((m) => m.title);
  assert.deepEqual(titles.filter((t) => String(t).startsWith("ae")), ["ae2"]);
  assert.deepEqual(titles.filter((t) => String(t).startsWith("gb")), ["gb2", "gb3"]);
});

Deno.test("with Redis a client recovers on another instance, and after its instance restarts", async () => {
  await using redis = await RedisServer.start();
  await using first = await startTestGateway({ REDIS_URL: redis.url });
  await waitFor(() => first.ready());
  const client = await TestClient.connect(`${first.ws}/?region=DK&since=`);
  await client.waitForFrames(1);
  await publish(first, "DK", "d1");
  await client.waitForFrames(2);
  const lastId = String(client.messages[1]?.id);
  await client.close();
  await publish(first, "DK", "d2");
  await publish(first, "DK", "d3");
  // Stop once Redis holds all three (the first instance records them after delivering them).
  await waitFor(async () => (await redis.command("HLEN", "tvs:{DK}:index")) === ":3", {
    what: "three records in Redis",
  });
  await first.close();
  // The history is in Redis, not in the stopped process: a fresh instance replays it.
  await using second = await startTestGateway({ REDIS_URL: redis.url });
  await waitFor(() => second.ready());
  const resumed = await TestClient.connect(`${second.ws}/?region=DK&since=${lastId}`);
  await resumed.waitForFrames(3);
  assert.equal(resumed.messages[0]?.recovered, true);
  assert.deepEqual(resumed.messages.slice(1).map((m) => m.title), ["d2", "d3"]);
  for (const message of resumed.messages.slice(1)) {
    assert.match(String(message.id), /^DK:[0-9a-f]{16}$/);
  }
  await resumed.close();
});

Deno.test("an instance cut off from Redis tells a resuming client to come back (1013), then replays what it missed", async () => {
  await using redis = await RedisServer.start();
  // The second instance reaches Redis through a proxy the test can cut; Redis keeps its history.
  await using link = TcpProxy.start(redis.port);
  await using first = await startTestGateway({ REDIS_URL: redis.url });
  await using second = await startTestGateway({ REDIS_URL: `redis://127.0.0.1:${link.port}` });
  await waitFor(() => first.ready(), { what: "first instance ready" });
  await waitFor(() => second.ready(), { what: "second instance ready" });
  const watcher = await TestClient.connect(`${second.ws}/?region=US`);
  for (const title of ["u1", "u2", "u3"]) await publish(first, "US", title);
  await watcher.waitForFrames(3);
  await watcher.close();
  const cursor = String(watcher.messages[2]?.id);

  link.refusing = true;
  link.dropAll();
  await waitFor(async () => !(await second.ready()), { what: "second instance unready" });
  // Only the first instance sees these: the second's own memory ends at u3.
  for (const title of ["u4", "u5"]) await publish(first, "US", title);
  await waitFor(async () => (await redis.command("HLEN", "tvs:{US}:index")) === ":5", {
    what: "five records in Redis",
  });

  const bounced = await TestClient.connect(`${second.ws}/?region=US&since=${cursor}`);
  let close: CloseEvent | undefined;
  bounced.closed.then((event) => close = event);
  await waitFor(() => close !== undefined, { what: "the bounced client closed" });
  assert.equal(close?.code, 1013);
  assert.deepEqual(bounced.frames, [], "no recovery frame that would end the client's catch-up");
  const metrics = await second.metricsText();
  assert.equal(metricValue(metrics, 'tvs_recoveries_total{result="unavailable"}'), 1);
  assert.equal(metricValue(metrics, 'tvs_broker_errors_total{operation="recover"}'), 1);

  link.refusing = false;
  await waitFor(() => second.ready(), { what: "second instance ready again" });
  await using resumed = await TestClient.connect(`${second.ws}/?region=US&since=${cursor}`);
  await resumed.waitForFrames(3);
  assert.equal(resumed.messages[0]?.recovered, true);
  assert.deepEqual(resumed.messages.slice(1).map((m) => m.title), ["u4", "u5"]);
});
