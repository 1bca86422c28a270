/**
 * A client that asked to resume (`?since=`) catching up on one region: what the streams say it
 * missed, replayed at its pace, then live. When the broker cannot be asked, the answer is unknown
 * rather than negative: the client is told to come back (1013) with its cursor, not that its
 * history is lost.
 *
 * @module
 */

import type { Cursor } from "../brokers/broker.ts";
import { CLOSE_CODES } from "../client/close_codes.js";
import type { Client } from "../delivery/client.ts";
import type { Hub } from "../delivery/hub.ts";
import { replayAndGoLive } from "../delivery/replay.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Streams } from "../streams/streams.ts";
import type { EventRecorder } from "./event_recorder.ts";

/** What a catch-up reads and reports to. */
export interface RecoveryContext {
  readonly streams: Streams;
  readonly hub: Hub;
  readonly metrics: Metrics;
  readonly events: EventRecorder;
}

/** Catches `client` up on `region` from `cursor`, then makes it live there. */
export async function recoverClient(
  client: Client,
  target: { readonly region: string; readonly cursor: Cursor | null },
  context: RecoveryContext,
): Promise<void> {
  const { region, cursor } = target;
  const catchUp = await context.streams.catchUp(region, cursor);
  context.metrics.recoveries.inc({ result: catchUp.result });
  if (catchUp.result === "unavailable") {
    context.events.brokerFailed("recover", catchUp.brokerError);
    client.close(CLOSE_CODES.tryAgainLater);
    return;
  }
  if (await replayAndGoLive(client, region, catchUp, context.hub)) {
    context.metrics.replayedMessages.inc(catchUp.frames.length);
  }
}
