/**
 * A real Redis Cluster on loopback: six nodes, three masters with a replica each, made with
 * `redis-cli --cluster create … --cluster-replicas 1`, a node declared failed after 2 s. A node's
 * cluster bus listens on its port + 10000, so every port is at most 55535.
 *
 * @module
 */

import { createCluster } from "@redis/client";
import { RedisServer, type RedisServerOptions } from "./redis_server.ts";
import { waitFor } from "./wait.ts";

const NODES = 6;

/** A port from `from` on whose port and bus port (+10000) nothing listens. */
function freeClusterPort(from: number): number {
  for (let port = from; port < 55_535; port++) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      Deno.listen({ hostname: "127.0.0.1", port: port + 10_000 }).close();
      return port;
    } catch {
      // Taken: the next one.
    }
  }
  throw new Error("No free cluster port");
}

/** What `redis-cli -p <port> <args>` prints. */
async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout);
}

/** Six nodes in one cluster, stopped on dispose. */
export class ClusterSetup implements AsyncDisposable {
  readonly nodes: readonly RedisServer[];
  readonly #stack: AsyncDisposableStack;

  private constructor(nodes: readonly RedisServer[], stack: AsyncDisposableStack) {
    this.nodes = nodes;
    this.#stack = stack;
  }

  /**
   * Starts the nodes, joins them, and waits until every node says `cluster_state:ok`. `launch`
   * runs each node (the benchmark pins them to a core).
   */
  static async start(
    options: Pick<RedisServerOptions, "launch"> = {},
  ): Promise<ClusterSetup> {
    const stack = new AsyncDisposableStack();
    try {
      const nodes: RedisServer[] = [];
      let port = 20_000 + Math.floor(Math.random() * 20_000);
      for (let i = 0; i < NODES; i++) {
        port = freeClusterPort(port + 1);
        nodes.push(stack.use(
          await RedisServer.start({
            ...options,
            port,
            args: ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"],
          }),
        ));
      }
      const create = await new Deno.Command("redis-cli", {
        args: [
          "--cluster",
          "create",
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          "--cluster-replicas",
          "1",
          "--cluster-yes",
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!create.success) throw new Error(new TextDecoder().decode(create.stderr));
      const setup = new ClusterSetup(nodes, stack);
      await waitFor(async () => {
        const states = await Promise.all(
          nodes.map((node) => redisCli(node.port, "CLUSTER", "INFO")),
        );
        const views = await Promise.all(
          nodes.map((node) => redisCli(node.port, "CLUSTER", "NODES")),
        );
        return states.every((state) => state.includes("cluster_state:ok")) &&
          views.every((view) => view.match(/slave/g)?.length === NODES / 2);
      }, { timeoutMs: 20_000, what: "cluster_state:ok, every replica known to every node" });
      return setup;
    } catch (error) {
      await stack.disposeAsync();
      throw error;
    }
  }

  /** Empties every master (`FLUSHALL`), between two runs of a benchmark. */
  async flushAll(): Promise<void> {
    for (const node of this.nodes) await redisCli(node.port, "FLUSHALL");
  }

  /** `redis+cluster://…`, three of its nodes listed. */
  get url(): string {
    return `redis+cluster://${
      this.nodes.slice(0, 3).map((node) => `127.0.0.1:${node.port}`).join(",")
    }`;
  }

  /** A client of the whole cluster (node-redis routes each key and sharded channel). */
  client() {
    const client = createCluster({
      rootNodes: this.nodes.filter((node) => node.running).map((node) => ({
        socket: { host: "127.0.0.1", port: node.port, reconnectStrategy: false },
      })),
      defaults: { socket: { reconnectStrategy: () => 200 } },
      topologyRefreshOnReconnectionAttemptStrategy: 500,
    });
    client.on("error", () => {});
    return client;
  }

  /**
   * The node that is master of `key`'s slot now, as `CLUSTER NODES` says, and its replica if it
   * has one that is up; with `replica`, waits for one (an old master is turned into the new one's
   * replica a moment after a failover).
   */
  async shardOf(
    key: string,
    options: { readonly replica?: boolean } = {},
  ): Promise<{ master: RedisServer; replica: RedisServer | undefined }> {
    let shard: { master: RedisServer; replica: RedisServer | undefined } | undefined;
    await waitFor(async () => {
      shard = await this.#shardNow(key).catch(() => undefined);
      return shard !== undefined && (!options.replica || shard.replica !== undefined);
    }, { timeoutMs: 15_000, what: `the master${options.replica ? " and replica" : ""} of ${key}` });
    return shard!;
  }

  /** The running nodes on which a client named `name` (`CLIENT SETNAME`) is connected. */
  async nodesWithClient(name: string): Promise<RedisServer[]> {
    const running = this.nodes.filter((node) => node.running);
    const lists = await Promise.all(running.map((node) => redisCli(node.port, "CLIENT", "LIST")));
    return running.filter((_, i) => lists[i]!.includes(` name=${name} `));
  }

  /** Waits until `master` has a replica online (in sync, taking the stream of writes). */
  async waitForSync(master: RedisServer): Promise<void> {
    await waitFor(async () => {
      const view = await redisCli(master.port, "INFO", "replication");
      return /slave0:.*state=online/.test(view);
    }, { timeoutMs: 15_000, what: `a replica of ${master.port} in sync` });
  }

  async #shardNow(
    key: string,
  ): Promise<{ master: RedisServer; replica: RedisServer | undefined }> {
    const node = this.nodes.find((candidate) => candidate.running)!;
    const slot = Number(await redisCli(node.port, "CLUSTER", "KEYSLOT", key));
    const lines = (await redisCli(node.port, "CLUSTER", "NODES")).split("\n").filter(Boolean)
      .map((line) => line.split(" "));
    const port = (fields: string[]) => Number(fields[1]!.split("@")[0]!.split(":")[1]);
    const master = lines.find((fields) =>
      fields[2]!.includes("master") && !fields[2]!.includes("fail") &&
      fields.slice(8).some((range) => {
        const [from, to] = range.split("-").map(Number);
        return slot >= from! && slot <= (to ?? from!);
      })
    );
    if (master === undefined) throw new Error(`No master of slot ${slot}`);
    const replica = lines.find((fields) => fields[3] === master[0] && !fields[2]!.includes("fail"));
    const server = (fields: string[]) => this.nodes.find((node) => node.port === port(fields))!;
    return { master: server(master), replica: replica === undefined ? undefined : server(replica) };
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#stack.disposeAsync();
  }
}
