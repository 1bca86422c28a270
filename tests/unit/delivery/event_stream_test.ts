import assert from "node:assert/strict";
import { EventStreamSocket, Heartbeat, RETRY_MS } from "../../../lib/delivery/event_stream.ts";
import { messageFrame } from "../../../lib/streams/frames.ts";

const frame = (n: number, region = "AE") =>
  messageFrame(region, n.toString(16).padStart(16, "0"), `{"event":"new_trending","n":${n}}`);

/** A stream of `regions` resuming from `cursors`, with its body's reader and its events. */
function open(regions: readonly string[], cursors: ReadonlyMap<string, string> = new Map()) {
  const stream = new EventStreamSocket({ regions, cursors, heartbeat: new Heartbeat(60_000) });
  const events: string[] = [];
  for (const type of ["open", "close"]) {
    stream.addEventListener(type, (event) => {
      events.push(type === "close" ? `close ${(event as CloseEvent).code}` : type);
    });
  }
  const body = stream.response.body!.pipeThrough(new TextDecoderStream()).getReader();
  return { stream, body, events };
}

/** Reads `body` until it has `length` characters (or ends). */
async function readText(body: ReadableStreamDefaultReader<string>, length: number) {
  let text = "";
  while (text.length < length) {
    const { value, done } = await body.read();
    if (done) break;
    text += value;
  }
  return text;
}

Deno.test("a stream opens on its first read with the reconnect advice, and sends each frame as one event with its id", async () => {
  const { stream, body, events } = open(["AE"]);
  assert.equal(stream.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.deepEqual(events, []);
  assert.equal((await body.read()).value, `retry: ${RETRY_MS}\n\n`);
  assert.deepEqual(events, ["open"]);
  const control = '{"event":"subscribed","region":"AE","position":"AE:e1:7"}';
  stream.send(control);
  stream.send(frame(1).text);
  const expected = `id: AE:e1:7\ndata: ${control}\n\nid: AE:${"1".padStart(16, "0")}\n` +
    `data: ${frame(1).text}\n\n`;
  assert.equal(stream.bufferedAmount, new TextEncoder().encode(expected).byteLength);
  assert.equal(await readText(body, expected.length), expected, "queued events go as one chunk");
  assert.equal(stream.bufferedAmount, 0, "taken by the reader");
  await body.cancel();
  assert.deepEqual(events, ["open", "close 1005"], "a peer that leaves closes it");
});

Deno.test("a stream of several regions carries every region's cursor, starting from those it resumed from", async () => {
  const { stream, body } = open(["AE", "GB"], new Map([["GB", "GB:e2:3"]]));
  await body.read();
  stream.send(frame(1).text);
  stream.send(frame(2, "GB").text);
  const text = await readText(body, 200);
  const ids = [...text.matchAll(/^id: (.*)$/gm)].map((match) => match[1]);
  const ae = `AE:${"1".padStart(16, "0")}`;
  assert.deepEqual(ids, [`GB:e2:3,${ae}`, `GB:${"2".padStart(16, "0")},${ae}`]);
  await body.cancel();
});

Deno.test("close ends the stream with a close event after what is queued; terminate drops what a stalled reader left", async () => {
  const closing = open(["AE"]);
  await closing.body.read();
  closing.stream.send(frame(1).text);
  closing.stream.close(1012, "Gateway restarting, reconnect");
  assert.throws(() => closing.stream.send(frame(2).text), /closing/i);
  const text = await readText(closing.body, Infinity);
  assert.ok(text.startsWith("id: AE:"), "the queued frame first");
  assert.ok(
    text.endsWith('event: close\ndata: {"code":1012,"reason":"Gateway restarting, reconnect"}\n\n'),
  );
  assert.deepEqual(closing.events, ["open", "close 1012"]);

  const stalled = open(["AE"]);
  await stalled.body.read();
  for (let i = 0; i < 100; i++) stalled.stream.send(frame(i).text);
  stalled.stream.close(4001, "Slow consumer, reconnect later");
  assert.ok(stalled.stream.bufferedAmount > 5000, "not taken");
  stalled.stream.terminate();
  assert.equal(stalled.stream.bufferedAmount, 0);
  assert.deepEqual(stalled.events, ["open", "close 1005"]);
  await assert.rejects(stalled.body.read(), /terminated/);
});

Deno.test("a heartbeat is a comment line, only while the stream is open", async () => {
  const { stream, body } = open(["AE"]);
  await body.read();
  stream.beat();
  assert.equal((await body.read()).value, ":\n\n");
  stream.close();
  stream.beat();
  assert.equal(await readText(body, Infinity), 'event: close\ndata: {"code":1000,"reason":""}\n\n');
});
