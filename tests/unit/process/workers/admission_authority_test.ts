import assert from "node:assert/strict";
import { AdmissionAuthority } from "../../../../lib/process/workers/admission_authority.ts";

Deno.test("the process's limits hold across workers, and a dead worker's slots come back", () => {
  const authority = new AdmissionAuthority({
    maxConnections: 4,
    maxConnectionsPerIp: 2,
    ipv6PrefixLength: 64,
  });
  assert.equal(authority.reserve(0, "a"), undefined);
  assert.equal(authority.reserve(1, "a"), undefined);
  assert.equal(authority.reserve(1, "a")?.error, "too_many_connections_per_ip", "per address");
  assert.equal(authority.reserve(0, "b"), undefined);
  assert.equal(authority.reserve(1, "c"), undefined);
  assert.equal(authority.reserve(0, "d")?.error, "too_many_connections", "in all");
  authority.releaseAll(1);
  assert.equal(authority.total, 2);
  assert.equal(authority.check("a"), undefined, "worker 1's slot of a is free again");
  authority.release(1, "c");
  assert.equal(authority.total, 2, "a worker cannot release what it does not hold");
  authority.release(0, "a");
  assert.equal(authority.total, 1);
});
