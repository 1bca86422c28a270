import assert from "node:assert/strict";
import { GatewayProcess } from "../support/gateway_process.ts";
import { waitFor } from "../support/wait.ts";
import { TestClient } from "../support/ws_client.ts";

Deno.test("deno task demo: a viewer's region gets a toast within 3 s of the join, then about every 5 s, with the gateway's own thumbnails", async () => {
  await using gateway = await GatewayProcess.start({}, ["demo"]);
  // Past the first round, so what arrives is the join's doing, not the round's.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const joinedAt = performance.now();
  await using viewer = await TestClient.connect(`${gateway.ws}/?region=CZ`);
  await viewer.waitForFrames(1, 3000);
  const firstAfterMs = performance.now() - joinedAt;
  await viewer.waitForFrames(2, 7000);
  const [first, second] = viewer.messages;
  console.log(`first CZ toast ${firstAfterMs.toFixed(0)} ms after the join`);
  assert.ok(firstAfterMs < 3000);
  for (const message of [first, second]) {
    assert.equal(message?.event, "new_trending");
    assert.equal(message?.region, "CZ");
    assert.equal(message?.dir, "ltr");
    const thumbnail = new URL(String(message?.thumbnail));
    assert.equal(thumbnail.origin, `http://localhost:${gateway.port}`);
    const image = await fetch(`${gateway.http}${thumbnail.pathname}`);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get("content-type"), "image/svg+xml");
    assert.match(await image.text(), /^<svg /);
  }
  await using everyone = await TestClient.connect(`${gateway.ws}/?region=AE,FI,DK,BE,GB,CH,US`);
  await waitFor(() => new Set(everyone.messages.map((message) => message.region)).size === 7, {
    timeoutMs: 9000,
    what: "every region fed",
  });
});
