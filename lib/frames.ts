/**
 * Message ids and the frames a client receives. An id names a region's stream position:
 * `AE:<epoch>:<offset>`, the same on every gateway instance for the same publication. A client
 * hands the last id it saw back as `?since=`.
 *
 * @module
 */

import type { StreamPosition } from "./broker.ts";

const ID_PATTERN = /^([A-Z][A-Z0-9]{1,7}):([0-9a-z]{1,16}):(\d{1,15})$/;

/** A stream position with its region. */
export interface RegionPosition {
  readonly region: string;
  readonly position: StreamPosition;
}

/** The id of the message at `position` in `region`'s stream. */
export function formatId(region: string, position: StreamPosition): string {
  return `${region}:${position.epoch}:${position.offset}`;
}

/** Reads an id; `null` when it is not one. */
export function parseId(id: string): RegionPosition | null {
  const match = ID_PATTERN.exec(id);
  if (match === null) return null;
  const [, region = "", epoch = "", offset = "0"] = match;
  return { region, position: { epoch, offset: Number(offset) } };
}

/**
 * `body` (a serialised JSON object) with `"id"` as its first field. String concatenation, not a
 * second serialisation: the body was serialised once, for every client.
 */
export function withId(id: string, body: string): string {
  return `{"id":"${id}",${body.slice(1)}`;
}

/** The first frame of a region for a client that named no position: where the stream is now. */
export function subscribedFrame(region: string, position: StreamPosition): string {
  return JSON.stringify({ event: "subscribed", region, position: formatId(region, position) });
}

/**
 * The first frame of a region for a client that named a position: whether every message since
 * is coming (`recovered`, then `replayed` messages follow), or the client must refresh its view.
 */
export function recoveryFrame(
  region: string,
  recovery: {
    readonly recovered: boolean;
    readonly replayed: number;
    /** `null` when the broker could not be asked. */
    readonly position: StreamPosition | null;
  },
): string {
  return JSON.stringify({
    event: "recovery",
    region,
    recovered: recovery.recovered,
    replayed: recovery.replayed,
    ...(recovery.position !== null && { position: formatId(region, recovery.position) }),
  });
}
