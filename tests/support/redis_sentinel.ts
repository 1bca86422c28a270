/**
 * A real Sentinel set-up on loopback, as operators run one: a master, a replica of it, and three
 * `redis-server --sentinel` processes watching it with a quorum of two, a master declared down
 * after 2 s. Tests fail it over on purpose (`SENTINEL FAILOVER`) or by killing the master.
 *
 * @module
 */

import { createClient, type RedisClientType } from "@redis/client";
import { RedisServer } from "./redis_server.ts";
import { freePort, waitFor } from "./wait.ts";

/** The master's name in every sentinel's configuration. */
export const MASTER_NAME = "tvs";
const SENTINELS = 3;

/** One `redis-server --sentinel` with its configuration file (Sentinel rewrites it). */
class SentinelProcess implements AsyncDisposable {
  readonly port: number;
  readonly #process: Deno.ChildProcess;
  readonly #dir: string;

  private constructor(port: number, process: Deno.ChildProcess, dir: string) {
    this.port = port;
    this.#process = process;
    this.#dir = dir;
  }

  static async start(masterPort: number): Promise<SentinelProcess> {
    const port = await freePort();
    const dir = await Deno.makeTempDir({ prefix: "tvs-sentinel-" });
    await Deno.writeTextFile(
      `${dir}/sentinel.conf`,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        "protected-mode no",
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 2000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        "",
      ].join("\n"),
    );
    const process = new Deno.Command("redis-server", {
      args: [`${dir}/sentinel.conf`, "--sentinel"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    return new SentinelProcess(port, process, dir);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#process.status;
    await Deno.remove(this.#dir, { recursive: true });
  }
}

/** A master, its replica and three sentinels, all stopped on dispose. */
export class SentinelSetup implements AsyncDisposable {
  readonly #stack: AsyncDisposableStack;
  readonly #servers: readonly RedisServer[];
  readonly #sentinels: readonly SentinelProcess[];
  readonly #admin: RedisClientType;

  private constructor(
    stack: AsyncDisposableStack,
    servers: readonly RedisServer[],
    sentinels: readonly SentinelProcess[],
    admin: RedisClientType,
  ) {
    this.#stack = stack;
    this.#servers = servers;
    this.#sentinels = sentinels;
    this.#admin = admin;
  }

  /** Starts it and waits until the sentinels know the replica and each other. */
  static async start(): Promise<SentinelSetup> {
    const stack = new AsyncDisposableStack();
    try {
      const master = stack.use(await RedisServer.start());
      const replica = stack.use(
        await RedisServer.start({ args: ["--replicaof", "127.0.0.1", String(master.port)] }),
      );
      const sentinels: SentinelProcess[] = [];
      for (let i = 0; i < SENTINELS; i++) {
        sentinels.push(stack.use(await SentinelProcess.start(master.port)));
      }
      const admin: RedisClientType = createClient({
        socket: { host: "127.0.0.1", port: sentinels[0]!.port, reconnectStrategy: () => 100 },
      });
      admin.on("error", () => {});
      stack.defer(() => admin.close().catch(() => {}));
      await waitFor(() => admin.connect().then(() => true, () => false), {
        timeoutMs: 5000,
        what: "the first sentinel",
      });
      const setup = new SentinelSetup(stack, [master, replica], sentinels, admin);
      await waitFor(async () => {
        const replicas = await setup.sentinel("REPLICAS", MASTER_NAME) as unknown[];
        const peers = await setup.sentinel("SENTINELS", MASTER_NAME) as unknown[];
        return replicas.length === 1 && peers.length === SENTINELS - 1;
      }, { timeoutMs: 20_000, what: "sentinels that know the replica and each other" });
      return setup;
    } catch (error) {
      await stack.disposeAsync();
      throw error;
    }
  }

  /** `redis+sentinel://…/<name>`, every sentinel listed. */
  get url(): string {
    const nodes = this.#sentinels.map(({ port }) => `127.0.0.1:${port}`).join(",");
    return `redis+sentinel://${nodes}/${MASTER_NAME}`;
  }

  /** `SENTINEL <args>` on the first sentinel. */
  sentinel(...args: string[]): Promise<unknown> {
    return this.#admin.sendCommand(["SENTINEL", ...args]);
  }

  /** The server that is master now, as the sentinels name it. */
  async master(): Promise<RedisServer> {
    const [, port] = await this.sentinel("GET-MASTER-ADDR-BY-NAME", MASTER_NAME) as string[];
    const server = this.#servers.find((candidate) => candidate.port === Number(port));
    if (server === undefined) throw new Error(`No server on the master's port ${port}`);
    return server;
  }

  /** Waits until the sentinels name a master other than `old`, and it has taken the role. */
  async waitForNewMaster(old: RedisServer, timeoutMs: number): Promise<RedisServer> {
    let master = old;
    await waitFor(async () => {
      master = await this.master();
      return master !== old && (await master.command("ROLE")).startsWith("*3");
    }, { timeoutMs, what: "a new master" });
    return master;
  }

  /** Waits until `server` is a replica of the master with its link up (again). */
  async waitForReplica(server: RedisServer, timeoutMs: number): Promise<void> {
    const client: RedisClientType = createClient({
      // A master turned into a replica drops its clients: this one reconnects.
      socket: { host: server.host, port: server.port, reconnectStrategy: () => 100 },
    });
    client.on("error", () => {});
    await client.connect();
    try {
      await waitFor(async () => {
        const info = await client.info("replication").catch(() => "");
        return info.includes("role:slave") && info.includes("master_link_status:up");
      }, { timeoutMs, what: `port ${server.port} a replica in sync` });
    } finally {
      await client.close().catch(() => {});
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#stack.disposeAsync();
  }
}
