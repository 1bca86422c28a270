import assert from "node:assert/strict";
import type { Cursor } from "../../../lib/brokers/broker.ts";
import { MemoryBroker } from "../../../lib/brokers/memory.ts";
import { Streams } from "../../../lib/streams/streams.ts";

/** A memory broker that counts how often it is asked to recover. */
class CountingBroker extends MemoryBroker {
  recoveries = 0;

  override recover(region: string, cursor: Cursor | null) {
    this.recoveries++;
    return super.recover(region, cursor);
  }
}

function streams(broker = new CountingBroker(), recentFrames = 10) {
  return {
    broker,
    streams: new Streams(broker, {
      regions: ["AE", "FI"],
      dedupeWindowMs: 60_000,
      dedupeCapacity: 100,
      recentFrames,
    }),
  };
}

const fp = (n: number) => n.toString(16).padStart(16, "0");

/** Delivers and records a message at once, as a gateway does a moment after broadcasting it. */
async function deliverAndRecord(s: Streams, region: string, n: number, key: string | null = null) {
  const request = { fingerprint: fp(n), body: body(`m${n}`), dedupeKey: key };
  const frame = s.append(region, request);
  s.record(region, frame, request);
  s.flush();
  await new Promise((resolve) => setTimeout(resolve, 0));
  return frame;
}
const body = (title: string) => JSON.stringify({ event: "new_trending", title });

Deno.test("the same bytes, or the same key within the window, are not new", () => {
  const { streams: s } = streams();
  assert.equal(s.claim("AE", fp(1), "v1"), true);
  assert.equal(s.claim("AE", fp(1), "v9"), false, "same bytes");
  assert.equal(s.claim("AE", fp(2), "v1"), false, "same video");
  assert.equal(s.claim("FI", fp(2), "v1"), true, "another region");
  assert.equal(s.claim("AE", fp(3), null), true);
});

Deno.test("seeding loads the keys the broker recorded, so another instance decides alike", async () => {
  const broker = new CountingBroker();
  const first = streams(broker).streams;
  for (const [n, key] of [[1, "v1"], [2, "v2"]] as const) {
    first.claim("AE", fp(n), key);
    await deliverAndRecord(first, "AE", n, key);
  }
  const second = streams(broker).streams;
  await second.seed();
  assert.equal(second.claim("AE", fp(10), "v1"), false);
  assert.equal(second.claim("AE", fp(11), "v3"), true);
});

Deno.test("a frame carries the content id first and is remembered as delivered", async () => {
  const { streams: s } = streams();
  const request = { fingerprint: fp(7), body: body("x"), dedupeKey: null };
  const frame = s.append("AE", request);
  assert.equal(frame.text, `{"id":"AE:${fp(7)}","event":"new_trending","title":"x"}`);
  assert.equal(frame.bytes, frame.text.length);
  s.record("AE", frame, request);
  const during = frame.position;
  assert.equal(during, undefined, "recorded after the broadcast's turn, not during it");
  s.flush();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(frame.position?.offset, 1);
});

Deno.test("a client back within moments catches up from recent frames, without the broker", async () => {
  const { streams: s, broker } = streams();
  for (let n = 1; n <= 4; n++) {
    s.append("AE", { fingerprint: fp(n), body: body(`m${n}`), dedupeKey: null });
  }
  const catchUp = await s.catchUp("AE", { kind: "message", fingerprint: fp(2) });
  assert.equal(catchUp.result, "recovered");
  assert.deepEqual(catchUp.frames.map((frame) => frame.fingerprint), [fp(3), fp(4)]);
  assert.deepEqual(JSON.parse(catchUp.control), {
    event: "recovery",
    region: "AE",
    recovered: true,
    replayed: 2,
    position: `AE:${fp(4)}`,
  });
  assert.equal(broker.recoveries, 0);
});

Deno.test("an older cursor replays the broker's history plus what it has not recorded yet", async () => {
  const { streams: s } = streams(new CountingBroker(), 2);
  for (let n = 1; n <= 5; n++) await deliverAndRecord(s, "AE", n);
  // Delivered, not yet recorded: the broker's record of it is still on its way.
  s.append("AE", { fingerprint: fp(6), body: body("m6"), dedupeKey: null });
  const catchUp = await s.catchUp("AE", { kind: "message", fingerprint: fp(1) });
  assert.equal(catchUp.result, "recovered");
  assert.deepEqual(catchUp.frames.map((frame) => frame.fingerprint), [
    fp(2),
    fp(3),
    fp(4),
    fp(5),
    fp(6),
  ]);
});

Deno.test("a client without a cursor learns where the region stands", async () => {
  const { streams: s } = streams();
  const empty = await s.catchUp("FI", null);
  assert.equal(empty.result, "subscribed");
  assert.match(JSON.parse(empty.control).position, /^FI:[0-9a-z]{8}:0$/);
  s.append("FI", { fingerprint: fp(9), body: body("m"), dedupeKey: null });
  const later = await s.catchUp("FI", null);
  assert.equal(later.result, "subscribed");
  assert.equal(JSON.parse(later.control).position, `FI:${fp(9)}`);
});

Deno.test("an unknown cursor is not recovered, and says where the region stands", async () => {
  const { streams: s } = streams();
  await deliverAndRecord(s, "AE", 1);
  const catchUp = await s.catchUp("AE", { kind: "message", fingerprint: fp(99) });
  assert.equal(catchUp.result, "not_recovered");
  assert.deepEqual(JSON.parse(catchUp.control), {
    event: "recovery",
    region: "AE",
    recovered: false,
    replayed: 0,
    position: `AE:${fp(1)}`,
  });
});

Deno.test("right after subscribing, a replay waits for what other instances are still recording", async () => {
  const broker = new CountingBroker();
  const other = streams(broker).streams;
  await deliverAndRecord(other, "AE", 1);
  // The other instance delivered message 2 just before this one subscribed; its record is on its
  // way (it goes out with the other instance's next batch).
  const request = { fingerprint: fp(2), body: body("m2"), dedupeKey: null };
  other.record("AE", other.append("AE", request), request);
  const fresh = streams(broker).streams;
  fresh.subscribed();
  try {
    const catchUp = await fresh.catchUp("AE", { kind: "message", fingerprint: fp(1) });
    assert.equal(catchUp.result, "recovered");
    if (catchUp.result !== "recovered") return;
    assert.deepEqual(catchUp.frames.map((frame) => frame.fingerprint), [fp(2)]);
  } finally {
    other.flush();
  }
});
