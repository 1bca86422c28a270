import assert from "node:assert/strict";
import { GatewayProcess } from "../support/gateway_process.ts";
import { TestClient } from "../support/ws_client.ts";

Deno.test("deno task demo: a newcomer receives trending notifications within seconds", async () => {
  await using gateway = await GatewayProcess.start({}, ["demo"]);
  const client = await TestClient.connect(`${gateway.ws}/?region=AE,FI,CZ,DK,BE,GB,CH,US`);
  await client.waitForFrames(2, 8000);
  for (const message of client.messages) {
    assert.equal(message.event, "new_trending");
    assert.ok(message.dir === "rtl" || message.dir === "ltr");
    assert.match(String(message.thumbnail), /^https:\/\//);
  }
  await client.close();
});
