/**
 * Bounded waiting for tests: every loop has a deadline and says what it waited for.
 *
 * @module
 */

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this many milliseconds. @default 5000 */
  readonly timeoutMs?: number;
  /** Poll interval in milliseconds. @default 20 */
  readonly intervalMs?: number;
  /** What is awaited, for the error message. @default "condition" */
  readonly what?: string;
}

/** Resolves once `check` returns true; rejects after the timeout. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${options.what ?? "condition"}`);
    }
    await delay(options.intervalMs ?? 20);
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Ports {@link freePort} picks from: below the kernels' ephemeral ranges (Linux: 32768–60999). */
const FREE_PORTS = { first: 20_000, last: 32_767 };

/**
 * A TCP port that was free a moment ago on `hostname` (127.0.0.1). Not one the kernel would hand out itself:
 * the tests make thousands of outgoing connections, and one of them may take, as its local port,
 * a port a test has just freed to listen on again (a gateway or Redis restarted in place).
 */
export function freePort(hostname = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FREE_PORTS.first +
      Math.floor(Math.random() * (FREE_PORTS.last - FREE_PORTS.first + 1));
    try {
      Deno.listen({ hostname, port }).close();
      return Promise.resolve(port);
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error(`No free port in ${FREE_PORTS.first}-${FREE_PORTS.last} after 100 attempts`);
}
