/**
 * How much memory this process may use: the host's, or less where its control group says so
 * (systemd's `MemoryMax=`, a container's limit). The default of `MAX_RSS_BYTES` is a share of it.
 * Both cgroup versions are read: v2's `memory.max` and v1's `memory.limit_in_bytes`, on the
 * process's own group and every group above it, since a limit set on a parent slice binds too.
 * A file that cannot be read (no permission, not Linux) is skipped.
 *
 * @module
 */

/** The most memory the process may use, and what says so. */
export interface MemoryCeiling {
  readonly bytes: number;
  /** Where the figure comes from, for `check-config` and the start-up log. */
  readonly source: string;
}

/** Reads one file's text, or `undefined` when it cannot. */
export type ReadFile = (path: string) => string | undefined;

/** A limit at or above this many bytes means none (v1 writes "unlimited" as 2^63 rounded). */
const UNLIMITED = 2 ** 60;
/** Used when nothing can be read at all. */
const FALLBACK: MemoryCeiling = { bytes: 1024 ** 3, source: "no host figure readable: 1 GiB" };

function readFileSync(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** `/a/b/c` and every group above it, down to the root: `/a/b/c`, `/a/b`, `/a`, ``. */
function groupsUpFrom(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  return parts.map((_, i) => "/" + parts.slice(0, parts.length - i).join("/")).concat("");
}

/** The cgroup limits that apply to this process, with the file each came from. */
function cgroupLimits(read: ReadFile): { bytes: number; file: string }[] {
  const limits: { bytes: number; file: string }[] = [];
  for (const line of (read("/proc/self/cgroup") ?? "").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (path === undefined) continue;
    const files = controllers === ""
      ? groupsUpFrom(path).map((group) => `/sys/fs/cgroup${group}/memory.max`)
      : controllers?.split(",").includes("memory")
      ? groupsUpFrom(path).map((group) => `/sys/fs/cgroup/memory${group}/memory.limit_in_bytes`)
      : [];
    for (const file of files) {
      const text = read(file)?.trim();
      if (text === undefined || !/^\d+$/.test(text)) continue;
      const bytes = Number(text);
      if (bytes < UNLIMITED) limits.push({ bytes, file });
    }
  }
  return limits;
}

/** The host's memory, from `/proc/meminfo`. */
function hostMemory(read: ReadFile): number | undefined {
  const kib = /^MemTotal:\s+(\d+) kB/m.exec(read("/proc/meminfo") ?? "")?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}

/** The smallest of the host's memory and every cgroup limit over this process. */
export function memoryCeiling(read: ReadFile = readFileSync): MemoryCeiling {
  const host = hostMemory(read);
  let ceiling: MemoryCeiling | undefined = host === undefined
    ? undefined
    : { bytes: host, source: "host memory (/proc/meminfo)" };
  for (const { bytes, file } of cgroupLimits(read)) {
    if (ceiling === undefined || bytes < ceiling.bytes) ceiling = { bytes, source: file };
  }
  return ceiling ?? FALLBACK;
}
