import assert from "node:assert/strict";
import { Admission } from "../../../lib/delivery/admission.ts";

Deno.test("admission counts sockets in all and per address, and releases them", () => {
  const admission = new Admission({
    maxConnections: 3,
    maxConnectionsPerIp: 2,
    ipv6PrefixLength: 64,
  });
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

Deno.test("IPv6 clients count by their /64: ten addresses of one host get its five slots", () => {
  const admission = new Admission({
    maxConnections: 100,
    maxConnectionsPerIp: 5,
    ipv6PrefixLength: 64,
  });
  const results = Array.from(
    { length: 10 },
    (_, i) => admission.reserve(`2001:db8:1:2::${(i + 1).toString(16)}`)?.error ?? "ok",
  );
  assert.deepEqual(results, [
    ...Array(5).fill("ok"),
    ...Array(5).fill("too_many_connections_per_ip"),
  ]);
  assert.equal(admission.reserve("2001:db8:1:3::1"), undefined, "another /64 is another client");
  assert.equal(admission.reserve("198.51.100.7"), undefined);
  admission.release("2001:db8:1:2::ffff");
  assert.equal(admission.reserve("2001:db8:1:2:abcd::1"), undefined, "a slot of the /64 came back");
});

Deno.test("with a prefix of 128 every IPv6 address counts alone", () => {
  const admission = new Admission({
    maxConnections: 100,
    maxConnectionsPerIp: 1,
    ipv6PrefixLength: 128,
  });
  assert.equal(admission.reserve("2001:db8::1"), undefined);
  assert.equal(admission.reserve("2001:db8::2"), undefined);
  assert.equal(admission.reserve("2001:db8::1")?.status, 429);
});
