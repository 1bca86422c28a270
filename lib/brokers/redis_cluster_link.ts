/**
 * The link to a Redis Cluster, through node-redis's `createCluster`. Producers stay unchanged: a
 * plain `PUBLISH` to any node reaches every node's subscribers (the cluster bus broadcasts it), and
 * `SPUBLISH` (sharded Pub/Sub, the one that scales with shards) reaches the subscribers of the
 * shard that owns the channel. So the gateway listens both ways (`redis_cluster_subscriber.ts`),
 * `SUBSCRIBE` on two masters and `SSUBSCRIBE` on each channel's shard, and de-duplication keeps a
 * message heard both ways from reaching a client twice; its own publications use `SPUBLISH`.
 * node-redis follows the topology: it moves the sharded subscriptions when a shard's old master
 * answers them with `sunsubscribe` (a planned failover) and rediscovers the slots a second after a
 * node stops answering. Every history script keeps to one region's `{REGION}` keys, one slot.
 * Every second the link asks the cluster which nodes are masters, to say when a shard failed over,
 * and has node-redis read the slots again for as long as its masters are not those.
 *
 * @module
 */

import { createCluster } from "@redis/client";
import {
  type LinkEvents,
  type LinkSocketOptions,
  nodeOptions,
  type RedisCommands,
  type RedisLink,
  socketWithTls,
} from "./redis_link.ts";
import { ClusterSubscriber } from "./redis_cluster_subscriber.ts";
import type { ChannelSubscriber, RegionSubscriberEvents } from "./redis_subscriber.ts";
import type { RedisTarget } from "./redis_target.ts";

type Cluster = ReturnType<typeof createCluster>;
type ClusterTarget = Extract<RedisTarget, { kind: "cluster" }>;

/** Pause between two attempts to reach the cluster at start, and between two topology looks, ms. */
const LOOK_EVERY_MS = 1000;

/** The commands of `cluster`: publications go out with `SPUBLISH`, to the channel's shard. */
function clusterCommands(cluster: () => Cluster, timeout?: 0): RedisCommands {
  const client = () =>
    timeout === undefined ? cluster() : cluster().withCommandOptions({ timeout });
  return {
    get isReady() {
      return cluster().isReady;
    },
    // Every master's connection: a silent one would hold up the records of its shard's regions.
    ping: () => Promise.all(cluster().masters.map((master) => master.client?.ping())),
    publish: (channel, message) => client().sPublish(channel, message),
    eval: (script, options) => client().eval(script, options),
  };
}

/** A Redis Cluster. */
export class ClusterLink implements RedisLink {
  readonly #target: ClusterTarget;
  readonly #socket: LinkSocketOptions;
  #cluster: Cluster;
  #connected = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The masters at the last look, `host:port` sorted and joined. */
  #masters = "";
  readonly commands: RedisCommands;
  readonly recorder: RedisCommands;
  readonly oneRegionPerScript = true;

  /** A link to the cluster of `target`; nothing connects before {@link start}. */
  constructor(target: ClusterTarget, socket: LinkSocketOptions) {
    this.#target = target;
    this.#socket = socket;
    this.#cluster = this.#create();
    this.commands = clusterCommands(() => this.#cluster);
    this.recorder = clusterCommands(() => this.#cluster, 0);
  }

  /** Nothing to connect to before the cluster answered; then the subscriber takes it from here. */
  subscriberOptions(): Record<string, never> | null {
    return this.#connected ? {} : null;
  }

  /** The subscriber of every channel both ways, on this link's cluster. */
  subscriber(
    channels: ReadonlyMap<string, string>,
    events: RegionSubscriberEvents,
  ): ChannelSubscriber {
    return new ClusterSubscriber(
      () => this.#cluster,
      channels,
      events,
      (host, port) => nodeOptions(this.#target, { ...this.#socket, host, port }),
    );
  }

  /** Connects (retrying until the cluster answers) and looks at its masters every second. */
  start(events: LinkEvents): void {
    this.#connect(events);
  }

  /** Stops looking and closes every connection of the cluster. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#cluster.close().catch(() => {});
  }

  #create(): Cluster {
    return createCluster({
      rootNodes: this.#target.nodes.map(({ host, port }) => ({
        socket: socketWithTls({ ...this.#socket, host, port }, this.#target.tls),
      })),
      defaults: { ...nodeOptions(this.#target, this.#socket), disableOfflineQueue: true },
      // Rediscover the slots a second after a node stopped answering (5 s by default).
      topologyRefreshOnReconnectionAttemptStrategy: LOOK_EVERY_MS,
    });
  }

  /** Connects; a cluster that does not answer, or is not `cluster_state:ok` yet, is retried. */
  #connect(events: LinkEvents): void {
    const cluster = this.#cluster;
    cluster.on("error", (error: Error) => events.error(`Cluster: ${error.message}`));
    for (const event of ["node-ready", "node-disconnect", "node-reconnecting"]) {
      cluster.on(event, events.changed);
    }
    cluster.connect().then(() => {
      this.#connected = true;
      events.changed();
      this.#look(events);
    }, (error: Error) => {
      if (this.#closed) return;
      events.error(`Cluster: ${error.message}`);
      events.changed();
      void cluster.destroy();
      this.#cluster = this.#create();
      this.#timer = setTimeout(() => this.#connect(events), LOOK_EVERY_MS);
    });
  }

  /** Asks which nodes are masters; a change is a failover. Again every second. */
  #look(events: LinkEvents): void {
    if (this.#closed) return;
    this.#cluster.sendCommand(undefined, true, ["CLUSTER", "NODES"]).then((reply) => {
      // `<id> <host:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slots…>`: masters
      // that serve slots and are not failing.
      const masters = String(reply).split("\n").map((line) => line.split(" ")).filter((fields) => {
        const flags = fields[2]?.split(",") ?? [];
        return flags.includes("master") && !flags.some((flag) => flag.startsWith("fail")) &&
          fields.length > 8;
      }).map((fields) => fields[1]!.split("@")[0]!).sort().join(",");
      // node-redis learns of a new master from a MOVED reply (a replica passes SPUBLISH on without
      // one, answering 0 receivers) or once a node it knew stops answering; it moves the sharded
      // subscriptions of a master that is gone only when it reads the slots again. Read by a node
      // that had not yet seen a promotion, they can name the dead master still: so as long as its
      // masters are not the ones the cluster names, it is asked to read them again.
      const known = this.#cluster.masters.map((master) => master.address).sort().join(",");
      if (masters !== "" && known !== masters) {
        void this.#cluster._slots.rediscover().catch(() => {});
      }
      if (this.#masters !== "" && masters !== this.#masters) events.failover(masters);
      this.#masters = masters;
    }, () => {}).finally(() => {
      this.#timer = setTimeout(() => this.#look(events), LOOK_EVERY_MS);
    });
  }
}
