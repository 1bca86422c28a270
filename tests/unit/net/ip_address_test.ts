import assert from "node:assert/strict";
import {
  addressGroup,
  canonicalIp,
  coversTheInternet,
  inRange,
  isLoopback,
  parseIp,
  parseIpRange,
} from "../../../lib/net/ip_address.ts";

Deno.test("one address has one canonical text, however it was spelt", () => {
  const cases: [string, string | null][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["[::1]", "::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["::", "::"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["1.2.3", null],
    ["01.2.3.4", null],
    ["256.1.1.1", null],
    ["1:2:3:4:5:6:7:8:9", null],
    [":::", null],
    ["unknown", null],
    ["1.2.3.4:80", null],
  ];
  for (const [text, canonical] of cases) assert.equal(canonicalIp(text), canonical, text);
});

Deno.test("ranges match by prefix, IPv4 and IPv6, an address being a range of one", () => {
  const match = (address: string, range: string) =>
    inRange(parseIp(address)!, parseIpRange(range)!);
  assert.ok(match("10.1.2.3", "10.0.0.0/8"));
  assert.ok(!match("11.1.2.3", "10.0.0.0/8"));
  assert.ok(match("10.1.3.255", "10.1.2.0/23"));
  assert.ok(!match("10.1.4.0", "10.1.2.0/23"));
  assert.ok(match("2001:db8:ffff::1", "2001:db8::/32"));
  assert.ok(!match("2001:db9::1", "2001:db8::/32"));
  assert.ok(match("::ffff:10.0.0.1", "10.0.0.0/8"), "an IPv4-mapped address is its IPv4 address");
  assert.ok(match("192.0.2.1", "192.0.2.1") && !match("192.0.2.2", "192.0.2.1"));
  assert.ok(match("8.8.8.8", "0.0.0.0/0") && !match("::1", "0.0.0.0/0"));
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8"]) {
    assert.equal(parseIpRange(bad), null, bad);
  }
});

Deno.test("loopback is 127.0.0.0/8 and ::1 in any spelling", () => {
  for (const address of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.2"]) {
    assert.ok(isLoopback(address), address);
  }
  for (const address of ["128.0.0.1", "::2", "10.0.0.1", "localhost", ""]) {
    assert.ok(!isLoopback(address), address);
  }
});

Deno.test("an address's group: IPv4 alone, IPv6 by its prefix, in one spelling", () => {
  assert.equal(addressGroup("2001:DB8:1:2:aaaa::1", 64), "2001:db8:1:2::/64");
  assert.equal(addressGroup("2001:db8:1:2:ffff:ffff:ffff:ffff", 64), "2001:db8:1:2::/64");
  assert.equal(addressGroup("2001:db8:1:2::1", 48), "2001:db8:1::/48");
  assert.equal(addressGroup("2001:db8::1", 128), "2001:db8::1");
  assert.equal(addressGroup("::ffff:198.51.100.7", 64), "198.51.100.7");
  assert.equal(addressGroup("not an address", 64), "not an address");
});

Deno.test("a range covers the Internet when it is a public /8 or wider, or an IPv6 /16 or wider", () => {
  const covers = (text: string) => coversTheInternet(parseIpRange(text)!);
  for (const wide of ["0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "8.0.0.0/8", "2000::/3"]) {
    assert.ok(covers(wide), wide);
  }
  for (
    const narrow of [
      "10.0.0.0/8",
      "127.0.0.0/8",
      "172.16.0.0/12",
      "173.245.48.0/20",
      "fc00::/7",
      "2400:cb00::/32",
      "::1",
    ]
  ) {
    assert.ok(!covers(narrow), narrow);
  }
});
