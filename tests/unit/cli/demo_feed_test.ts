import assert from "node:assert/strict";
import { parsePublication } from "../../../lib/contract/message.ts";
import { SAMPLES } from "../../../lib/cli/demo_feed.ts";

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
