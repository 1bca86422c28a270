import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { startTestGateway } from "../support/gateway.ts";
import { RedisServer } from "../support/redis_server.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

Deno.test("publish sends a valid new_trending to Redis and prints it", async () => {
  await using redis = await RedisServer.start();
  await using gateway = await startTestGateway({ REDIS_URL: redis.url });
  await using client = await TestClient.connect(`${gateway.ws}/?region=AE`);
  const result = await runCli(
    [
      "publish",
      "--region",
      "ae",
      "--video-id",
      "cli_1",
      "--title",
      "هدف رائع",
      "--thumbnail",
      "https://i.ytimg.com/x.jpg",
    ],
    { REDIS_URL: redis.url },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^PUBLISH tvs:AE \(1 subscribers\), id AE:[0-9a-f]{16}: \{"event":"new_trending"/,
  );
  await client.waitForFrames(1);
  const message = client.messages[0];
  assert.equal(message?.title, "هدف رائع");
  assert.equal(message?.dir, "rtl");
  assert.equal(message?.thumbnail, "https://i.ytimg.com/x.jpg");
  assert.equal(typeof message?.ts, "number");
  // Once the gateway has recorded it, the same video_id again is not sent: the gateways would
  // drop it.
  await waitFor(async () => await redis.command("ZSCORE", "tvs:{AE}:dedupe", "cli_1") !== "$-1", {
    what: "the key recorded",
  });
  const again = await runCli(
    ["publish", "--region=AE", "--video-id=cli_1", "--title=مرة أخرى"],
    { REDIS_URL: redis.url },
  );
  assert.equal(again.code, 3, again.stderr);
  assert.match(again.stdout, /^not published: AE:[0-9a-f]{16} repeats AE:[0-9a-f]{16}/);
});

Deno.test("publish --gateway goes through POST /publish", async () => {
  await using gateway = await startTestGateway();
  await using client = await TestClient.connect(`${gateway.ws}/?region=FI`);
  const result = await runCli([
    "publish",
    "--region=FI",
    "--video-id=cli_2",
    "--title=Hyvää yötä",
    `--gateway=${gateway.http}`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /answered 202/);
  await client.waitForFrames(1);
  assert.equal(client.messages[0]?.title, "Hyvää yötä");
  const again = await runCli([
    "publish",
    "--region=FI",
    "--video-id=cli_2",
    "--title=Hyvää yötä taas",
    `--gateway=${gateway.http}`,
  ]);
  assert.equal(again.code, 3, "a duplicate exits 3");
  assert.match(again.stdout, /answered 200: .*"duplicate":true.*"duplicate_of":"FI:/);
});

Deno.test("publish refuses an invalid message and says why, without publishing", async () => {
  const cases: [string[], RegExp][] = [
    [["--region", "AE", "--video-id", "has space", "--title", "x"], /^refused: invalid_video_id: /],
    [["--region", "AE", "--video-id", "v", "--title", "   "], /^refused: invalid_title: /],
    [["--region", "ZZ", "--video-id", "v", "--title", "x"], /^refused: unknown region "ZZ"/],
  ];
  for (const [flags, message] of cases) {
    const result = await runCli(["publish", ...flags]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, message);
    assert.equal(result.stdout, "");
  }
});

Deno.test("publish warns about a thumbnail it removes and reports an unreachable target", async () => {
  const result = await runCli(
    [
      "publish",
      "--region",
      "DK",
      "--video-id",
      "v",
      "--title",
      "Ærø",
      "--thumbnail",
      "http://x/a.jpg",
      "--gateway",
      "http://127.0.0.1:9",
    ],
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /warning: thumbnail removed/);
  assert.match(result.stderr, /failed: .*(refused|blocked)/i);
});
