/**
 * The message contract. Pure: the bytes a producer published and the region of its channel in, a
 * verdict out. An accepted message is well-formed (the `new_trending` schema), readable in its own
 * script (Unicode NFC, control characters removed, direction from content) and serialised once,
 * unescaped, so browsers get the text exactly as written.
 *
 * Limits (docs/protocol.md): the whole payload at most `maxBytes`; `video_id` 1–64 characters of
 * `[A-Za-z0-9_-]`; `title` 1–500 characters after trimming; `channel` up to 200; `thumbnail` an
 * absolute `https:` URL up to 2,048 bytes (anything else is removed, the message kept); `ts` whole
 * Unix seconds from 2000 to 2100; nesting at most 16 levels. Other events (`^[a-z][a-z0-9_]{0,63}$`)
 * get the generic limits only. Unknown fields pass through, normalised.
 *
 * @module
 */

import { textDirection } from "./direction.ts";
import { characters, normaliseText } from "./text.ts";
import { safeThumbnail } from "./thumbnail.ts";

/** Why a publication was dropped; the label of `tvs_messages_rejected_total`. */
export type RejectReason =
  | "empty"
  | "too_large"
  | "invalid_utf8"
  | "invalid_json"
  | "not_object"
  | "too_deep"
  | "invalid_unicode"
  | "missing_event"
  | "invalid_event"
  | "missing_region"
  | "region_mismatch"
  | "invalid_video_id"
  | "invalid_title"
  | "invalid_channel"
  | "invalid_rtl"
  | "invalid_ts";

/** A field removed from an accepted message; the label of `tvs_message_fields_removed_total`. */
export type RemovedField = "thumbnail";

/** A publication that may go out. */
export interface AcceptedMessage {
  /** The `event` field. */
  readonly event: string;
  /** The region it belongs to, upper case. */
  readonly region: string;
  /** The normalised message as one JSON object, without `\uXXXX` escapes. */
  readonly body: string;
  /** Identity for de-duplication within the region (`video_id` of `new_trending`), or `null`. */
  readonly dedupeKey: string | null;
  /** Fields dropped on the way without rejecting the message. */
  readonly removed: readonly RemovedField[];
  /** When the producer says it published, from `ts` (Unix ms), or `null` without a valid one. */
  readonly producedAt: number | null;
}

/** The verdict on one publication. */
export type ParseResult =
  | { readonly ok: true; readonly message: AcceptedMessage }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

/** Largest publication accepted unless configured otherwise (`MAX_MESSAGE_BYTES`), in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16_384;

/** Options of {@link parsePublication}. */
export interface ParseOptions {
  /**
   * Region of the channel it came from. `null` (an HTTP publish) means the message must name its
   * region in a string `region` field.
   */
  readonly region: string | null;
  /** Largest accepted payload in bytes. @default DEFAULT_MAX_MESSAGE_BYTES */
  readonly maxBytes?: number;
}

/** Limits of the `new_trending` schema, for documentation and tests. */
export const LIMITS = {
  videoId: /^[A-Za-z0-9_-]{1,64}$/,
  event: /^[a-z][a-z0-9_]{0,63}$/,
  titleCharacters: 500,
  channelCharacters: 200,
  thumbnailBytes: 2048,
  /** 2000-01-01T00:00:00Z. */
  minTs: 946_684_800,
  /** 2100-01-01T00:00:00Z. */
  maxTs: 4_102_444_800,
  depth: 16,
} as const;

