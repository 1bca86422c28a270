/**
 * Publishing as a producer does, for the `publish` command: one short-lived connection to the node
 * that takes writes (under Sentinel, the master it names now), one `PUBLISH`. Before publishing it
 * reads what the gateways recorded, so it can say that a message would be dropped as a repeat
 * instead of publishing it for nothing. One that reached nobody is sent again on the master named
 * then, for a few seconds (`publish_retry.ts`).
 *
 * @module
 */

import { createClient, createCluster } from "@redis/client";
import { retryUntilDelivered } from "./publish_retry.ts";
import { nodeOptions, socketWithTls } from "./redis_link.ts";
import { currentMaster } from "./redis_links.ts";
import { repeatKeys } from "./redis_scripts.ts";
import type { RedisTarget } from "./redis_target.ts";

/** A publication, and what tells whether the gateways would take it for a repeat. */
export interface ProducerPublication {
  readonly channel: string;
  readonly payload: string;
  readonly region: string;
  /** Prefix of the gateways' keys (the channel prefix). */
  readonly keyPrefix: string;
  /** The publication's fingerprint (`contract/fingerprint.ts`). */
  readonly fingerprint: string;
  /** Its de-duplication key (`video_id`), if any. */
  readonly dedupeKey: string | null;
  /** The gateways' de-duplication window, in ms (0: none). */
  readonly dedupeWindowMs: number;
}

/** What {@link publishOnce} did. */
export type PublishOutcome =
  | { readonly published: true; readonly receivers: number }
  /** Not published: the gateways recorded the same bytes, or the key within the window. */
  | { readonly published: false; readonly repeatsFingerprint: string | null };

/**
 * Publishes one payload with a short-lived connection, as a producer does, unless the gateways
 * recorded it as delivered (the same bytes, or its key within the window). For the `publish`
 * command, not for the gateway.
 */
export async function publishOnce(
  target: RedisTarget,
  publication: ProducerPublication,
): Promise<PublishOutcome> {
  return await retryUntilDelivered(
    () => attempt(target, publication),
    (outcome) => !outcome.published || outcome.receivers > 0,
  );
}

/** What one attempt sends: the repeat check's two reads and the publication. */
interface ProducerConnection {
  hGet(key: string, field: string): Promise<string | null>;
  zScore(key: string, member: string): Promise<number | null>;
  publish(channel: string, message: string): Promise<number>;
}

/**
 * A connection for one attempt, given to `use` and closed after: to the node that takes writes, or
 * to a Cluster, which routes each key to its shard and publishes with `SPUBLISH` (what the
 * gateways listen to besides `PUBLISH`).
 */
async function withConnection<T>(
  target: RedisTarget,
  use: (connection: ProducerConnection) => Promise<T>,
): Promise<T> {
  const socket = { reconnectStrategy: false as const, connectTimeout: 3000 };
  const client = target.kind === "cluster"
    ? createCluster({
      rootNodes: target.nodes.map(({ host, port }) => ({
        socket: socketWithTls({ ...socket, host, port }, target.tls),
      })),
      defaults: nodeOptions(target, socket),
    })
    : createClient(await currentMaster(target, socket.connectTimeout));
  let lastError: Error | undefined;
  client.on("error", (error: Error) => lastError = error);
  try {
    await client.connect();
    return await use({
      hGet: (key, field) => client.hGet(key, field),
      zScore: (key, member) => client.zScore(key, member),
      publish: (channel, message) =>
        "sPublish" in client && target.kind === "cluster"
          ? client.sPublish(channel, message)
          : client.publish(channel, message),
    });
  } catch (error) {
    throw lastError ?? error;
  } finally {
    if (client.isOpen) await client.close();
  }
}

/** One connection, the repeat check and one `PUBLISH`. */
function attempt(target: RedisTarget, publication: ProducerPublication): Promise<PublishOutcome> {
  return withConnection(target, async (client) => {
    const keys = repeatKeys(publication.keyPrefix, publication.region);
    if (await client.hGet(keys.index, publication.fingerprint) !== null) {
      return { published: false, repeatsFingerprint: publication.fingerprint };
    }
    const { dedupeKey, dedupeWindowMs } = publication;
    if (dedupeKey !== null && dedupeWindowMs > 0) {
      const seenAt = await client.zScore(keys.dedupe, dedupeKey);
      if (seenAt !== null && seenAt > Date.now() - dedupeWindowMs) {
        return {
          published: false,
          repeatsFingerprint: await client.hGet(keys.firsts, dedupeKey) ?? null,
        };
      }
    }
    const receivers = await client.publish(publication.channel, publication.payload);
    return { published: true, receivers };
  });
}
