import assert from "node:assert/strict";
import {
  describeRedisTarget,
  maskRedisUrl,
  parseRedisTarget,
} from "../../../lib/brokers/redis_target.ts";

Deno.test("REDIS_URL names one Redis, the master of Sentinel's with every sentinel to ask, or a Cluster", () => {
  assert.deepEqual(parseRedisTarget(" rediss://cache.internal:6380/0 "), {
    kind: "single",
    url: "rediss://cache.internal:6380/0",
  });
  assert.deepEqual(
    parseRedisTarget("redis+sentinel://gw:s%40cret@10.0.0.5:26379,10.0.0.6,[fd00::7]:26380/tvs"),
    {
      kind: "sentinel",
      tls: false,
      username: "gw",
      password: "s@cret",
      sentinels: [
        { host: "10.0.0.5", port: 26379 },
        { host: "10.0.0.6", port: 26379 },
        { host: "fd00::7", port: 26380 },
      ],
      masterName: "tvs",
    },
  );
  const tls = parseRedisTarget("rediss+sentinel://secret@s1:26379/tvs");
  assert.equal(tls.kind === "sentinel" && tls.tls, true);
  assert.equal(tls.kind === "sentinel" && tls.password, "secret", "a lone user name is a password");
  assert.deepEqual(parseRedisTarget("rediss+cluster://gw:pw@10.0.0.7:7000,10.0.0.8"), {
    kind: "cluster",
    tls: true,
    username: "gw",
    password: "pw",
    nodes: [{ host: "10.0.0.7", port: 7000 }, { host: "10.0.0.8", port: 6379 }],
  });
  assert.throws(() => parseRedisTarget("redis+cluster://10.0.0.7:7000/tvs"), /no database or name/);
  assert.throws(() => parseRedisTarget("redis+sentinel://s1:26379"), /names the master/);
  assert.throws(() => parseRedisTarget("redis+sentinel:///tvs"), /names no host/);
  assert.throws(() => parseRedisTarget("memcached://x"), /Expected a redis:\/\//);
});

Deno.test("what check-config says of a target, its password never shown", () => {
  assert.equal(
    describeRedisTarget(parseRedisTarget("redis+sentinel://gw:pw@s1:26379,s2:26379/tvs")),
    'the master "tvs" that Sentinel at s1:26379, s2:26379 names, followed through failovers',
  );
  assert.equal(
    describeRedisTarget(parseRedisTarget("redis+cluster://n1:7000,n2:7000")),
    "the Cluster that n1:7000, n2:7000 belong to, listening with SUBSCRIBE and SSUBSCRIBE, " +
      "publishing with SPUBLISH",
  );
  assert.equal(
    describeRedisTarget(parseRedisTarget("redis://gw:pw@cache:6379")),
    "one Redis at redis://gw:***@cache:6379",
  );
  assert.equal(
    maskRedisUrl("redis+sentinel://gw:pw@s1,s2/tvs"),
    "redis+sentinel://gw:***@s1,s2/tvs",
  );
  assert.equal(maskRedisUrl("redis://secret@cache"), "redis://***@cache");
});
