/**
 * A gateway in its own process, started the way operators start it (`deno run -P=gateway
 * main.ts`), for what only a process shows: its memory, its signals, its exit status.
 *
 * @module
 */

import { baseEnv, gatewayArgs, PROJECT_ROOT } from "./cli.ts";
import { fetchMetrics, isReady } from "./metrics.ts";
import { waitFor } from "./wait.ts";

/** A running gateway process and its parsed log lines. */
export class GatewayProcess implements AsyncDisposable {
  readonly logs: Record<string, unknown>[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #output: Promise<void>;
  #port = 0;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#output = this.#readLogs();
  }

  /**
   * Starts `main.ts args` with `env` on 127.0.0.1 and a free port; resolves once it listens.
   * With `task`, runs that task of `deno.json` (`deno task start`) instead, as a developer does.
   * With `readable`, the gateway's permissions also read that folder (a test's, in place of
   * `/etc/tvs-realtime`).
   */
  static async start(
    env: Record<string, string> = {},
    args: string[] = [],
    options: { readonly task?: string; readonly readable?: string } = {},
  ): Promise<GatewayProcess> {
    const run = options.readable === undefined
      ? gatewayArgs(args)
      : gatewayArgs(args, await readPermission(options.readable));
    const child = new Deno.Command(Deno.execPath(), {
      args: options.task === undefined ? run : ["task", "-q", options.task, ...args],
      cwd: PROJECT_ROOT,
      env: { ...baseEnv(), HOST: "127.0.0.1", PORT: "0", ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const gateway = new GatewayProcess(child);
    await waitFor(() => gateway.#port !== 0, { timeoutMs: 15_000, what: "gateway listening" });
    return gateway;
  }

  /** The port it listens on. */
  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:<port>`. */
  get http(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** `ws://127.0.0.1:<port>`. */
  get ws(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }

  /** Its process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves with the exit status once the process has ended and its output is read. */
  async status(): Promise<Deno.CommandStatus> {
    const status = await this.#child.status;
    await this.#output;
    return status;
  }

  /** Sends `signal` to the process. */
  signal(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Body of `GET /metrics`. */
  metricsText(): Promise<string> {
    return fetchMetrics(this.http);
  }

  /** Whether `GET /readyz` answers 200, as a load balancer's probe asks. */
  ready(): Promise<boolean> {
    return isReady(this.http);
  }

  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for the end. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 5000);
    await this.status();
    clearTimeout(timer);
  }

  /** Stops it: `await using gateway = await GatewayProcess.start()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #readLogs(): Promise<void> {
    let pending = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        const entry = JSON.parse(line);
        this.logs.push(entry);
        if (entry.msg === "listening") this.#port = entry.port;
      }
    }
  }
}

/** `--allow-read` of the gateway's permission set, and `folder` besides. */
async function readPermission(folder: string): Promise<string> {
  const denoJson = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}deno.json`));
  const read: string[] = denoJson.permissions.gateway.read;
  return `--allow-read=${[...read, folder].join(",")}`;
}
