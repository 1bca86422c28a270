/**
 * Publishing as a producer does, for the `publish` command: one short-lived connection, one
 * `PUBLISH`. With `redis.ts`, the only module that imports `redis`.
 *
 * @module
 */

import { createClient } from "@redis/client";

/**
 * Publishes one payload on `channel` with a short-lived connection, as a producer does; resolves
 * to the number of subscribers reached. For the `publish` command, not for the gateway.
 */
export async function publishOnce(url: string, channel: string, payload: string): Promise<number> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 3000 } });
  let lastError: Error | undefined;
  client.on("error", (error: Error) => lastError = error);
  try {
    await client.connect();
    return await client.publish(channel, payload);
  } catch (error) {
    throw lastError ?? error;
  } finally {
    if (client.isOpen) await client.close();
  }
}
