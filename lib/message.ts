/**
 * Validation of what producers publish. Pure: bytes in, a verdict out. An accepted publication is
 * re-serialised once, which also undoes a publisher's escaping (`\/`, `\u00e9`), so browsers get
 * the text exactly as written and unescaped on the wire.
 *
 * @module
 */

/** Why a publication was dropped; the label of `tvs_messages_rejected_total`. */
export type RejectReason =
  | "empty"
  | "too_large"
  | "invalid_utf8"
  | "invalid_json"
  | "not_object"
  | "missing_event";

/** A publication that may go out. */
export interface AcceptedMessage {
  /** The `event` field. */
  readonly event: string;
  /** The `region` field when it is a string, else `null`. */
  readonly declaredRegion: string | null;
  /** The message serialised as one JSON object, without `\uXXXX` escapes. */
  readonly body: string;
}

/** The verdict on one publication. */
export type ParseResult =
  | { readonly ok: true; readonly message: AcceptedMessage }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

/** Options of {@link parsePublication}. */
export interface ParseOptions {
  /** Largest accepted payload in bytes. @default 16384 */
  readonly maxBytes?: number;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function reject(reason: RejectReason, detail: string): ParseResult {
  return { ok: false, reason, detail };
}

/** Validates the raw bytes of one publication. */
export function parsePublication(payload: Uint8Array, options: ParseOptions = {}): ParseResult {
  const maxBytes = options.maxBytes ?? 16384;
  if (payload.byteLength === 0) return reject("empty", "Empty payload");
  if (payload.byteLength > maxBytes) {
    return reject("too_large", `Payload of ${payload.byteLength} bytes exceeds ${maxBytes}`);
  }
  let text: string;
  try {
    text = strictUtf8.decode(payload);
  } catch {
    return reject("invalid_utf8", "Payload is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return reject("invalid_json", `Payload is not JSON: ${(error as SyntaxError).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject("not_object", "Payload is not a JSON object");
  }
  const { event, region } = value as Record<string, unknown>;
  if (typeof event !== "string") {
    return reject("missing_event", 'Payload has no string "event" field');
  }
  const declaredRegion = typeof region === "string" ? region : null;
  return { ok: true, message: { event, declaredRegion, body: JSON.stringify(value) } };
}
