/**
 * How much memory the host has: what `MAX_RSS_BYTES=auto` takes a share of.
 *
 * Only the host's figure: a control group's limit (systemd's `MemoryMax=`, a container's) lives in
 * `/sys/fs/cgroup`, which Deno lets a program read only with every permission (`--allow-all`), and
 * the gateway runs with few (`deno.json`, `permissions.gateway`). Where such a limit applies, set
 * `MAX_RSS_BYTES` below it; the shipped unit and its example environment do (`deploy/`).
 *
 * @module
 */

/** The host's memory and where the figure comes from. */
export interface MemoryCeiling {
  readonly bytes: number;
  /** For `check-config` and the start-up log. */
  readonly source: string;
}

/** Used when the host's figure cannot be had (a runtime without the call, or no permission). */
const FALLBACK: MemoryCeiling = { bytes: 1024 ** 3, source: "host memory unknown: 1 GiB" };

/** The host's total memory (`Deno.systemMemoryInfo`, permission `sys: systemMemoryInfo`). */
export function memoryCeiling(
  systemMemory: () => { readonly total: number } = () => Deno.systemMemoryInfo(),
): MemoryCeiling {
  try {
    const { total } = systemMemory();
    return total > 0 ? { bytes: total, source: "host memory" } : FALLBACK;
  } catch {
    return FALLBACK;
  }
}
