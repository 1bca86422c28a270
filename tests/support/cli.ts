/**
 * Runs `main.ts` as a separate process under the gateway's own permission set (`-P=gateway`),
 * with a clean environment, as an operator would run it.
 *
 * @module
 */

/** Project root, where `deno.json` is. */
export const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

/** What a finished process printed. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Variables a Deno process needs to find its cache, whatever the test sets. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  // With where Deno caches and which certificates it trusts, in case it still fetches a package.
  for (
    const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "DENO_TLS_CA_STORE", "DENO_CERT"]
  ) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The `deno` arguments that run the gateway as its tasks do, with `flags` of `deno run` besides. */
export function gatewayArgs(args: readonly string[], ...flags: readonly string[]): string[] {
  return ["run", "-q", "-P=gateway", ...flags, "main.ts", ...args];
}

/** Runs `main.ts args` to completion, killing it after `timeoutMs` (default 30 s) at the latest. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: {
    readonly timeoutMs?: number;
    readonly wrap?: readonly string[];
    /** Flags of `deno run` beside the gateway's permission set. */
    readonly flags?: readonly string[];
  } = {},
): Promise<CliResult> {
  const run = gatewayArgs(args, ...options.flags ?? []);
  const [command, ...wrapped] = [...(options.wrap ?? []), Deno.execPath(), ...run];
  const output = await new Deno.Command(command!, {
    args: wrapped,
    cwd: PROJECT_ROOT,
    env: { ...baseEnv(), NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
