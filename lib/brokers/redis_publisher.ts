/**
 * Publishing as a producer does, for the `publish` command: one short-lived connection to the node
 * that takes writes (under Sentinel, the master it names now), one `PUBLISH`. Before publishing it
 * reads what the gateways recorded, so it can say that a message would be dropped as a repeat
 * instead of publishing it for nothing. One that reached nobody is sent again on the master named
 * then, for a few seconds (`publish_retry.ts`).
 *
 * @module
 */

import { createClient } from "@redis/client";
import { retryUntilDelivered } from "./publish_retry.ts";
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
  /** The publication's fingerprint (`streams/fingerprint.ts`). */
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

/** One connection, the repeat check and one `PUBLISH`. */
async function attempt(
  target: RedisTarget,
  publication: ProducerPublication,
): Promise<PublishOutcome> {
  const client = createClient(await currentMaster(target, 3000));
  let lastError: Error | undefined;
  client.on("error", (error: Error) => lastError = error);
  try {
    await client.connect();
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
  } catch (error) {
    throw lastError ?? error;
  } finally {
    if (client.isOpen) await client.close();
  }
}
