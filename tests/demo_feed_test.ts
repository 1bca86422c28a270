import assert from "node:assert/strict";
import { SAMPLES } from "../lib/ops/demo_feed.ts";
import { parsePublication } from "../lib/contract/message.ts";
import { GatewayProcess } from "./support/gateway_process.ts";
import { TestClient } from "./support/ws_client.ts";

Deno.test("every demo sample passes the message contract, in the regions' own scripts", () => {
  const encoder = new TextEncoder();
  for (const [region, samples] of Object.entries(SAMPLES)) {
    for (const [i, sample] of samples.entries()) {
      const payload = encoder.encode(JSON.stringify({
        event: "new_trending",
        video_id: `demo-${i}`,
        thumbnail: "https://picsum.photos/seed/x/320/180",
        ...sample,
      }));
      const result = parsePublication(payload, { region });
      assert.ok(result.ok, `${region}: ${sample.title}`);
    }
  }
  const titles = Object.values(SAMPLES).flat().map((sample) => sample.title).join(" ");
  for (
    const script of [/\p{Script=Arabic}/u, /[ěščřžůď]/, /[äö]/, /[æøå]/, /[éè]/, /Straße|Die /]
  ) {
    assert.match(titles, script);
  }
});

Deno.test("deno task demo: a newcomer receives trending notifications within seconds", async () => {
  const gateway = await GatewayProcess.start({}, ["demo"]);
  try {
    const client = await TestClient.connect(`${gateway.ws}/?region=AE,FI,CZ,DK,BE,GB,CH,US`);
    await client.waitForFrames(2, 8000);
    for (const message of client.messages) {
      assert.equal(message.event, "new_trending");
      assert.ok(message.dir === "rtl" || message.dir === "ltr");
      assert.match(String(message.thumbnail), /^https:\/\//);
    }
    await client.close();
  } finally {
    await gateway.stop();
  }
});
