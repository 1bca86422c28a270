import { metricValue } from "./support/gateway.ts";
import { GatewayProcess } from "./support/gateway_process.ts";
import { RawWebSocket } from "./support/raw_ws.ts";
import { TestClient } from "./support/ws_client.ts";
const stall = Deno.args[0] === "stall";
const warm = Number(Deno.args[1] ?? 64);
const gateway = await GatewayProcess.start({});
const readers = await Promise.all(
  Array.from({ length: 3 }, () => TestClient.connect(`${gateway.ws}/?region=AE`)),
);
const stalled = stall
  ? await RawWebSocket.connect(gateway.port, "/?region=AE", { read: false })
  : undefined;
const padding = "ع".repeat(7900);
const rss = async () => {
  const t = await gateway.metricsText();
  return `${(metricValue(t, "process_resident_memory_bytes") / 1048576).toFixed(1)}[u${
    (metricValue(t, 'tvs_heap_bytes{kind="used"}') / 1048576).toFixed(1)
  } t${(metricValue(t, 'tvs_heap_bytes{kind="total"}') / 1048576).toFixed(1)} e${
    (metricValue(t, 'tvs_heap_bytes{kind="external"}') / 1048576).toFixed(1)
  }]`;
};
let i = 0;
const publish = async () => {
  const r = await fetch(`${gateway.http}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      event: "new_trending",
      region: "AE",
      video_id: `v${i++}`,
      title: "t",
      padding,
    }),
  });
  await r.body?.cancel();
};
const run = async (n: number) => {
  for (let k = 0; k < n; k++) {
    await publish();
    if (i % 32 === 0) { for (const r of readers) await r.waitForFrames(i - 16, 10000); }
  }
  for (const r of readers) await r.waitForFrames(i, 10000);
};
await run(warm);
const before = await rss();
const line: string[] = [`start ${before}`];
for (let step = 0; step < 4; step++) {
  await run(328);
  line.push(await rss());
}
console.log(stall ? "stall" : "none ", "warm", warm, line.join(" -> "));
stalled?.close();
await Promise.all(readers.map((r) => r.close()));
await gateway.stop();