const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class Rejection extends Error {
  readonly reason: RejectReason;

  constructor(reason: RejectReason, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

/** Longest `detail` kept: it ends up in logs and HTTP answers, and may quote hostile input. */
const MAX_DETAIL_LENGTH = 200;

function reject(reason: RejectReason, detail: string): ParseResult {
  return { ok: false, reason, detail: detail.slice(0, MAX_DETAIL_LENGTH) };
}

/** {@link normaliseText}, a lone surrogate rejecting the message. */
function normalised(text: string): string {
  const result = normaliseText(text);
  if (result === null) throw new Rejection("invalid_unicode", "Text has a lone surrogate");
  return result;
}

/**
 * Normalises every string of a freshly parsed JSON value, keys included, in place: a message
 * normally needs no change, and rebuilding it would only make garbage on the hot path.
 */
function normaliseValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return normalised(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= LIMITS.depth) {
    throw new Rejection("too_deep", `Nesting deeper than ${LIMITS.depth} levels`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normaliseValue(value[i], depth + 1);
    return value;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.every((key) => normalised(key) === key)) {
    for (const key of keys) object[key] = normaliseValue(object[key], depth + 1);
    return object;
  }
  // A key changes (rare): rebuild. fromEntries defines own properties, so a "__proto__" key stays
  // a field, not a prototype.
  return Object.fromEntries(
    keys.map((key) => [normalised(key), normaliseValue(object[key], depth + 1)]),
  );
}

/** Whether `ts` is whole Unix seconds between 2000 and 2100. */
function validTs(ts: unknown): boolean {
  return Number.isInteger(ts) && (ts as number) >= LIMITS.minTs && (ts as number) <= LIMITS.maxTs;
}

/**
 * Applies the `new_trending` schema in place; returns the fields it removed. `publishedTitle` is
 * the title as published, before normalisation stripped its bidi controls: its isolates
 * (U+2066–U+2069) tell which runs do not decide the direction. Where removing them changes the
 * direction, the title starts with the mark of the one the publisher meant (RLM or LRM), which is
 * no control and decides it the same way for every reader, a browser's `dir="auto"` included.
 */
function checkTrending(message: Record<string, unknown>, publishedTitle: unknown): RemovedField[] {
  const { video_id: videoId, title, channel, rtl, ts } = message;
  if (typeof videoId !== "string" || !LIMITS.videoId.test(videoId)) {
    throw new Rejection("invalid_video_id", "video_id must be 1-64 characters of A-Z a-z 0-9 _ -");
  }
  const trimmedTitle = typeof title === "string" ? title.trim() : "";
  // The direction the publisher meant; where the stripped isolates decided it, a mark says it.
  const dir = textDirection(typeof publishedTitle === "string" ? publishedTitle : trimmedTitle);
  const shownTitle = dir === textDirection(trimmedTitle)
    ? trimmedTitle
    : (dir === "rtl" ? "\u200f" : "\u200e") + trimmedTitle;
  const titleLength = characters(shownTitle);
  if (titleLength === 0 || titleLength > LIMITS.titleCharacters) {
    throw new Rejection(
      "invalid_title",
      `title must be a string of 1-${LIMITS.titleCharacters} characters after trimming`,
    );
  }
  message.title = shownTitle;
  if (channel !== undefined) {
    if (typeof channel !== "string" || characters(channel.trim()) > LIMITS.channelCharacters) {
      throw new Rejection(
        "invalid_channel",
        `channel must be a string of at most ${LIMITS.channelCharacters} characters`,
      );
    }
    message.channel = channel.trim();
  }
  if (rtl !== undefined && typeof rtl !== "boolean") {
    throw new Rejection("invalid_rtl", "rtl must be true or false");
  }
  if (ts !== undefined && !validTs(ts)) {
    throw new Rejection("invalid_ts", "ts must be whole Unix seconds between 2000 and 2100");
  }
  const removed: RemovedField[] = [];
  if ("thumbnail" in message) {
    const thumbnail = safeThumbnail(message.thumbnail, LIMITS.thumbnailBytes);
    if (thumbnail === undefined) {
      delete message.thumbnail;
      removed.push("thumbnail");
    } else {
      message.thumbnail = thumbnail;
    }
  }
  // Browsers already in the field read `rtl`: keep the publisher's; derive it when absent.
  message.dir = dir;
  if (rtl === undefined) message.rtl = dir === "rtl";
  return removed;
}

/** Checks `region` against the channel's and returns the region the message belongs to. */
function resolveRegion(declared: unknown, channelRegion: string | null): string {
  if (declared !== undefined && typeof declared !== "string") {
    throw new Rejection("region_mismatch", "region must be a string");
  }
  const named = declared?.trim().toUpperCase();
  if (channelRegion === null) {
    if (!named) throw new Rejection("missing_region", "The message names no region");
    return named;
  }
  if (named !== undefined && named !== channelRegion) {
    throw new Rejection(
      "region_mismatch",
      `region "${named.slice(0, 16)}" differs from the channel's ${channelRegion}`,
    );
  }
  return channelRegion;
}

function validate(value: unknown, channelRegion: string | null): AcceptedMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Rejection("not_object", "Payload is not a JSON object");
  }
  const publishedTitle: unknown = Reflect.get(value, "title");
  const message = normaliseValue(value, 0) as Record<string, unknown>;
  const { event } = message;
  if (typeof event !== "string") {
    throw new Rejection("missing_event", 'Payload has no string "event" field');
  }
  if (!LIMITS.event.test(event)) {
    throw new Rejection("invalid_event", "event must match ^[a-z][a-z0-9_]{0,63}$");
  }
  const region = resolveRegion(message.region, channelRegion);
  message.region = region;
  const trending = event === "new_trending";
  const removed = trending ? checkTrending(message, publishedTitle) : [];
  return {
    event,
    region,
    body: JSON.stringify(message),
    dedupeKey: trending ? message.video_id as string : null,
    removed,
    producedAt: validTs(message.ts) ? (message.ts as number) * 1000 : null,
  };
}

/** Validates and normalises the raw bytes of one publication. Never throws. */
export function parsePublication(payload: Uint8Array, options: ParseOptions): ParseResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (payload.byteLength === 0) return reject("empty", "Empty payload");
  if (payload.byteLength > maxBytes) {
    return reject("too_large", `Payload of ${payload.byteLength} bytes exceeds ${maxBytes}`);
  }
  let text: string;
  try {
    text = lenientUtf8.decode(payload);
    // After an idle spell the fatal decoder costs more per message than the lenient one:
    // ask it only when a replacement character appears, which a publisher may also have sent.
    if (text.includes("\uFFFD")) text = strictUtf8.decode(payload);
  } catch {
    return reject("invalid_utf8", "Payload is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return reject("invalid_json", `Payload is not JSON: ${(error as SyntaxError).message}`);
  }
  try {
    return { ok: true, message: validate(value, options.region) };
  } catch (error) {
    if (error instanceof Rejection) return reject(error.reason, error.message);
    throw error;
  }
}
