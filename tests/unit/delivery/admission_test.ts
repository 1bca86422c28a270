import assert from "node:assert/strict";
import { Admission } from "../../../lib/delivery/admission.ts";

Deno.test("admission counts sockets in all and per address, and releases them", () => {
  const admission = new Admission({ maxConnections: 3, maxConnectionsPerIp: 2 });
  assert.equal(admission.reserve("a"), undefined);
  assert.equal(admission.reserve("a"), undefined);
  assert.equal(admission.reserve("a")?.status, 429);
  assert.equal(admission.reserve("b"), undefined);
  assert.equal(admission.reserve("c")?.status, 503);
  assert.equal(admission.total, 3);
  admission.release("a");
  assert.equal(admission.check("c"), undefined);
  admission.release("unknown");
  assert.equal(admission.total, 2);
});
