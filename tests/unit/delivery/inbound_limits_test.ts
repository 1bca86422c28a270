import assert from "node:assert/strict";
import {
  INBOUND_BURST,
  INBOUND_PER_SECOND,
  InboundRate,
  inboundSize,
  isPing,
  MAX_INBOUND_BYTES,
} from "../../../lib/delivery/inbound_limits.ts";

Deno.test("a burst is allowed, then the rate; the bucket refills with time", () => {
  let now = 0;
  const rate = new InboundRate(() => now);
  for (let i = 0; i < INBOUND_BURST; i++) assert.ok(rate.take(), `frame ${i}`);
  assert.equal(rate.take(), false, "over the burst");
  now += 1000 / INBOUND_PER_SECOND;
  assert.ok(rate.take(), "one more after its share of a second");
  assert.equal(rate.take(), false);
  now += 3_600_000;
  for (let i = 0; i < INBOUND_BURST; i++) assert.ok(rate.take());
  assert.equal(rate.take(), false, "the bucket never holds more than a burst");
});

Deno.test("an inbound frame is measured in bytes, text in UTF-8", () => {
  assert.equal(inboundSize("abc"), 3);
  assert.equal(inboundSize("é".repeat(2100)), 4200);
  assert.ok(inboundSize("é".repeat(2100)) > MAX_INBOUND_BYTES);
  assert.equal(inboundSize(new ArrayBuffer(10)), 10);
  assert.equal(inboundSize(new Blob(["12345"])), 5);
});

Deno.test('only {"type":"ping"} is a ping', () => {
  assert.ok(isPing('{"type":"ping"}'));
  assert.ok(isPing('{ "type": "ping", "at": 1 }'));
  for (const data of ['{"type":"pong"}', "ping", "null", '"ping"', "{", new ArrayBuffer(1)]) {
    assert.equal(isPing(data), false, String(data));
  }
});
