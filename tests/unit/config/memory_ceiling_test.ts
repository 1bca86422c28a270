import assert from "node:assert/strict";
import { memoryCeiling } from "../../../lib/config/memory_ceiling.ts";

const GIB = 1024 ** 3;
const MEMINFO = "MemTotal:       24683784 kB\nMemFree:         1000 kB\n";

/** A file system of `files`; anything else cannot be read. */
const reading = (files: Record<string, string>) => (path: string) => files[path];

Deno.test("without a cgroup limit the host's memory is the ceiling", () => {
  const ceiling = memoryCeiling(reading({
    "/proc/meminfo": MEMINFO,
    "/proc/self/cgroup": "0::/system.slice/tvs-realtime.service\n",
    "/sys/fs/cgroup/system.slice/tvs-realtime.service/memory.max": "max\n",
  }));
  assert.deepEqual(ceiling, { bytes: 24683784 * 1024, source: "host memory (/proc/meminfo)" });
});

Deno.test("a v2 limit on the unit or on a slice above it is the ceiling, the smallest winning", () => {
  const ceiling = memoryCeiling(reading({
    "/proc/meminfo": MEMINFO,
    "/proc/self/cgroup": "0::/system.slice/tvs-realtime.service\n",
    "/sys/fs/cgroup/system.slice/tvs-realtime.service/memory.max": String(2 * GIB),
    "/sys/fs/cgroup/system.slice/memory.max": String(GIB),
  }));
  assert.deepEqual(ceiling, { bytes: GIB, source: "/sys/fs/cgroup/system.slice/memory.max" });
});

Deno.test("a v1 memory controller's limit counts, its 'unlimited' does not", () => {
  const v1 = (limit: string) =>
    memoryCeiling(reading({
      "/proc/meminfo": MEMINFO,
      "/proc/self/cgroup": "9:cpu:/\n4:memory:/docker/abc\n0::/\n",
      "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": limit,
    }));
  assert.equal(v1(String(512 * 1024 ** 2)).bytes, 512 * 1024 ** 2);
  assert.equal(v1("9223372036854771712").source, "host memory (/proc/meminfo)");
});

Deno.test("nothing readable at all gives a modest fallback", () => {
  assert.equal(memoryCeiling(reading({})).bytes, GIB);
});
