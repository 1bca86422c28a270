import assert from "node:assert/strict";
import { QueueBoard } from "../../../lib/delivery/queue_board.ts";

Deno.test("each worker writes its own entry; any reads the sum, in whole KiB", () => {
  const buffer = QueueBoard.buffer(3);
  const boards = [0, 1, 2].map((index) => new QueueBoard(buffer, index));
  boards[0]!.publish(1024);
  boards[1]!.publish(1);
  boards[2]!.publish(10 * 1024);
  assert.equal(boards[0]!.total(), 12 * 1024, "1 byte counts as a KiB");
  boards[2]!.publish(0);
  assert.equal(boards[1]!.total(), 2 * 1024);
  assert.throws(() => new QueueBoard(buffer, 3), RangeError);
});
