/**
 * Catching one client up on one region: the control frame, the missed messages at the pace the
 * client reads them, then what was broadcast meanwhile that the replay did not carry; then it is
 * live there. No gap, no duplicate, order kept.
 *
 * @module
 */

import { utf8Length } from "../contract/utf8.ts";
import type { Frame } from "../streams/frames.ts";
import type { Client } from "./client.ts";
import type { Hub } from "./hub.ts";

/** What to send a client before it goes live in a region. */
export interface Replay {
  /** The `subscribed` or `recovery` frame. */
  readonly control: string;
  /** The missed messages, oldest first. */
  readonly frames: readonly Frame[];
}

/**
 * Sends `replay` to `client` and makes it live in `region` of `hub`. Resolves `false` when the
 * client closed first (or was closed as a slow consumer while it made no room).
 */
export async function replayAndGoLive(
  client: Client,
  region: string,
  replay: Replay,
  hub: Hub,
): Promise<boolean> {
  if (!client.open) return false;
  client.send(replay.control, utf8Length(replay.control));
  const sent = new Set<string>();
  for (const frame of replay.frames) {
    if (!(await client.sendPaced(frame.text, frame.bytes))) return false;
    sent.add(frame.fingerprint);
  }
  for (const held of hub.goLive(client, region)) {
    if (!sent.has(held.fingerprint)) client.send(held.text, held.bytes);
  }
  return true;
}
