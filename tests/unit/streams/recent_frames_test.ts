import assert from "node:assert/strict";
import { type Frame, messageFrame } from "../../../lib/streams/frames.ts";
import { RecentFrames } from "../../../lib/streams/recent_frames.ts";

const fp = (n: number) => n.toString(16).padStart(16, "0");
const frame = (n: number, position?: { epoch: string; offset: number }): Frame =>
  messageFrame("AE", fp(n), `{"n":${n}}`, position);

Deno.test("recent frames keep the newest up to their capacity", () => {
  const recent = new RecentFrames(3);
  assert.equal(recent.last?.fingerprint, undefined);
  for (let n = 1; n <= 5; n++) recent.push(frame(n));
  assert.equal(recent.last?.fingerprint, fp(5));
  assert.equal(recent.after(fp(2)), undefined, "forgotten");
  assert.deepEqual(recent.after(fp(3))?.map((entry) => entry.fingerprint), [fp(4), fp(5)]);
  recent.clear();
  assert.equal(recent.last?.fingerprint, undefined);
});

Deno.test("after() answers from the last sighting, with nothing after the newest", () => {
  const recent = new RecentFrames(10);
  for (const n of [1, 2, 1, 3]) recent.push(frame(n));
  assert.deepEqual(recent.after(fp(1))?.map((entry) => entry.fingerprint), [fp(3)]);
  assert.deepEqual(recent.after(fp(3)), []);
  assert.equal(recent.after(fp(9)), undefined);
});

Deno.test("unrecorded at a position: frames not recorded yet, or recorded after it in its epoch", () => {
  const recent = new RecentFrames(10);
  recent.push(frame(1, { epoch: "old", offset: 9 }));
  recent.push(frame(2, { epoch: "e1", offset: 4 }));
  recent.push(frame(3, { epoch: "e1", offset: 5 }));
  recent.push(frame(4));
  const unrecorded = recent.unrecordedAt({ epoch: "e1", offset: 4 });
  assert.deepEqual(unrecorded.map((entry) => entry.fingerprint), [fp(3), fp(4)]);
});
