import assert from "node:assert/strict";
import { SharedQueuedBytes } from "../../../lib/delivery/shared_queued_bytes.ts";

Deno.test("each worker writes its own entry; any reads the sum, in whole KiB", () => {
  const buffer = SharedQueuedBytes.buffer(3);
  const boards = [0, 1, 2].map((index) => new SharedQueuedBytes(buffer, index));
  boards[0]!.publish(1024);
  boards[1]!.publish(1);
  boards[2]!.publish(10 * 1024);
  assert.equal(boards[0]!.total(), 12 * 1024, "1 byte counts as a KiB");
  boards[2]!.publish(0);
  assert.equal(boards[1]!.total(), 2 * 1024);
  assert.throws(() => new SharedQueuedBytes(buffer, 3), RangeError);
});
