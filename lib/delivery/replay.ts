/**
 * Catching one client up on one region: the control frame, the missed messages at the pace the
 * client reads them, then what was broadcast meanwhile that the replay did not carry; then it is
 * live there. No gap, no duplicate, order kept.
 *
 * @module
 */

import { utf8Length } from "../contract/utf8.ts";
import type { Frame } from "../streams/frames.ts";
import { CLOSE_CODES } from "../client/close_codes.js";
import { type Client, SendOutcome } from "./client.ts";
import type { Hub } from "./hub.ts";

/** Longest a replay waits for a client to make room in its budget before calling it slow, in ms. */
export const REPLAY_ROOM_TIMEOUT_MS = 5000;

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
    if (!(await sendPaced(client, frame))) return false;
    sent.add(frame.fingerprint);
  }
  for (const held of hub.goLive(client, region)) {
    if (!sent.has(held.fingerprint)) client.send(held.text, held.bytes);
  }
  return true;
}

/**
 * Sends `frame` once it fits the client's budget, as a replay of many messages must: resolves
 * `false` when the client closed, or made no room within {@link REPLAY_ROOM_TIMEOUT_MS} (then it is
 * closed as a slow consumer).
 */
async function sendPaced(client: Client, frame: Frame): Promise<boolean> {
  const deadline = performance.now() + REPLAY_ROOM_TIMEOUT_MS;
  while (client.open && !client.hasRoomFor(frame.bytes)) {
    if (performance.now() > deadline) {
      client.close(CLOSE_CODES.slowConsumer);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return client.send(frame.text, frame.bytes) === SendOutcome.Delivered;
}
