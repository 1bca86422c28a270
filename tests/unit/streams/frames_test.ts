import assert from "node:assert/strict";
import {
  cursorToken,
  messageFrame,
  messageId,
  parseCursor,
  positionToken,
  recoveryFrame,
  subscribedFrame,
} from "../../../lib/streams/frames.ts";

Deno.test("a cursor's token parses back to it, message ids and stream positions alike", () => {
  const cursors = [
    { region: "AE", cursor: { kind: "message", fingerprint: "5d2f0c9e81a4b7f3" } },
    { region: "GB", cursor: { kind: "position", position: { epoch: "x8ka01bz", offset: 7 } } },
    { region: "CH2", cursor: { kind: "position", position: { epoch: "0", offset: 0 } } },
  ] as const;
  for (const { region, cursor } of cursors) {
    const token = cursorToken(region, cursor);
    assert.deepEqual(parseCursor(token), { region, cursor }, token);
  }
  assert.equal(messageId("AE", "00000000000000ff"), "AE:00000000000000ff");
  assert.equal(positionToken("GB", { epoch: "k3", offset: 42 }), "GB:k3:42");
});

Deno.test("anything else is no cursor", () => {
  for (
    const text of [
      "",
      "AE",
      "ae:00000000000000ff",
      "AE:00000000000000FF",
      "AE:000000000000ff",
      "AE:abc:-1",
      "AE:ABC:1",
      "AE:abc:1.5",
      "AE:abc:1234567890123456",
      "TOOLONGREGION:abc:1",
    ]
  ) {
    assert.equal(parseCursor(text), null, text);
  }
});

Deno.test("a message frame has its id first, the body's fields after, and its UTF-8 size", () => {
  const frame = messageFrame("AE", "00000000000000a1", '{"event":"new_trending","title":"هدف"}');
  assert.equal(frame.text, '{"id":"AE:00000000000000a1","event":"new_trending","title":"هدف"}');
  assert.equal(frame.bytes, new TextEncoder().encode(frame.text).byteLength);
  assert.equal(frame.position, undefined);
  assert.deepEqual(JSON.parse(frame.text), {
    id: "AE:00000000000000a1",
    event: "new_trending",
    title: "هدف",
  });
  const recorded = messageFrame("AE", "00000000000000a1", "{}", { epoch: "e", offset: 3 });
  assert.deepEqual(recorded.position, { epoch: "e", offset: 3 });
});

Deno.test("control frames say where a region stands, and whether a cursor was recovered", () => {
  assert.deepEqual(JSON.parse(subscribedFrame("GB", "GB:x8ka01bz:7")), {
    event: "subscribed",
    region: "GB",
    position: "GB:x8ka01bz:7",
  });
  assert.deepEqual(
    JSON.parse(recoveryFrame("AE", { recovered: true, replayed: 3, position: "AE:1" })),
    { event: "recovery", region: "AE", recovered: true, replayed: 3, position: "AE:1" },
  );
});
