import assert from "node:assert/strict";
import { TrustedProxies } from "../../../lib/net/trusted_proxies.ts";

const proxies = TrustedProxies.parse("127.0.0.1,10.0.0.0/8,::1");

Deno.test("X-Forwarded-For is ignored unless the peer is a trusted proxy", () => {
  assert.equal(proxies.clientAddress("203.0.113.9", "127.0.0.1"), "203.0.113.9");
  assert.equal(proxies.clientAddress("127.0.0.2", "127.0.0.1"), "127.0.0.2");
  assert.equal(TrustedProxies.parse("").clientAddress("127.0.0.1", "1.2.3.4"), "127.0.0.1");
  assert.equal(proxies.clientAddress("127.0.0.1", null), "127.0.0.1");
});

Deno.test("the client is the right-most hop that is not a trusted proxy", () => {
  // The client claimed 127.0.0.1; nginx appended who really connected.
  assert.equal(proxies.clientAddress("127.0.0.1", "127.0.0.1, 198.51.100.7"), "198.51.100.7");
  // A chain of trusted proxies: the walk passes them.
  assert.equal(
    proxies.clientAddress("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"),
    "198.51.100.7",
  );
  assert.equal(proxies.clientAddress("::1", "2001:DB8::0:1"), "2001:db8::1");
  assert.equal(proxies.clientAddress("::ffff:127.0.0.1", "198.51.100.7"), "198.51.100.7");
});

Deno.test("hops with ports are read; a hop that is no address stops the walk", () => {
  assert.equal(proxies.clientAddress("127.0.0.1", "198.51.100.7:4711"), "198.51.100.7");
  assert.equal(proxies.clientAddress("127.0.0.1", "[2001:db8::5]:443"), "2001:db8::5");
  assert.equal(proxies.clientAddress("127.0.0.1", "198.51.100.7, unknown"), "127.0.0.1");
  assert.equal(proxies.clientAddress("127.0.0.1", "1.2.3.4, 10.0.0.9, garbage"), "127.0.0.1");
  // Every hop trusted: the left-most is as far as the chain goes.
  assert.equal(proxies.clientAddress("127.0.0.1", "10.0.0.1, 10.0.0.2"), "10.0.0.1");
});

Deno.test("a list that is not addresses and ranges is refused, naming the entry", () => {
  assert.throws(() => TrustedProxies.parse("127.0.0.1, proxy.internal"), /"proxy\.internal"/);
  assert.equal(TrustedProxies.parse(" 10.0.0.0/8 ,::1 ").describe(), "10.0.0.0/8,::1");
});
