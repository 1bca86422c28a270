/**
 * Message ids, stream positions and the frames a client receives.
 *
 * A message id is `<REGION>:<fingerprint>` (16 hex digits of the published bytes): the same on
 * every gateway instance with no coordination, so it costs nothing on the way out. A stream
 * position is `<REGION>:<epoch>:<offset>`: where a client that has no message yet stands. A client
 * hands back the last of either it saw as `?since=`.
 *
 * @module
 */

import type { Cursor, StreamPosition } from "../brokers/broker.ts";
import { utf8Length } from "../contract/utf8.ts";

/**
 * One message as clients receive it: serialised once and measured once, then the same string for
 * every send, every replay and every client holding it while it catches up.
 */
export interface Frame {
  /** Fingerprint of the publication: its identity on every instance. */
  readonly fingerprint: string;
  /** The JSON text frame, its `id` first. */
  readonly text: string;
  /** Length of `text` in UTF-8 bytes, for the byte budgets. */
  readonly bytes: number;
  /** Where the broker recorded the publication; `undefined` until it has. */
  position: StreamPosition | undefined;
}

const MESSAGE_ID = /^([A-Z][A-Z0-9]{1,7}):([0-9a-f]{16})$/;
const POSITION = /^([A-Z][A-Z0-9]{1,7}):([0-9a-z]{1,16}):(\d{1,15})$/;

/** A cursor with its region. */
export interface RegionCursor {
  readonly region: string;
  readonly cursor: Cursor;
}

/** The id of the message published in `region` with `fingerprint`. */
export function messageId(region: string, fingerprint: string): string {
  return `${region}:${fingerprint}`;
}

/** `position` of `region`'s stream as a cursor string. */
export function positionToken(region: string, position: StreamPosition): string {
  return `${region}:${position.epoch}:${position.offset}`;
}

/** `cursor` in `region` as the string a client gives back: the inverse of {@link parseCursor}. */
export function cursorToken(region: string, cursor: Cursor): string {
  return cursor.kind === "message"
    ? messageId(region, cursor.fingerprint)
    : positionToken(region, cursor.position);
}

/** Reads a message id or a stream position; `null` when it is neither. */
export function parseCursor(text: string): RegionCursor | null {
  const message = MESSAGE_ID.exec(text);
  if (message !== null) {
    return { region: message[1]!, cursor: { kind: "message", fingerprint: message[2]! } };
  }
  const position = POSITION.exec(text);
  if (position === null) return null;
  return {
    region: position[1]!,
    cursor: { kind: "position", position: { epoch: position[2]!, offset: Number(position[3]) } },
  };
}

/** The frame of the publication with `fingerprint` and normalised `body` in `region`. */
export function messageFrame(
  region: string,
  fingerprint: string,
  body: string,
  position?: StreamPosition,
): Frame {
  const text = withId(messageId(region, fingerprint), body);
  return { fingerprint, text, bytes: utf8Length(text), position };
}

/**
 * `body` (a serialised JSON object) with `"id"` as its first field. Joined, not re-serialised: the
 * body was serialised once, for every client. `join` rather than `+` because it yields one flat
 * string, where `+` yields a rope: every `socket.send` of a rope leaves V8's fast call path for a
 * slow UTF-8 conversion, once per client.
 */
function withId(id: string, body: string): string {
  return ['{"id":"', id, '",', body.slice(1)].join("");
}

/** The first frame of a region for a client that gave no cursor: where the region stands now. */
export function subscribedFrame(region: string, position: string): string {
  return JSON.stringify({ event: "subscribed", region, position });
}

/**
 * The first frame of a region for a client that gave a cursor: whether every message since is
 * coming (`recovered`, then `replayed` messages follow), or the client must refresh its view.
 * `position` is where the client stands afterwards.
 */
export function recoveryFrame(
  region: string,
  recovery: {
    readonly recovered: boolean;
    readonly replayed: number;
    readonly position: string;
  },
): string {
  return JSON.stringify({
    event: "recovery",
    region,
    recovered: recovery.recovered,
    replayed: recovery.replayed,
    position: recovery.position,
  });
}
