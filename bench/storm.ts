/**
 * S5, the reconnect storm: thousands of clients of the browser client library (in Deno, whose
 * global WebSocket it needs), connected to the target; the orchestrator restarts the target when
 * told they are all connected; this process reports how long until all are connected again, and
 * how many connection attempts failed meanwhile.
 *
 * Usage: deno run -A bench/storm.ts '{"clients":5000,"port":8765}'
 *
 * @module
 */

import { TvsClient } from "../lib/client/tvs-client.js";

const REGIONS = ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"];
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const emit = (event: Record<string, unknown>) => console.log(JSON.stringify(event));

const params = JSON.parse(Deno.args[0] ?? "{}") as { clients?: number; port?: number };
const { clients: count, port } = params;
if (typeof count !== "number" || typeof port !== "number") {
  console.error('usage: storm.ts \'{"clients":5000,"port":8765}\'');
  Deno.exit(2);
}

let open = 0;
let failures = 0;
let firstDrop = 0;
let allBack = 0;
let everAll = false;

/** Counts the sockets the client library opens and loses. */
class CountingWebSocket extends WebSocket {
  constructor(url: string | URL) {
    super(url);
    let opened = false;
    this.addEventListener("open", () => {
      opened = true;
      open++;
      if (everAll && open === count && allBack === 0) allBack = clock();
    });
    this.addEventListener("close", () => {
      if (!opened) {
        failures++;
        return;
      }
      open--;
      if (everAll && firstDrop === 0) firstDrop = clock();
    });
  }
}

const clients = Array.from({ length: count }, (_, i) =>
  new TvsClient({
    url: `ws://127.0.0.1:${port}/ws`,
    regions: [REGIONS[i % REGIONS.length]!],
    heartbeatMs: 0,
    WebSocket: CountingWebSocket,
  }));
for (const client of clients) client.start();
const deadline = clock() + 60_000;
while (open < count && clock() < deadline) await sleep(50);
everAll = true;
failures = 0;
emit({ scenario: "s5-ready", open });
const until = clock() + 60_000;
while (allBack === 0 && clock() < until) await sleep(20);
emit({
  scenario: "s5",
  seconds: allBack > 0 && firstDrop > 0 ? (allBack - firstDrop) / 1000 : NaN,
  reconnected: open,
  failedAttempts: failures,
});
for (const client of clients) client.close();
Deno.exit(0);
