/**
 * A real `redis-server` for tests, on a free loopback port, that a test can kill and restart on
 * the same port. Commands go over raw RESP, so a test can publish any bytes, invalid UTF-8
 * included.
 *
 * @module
 */

import { freePort, waitFor } from "./wait.ts";

const encoder = new TextEncoder();

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await conn.write(bytes.subarray(written));
}

/** Options of {@link RedisServer.start}. */
export interface RedisServerOptions {
  /**
   * The command line that runs `redis-server` with `args` (the benchmark pins it to a core).
   * @default `redis-server <args>`
   */
  readonly launch?: (args: string[]) => [string, string[]];
  /** Address to listen on: 127.0.0.2 is another host to a client on 127.0.0.1. @default 127.0.0.1 */
  readonly bind?: string;
  /** More arguments, after the test's own (`--replicaof HOST PORT` for a replica). */
  readonly args?: readonly string[];
  /** Port to listen on. @default a free one */
  readonly port?: number;
}

/** A running (or stopped) test Redis. */
export class RedisServer implements AsyncDisposable {
  readonly port: number;
  /** The address it listens on. */
  readonly host: string;
  readonly #launch: (args: string[]) => [string, string[]];
  readonly #args: readonly string[];
  #process: Deno.ChildProcess | undefined;
  #dir: string | undefined;

  private constructor(port: number, options: RedisServerOptions) {
    this.port = port;
    this.host = options.bind ?? "127.0.0.1";
    this.#launch = options.launch ?? ((args) => ["redis-server", args]);
    this.#args = options.args ?? [];
  }

  /** Starts a server on a free port, without persistence. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? await freePort(options.bind), options);
    await server.restart();
    return server;
  }

  /** Whether the server is running (started, not killed or stopped). */
  get running(): boolean {
    return this.#process !== undefined;
  }

  /** `redis://<host>:<port>`. */
  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  /** Starts the server again on the same port and waits until it answers. */
  async restart(): Promise<void> {
    if (this.#process !== undefined) throw new Error("Redis is already running");
    const [command, args] = this.#launch([
      "--port",
      String(this.port),
      "--bind",
      this.host,
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "no",
      // A replica writes what its master sends to a file even without persistence: in a
      // directory of its own, never where the next server would load it from.
      "--dir",
      await this.#directory(),
      ...this.#args,
    ]);
    this.#process = new Deno.Command(command, { args, stdout: "null", stderr: "null" }).spawn();
    await waitFor(async () => (await this.command("PING").catch(() => "")) === "+PONG", {
      timeoutMs: 5000,
      what: `redis-server on port ${this.port}`,
    });
  }

  /** Kills the server at once (SIGKILL), as a crash would, and waits for the process to end. */
  async kill(): Promise<void> {
    const process = this.#process;
    if (process === undefined) return;
    this.#process = undefined;
    process.kill("SIGKILL");
    await process.status;
  }

  /**
   * While the server is down, stands in for it: accepts `count` connections on its port and closes
   * each at once, as a crashing server does; resolves after the last. A test waits for that many
   * reconnect attempts rather than for a time.
   */
  async refuseConnections(count: number): Promise<void> {
    if (this.#process !== undefined) throw new Error("Redis is running");
    const standIn = Deno.listen({ hostname: this.host, port: this.port });
    try {
      for (let accepted = 0; accepted < count; accepted++) (await standIn.accept()).close();
    } finally {
      standIn.close();
    }
  }

  /** Sends one command and returns the first line of the raw RESP reply. */
  async command(...args: (string | Uint8Array)[]): Promise<string> {
    const [reply] = await this.pipeline([args]);
    return reply ?? "";
  }

  /**
   * Sends `commands` in one write, as a busy producer's pipeline arrives, and returns the first
   * line of each reply. Integer and simple replies only.
   */
  async pipeline(commands: readonly (readonly (string | Uint8Array)[])[]): Promise<string[]> {
    const conn = await Deno.connect({ hostname: this.host, port: this.port });
    try {
      const parts: Uint8Array[] = [];
      for (const args of commands) {
        parts.push(encoder.encode(`*${args.length}\r\n`));
        for (const arg of args) {
          const bytes = typeof arg === "string" ? encoder.encode(arg) : arg;
          parts.push(encoder.encode(`$${bytes.byteLength}\r\n`), bytes, encoder.encode("\r\n"));
        }
      }
      const request = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
      let offset = 0;
      for (const part of parts) {
        request.set(part, offset);
        offset += part.byteLength;
      }
      // write() may take only part of a buffer; a truncated command would leave Redis waiting.
      await writeAll(conn, request);
      let text = "";
      const buffer = new Uint8Array(65536);
      while (text.split("\r\n").length <= commands.length) {
        const read = await conn.read(buffer);
        if (read === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, read));
      }
      return text.split("\r\n").slice(0, commands.length);
    } finally {
      conn.close();
    }
  }

  /** `PUBLISH channel payload`; resolves to the number of subscribers that received it. */
  async publish(channel: string, payload: string | Uint8Array): Promise<number> {
    const reply = await this.command("PUBLISH", channel, payload);
    return Number(reply.slice(1));
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#dir !== undefined) await Deno.remove(this.#dir, { recursive: true });
    this.#dir = undefined;
  }

  /** The server's working directory, made on first use and kept across restarts. */
  async #directory(): Promise<string> {
    this.#dir ??= await Deno.makeTempDir({ prefix: "tvs-redis-" });
    return this.#dir;
  }

  /** Stops the server: `await using redis = await RedisServer.start()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
