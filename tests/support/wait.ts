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

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return Promise.resolve(port);
}
