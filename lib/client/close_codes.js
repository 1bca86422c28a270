// @ts-check
/**
 * Close codes and handshake refusals of the tvs-realtime gateway.
 *
 * This is the one table both sides read: the gateway imports it to close sockets and refuse
 * handshakes, and the browser client library imports it (served at `/close_codes.js`) to decide
 * whether to reconnect. `reconnect: true` means "reconnect with backoff"; `false` means "stop,
 * reconnecting would be refused again".
 *
 * @module
 */

/** Codes a client sees in the WebSocket `close` event once connected. */
export const CLOSE_CODES = /** @type {const} */ ({
  normal: { code: 1000, reconnect: false, reason: "Normal closure" },
  goingAway: { code: 1001, reconnect: true, reason: "Idle timeout: no pong from the client" },
  abnormal: { code: 1006, reconnect: true, reason: "Connection lost without a close frame" },
  policyViolation: { code: 1008, reconnect: false, reason: "Too many inbound messages" },
  messageTooBig: { code: 1009, reconnect: false, reason: "Inbound message over the size limit" },
  serviceRestart: { code: 1012, reconnect: true, reason: "Gateway restarting, reconnect" },
  tryAgainLater: { code: 1013, reconnect: true, reason: "Recovery unavailable, reconnect later" },
  slowConsumer: { code: 4001, reconnect: true, reason: "Slow consumer, reconnect later" },
  overloaded: {
    code: 4002,
    reconnect: true,
    reason: "Gateway over its queued-bytes bound, reconnect later",
  },
  memoryBound: {
    code: 4003,
    reconnect: true,
    reason: "Gateway over its resident memory bound, reconnect later",
  },
  tokenExpired: {
    code: 4004,
    reconnect: true,
    reason: "Connection token expired, reconnect with a new one",
  },
});

/**
 * Handshakes the gateway refuses before upgrading, with the HTTP status and the `error` field of
 * the JSON body. A browser cannot read the status of a failed WebSocket handshake, so the client
 * library asks for it again over plain HTTP (the gateway answers the same refusal to a `GET`).
 */
export const HANDSHAKE_REFUSALS = /** @type {const} */ ({
  unsupportedVersion: { status: 426, error: "unsupported_version", reconnect: false },
  unknownRegion: { status: 400, error: "unknown_region", reconnect: false },
  invalidSince: { status: 400, error: "invalid_since", reconnect: false },
  originNotAllowed: { status: 403, error: "origin_not_allowed", reconnect: false },
  tokenRequired: { status: 401, error: "token_required", reconnect: false },
  invalidToken: { status: 401, error: "invalid_token", reconnect: false },
  tokenExpired: { status: 401, error: "token_expired", reconnect: true },
  regionNotAllowed: { status: 403, error: "region_not_allowed", reconnect: false },
  tokenKeysUnavailable: { status: 503, error: "token_keys_unavailable", reconnect: true },
  tooManyConnectionsPerIp: { status: 429, error: "too_many_connections_per_ip", reconnect: true },
  draining: { status: 503, error: "draining", reconnect: true },
  tooManyConnections: { status: 503, error: "too_many_connections", reconnect: true },
});

/** One entry of {@link HANDSHAKE_REFUSALS}. @typedef {typeof HANDSHAKE_REFUSALS[keyof typeof HANDSHAKE_REFUSALS]} Refusal */

/** A close code and its reason, as in {@link CLOSE_CODES}. @typedef {{ readonly code: number, readonly reason: string }} CloseCode */

/** Codes of {@link CLOSE_CODES} that mean "do not reconnect". @type {ReadonlySet<number>} */
const STOP_CODES = new Set(
  Object.values(CLOSE_CODES).filter((entry) => !entry.reconnect).map((entry) => entry.code),
);

/**
 * Whether a client should reconnect after a close with `code`. Codes outside the table (a proxy's,
 * a browser's 1005 or 1015) are treated as transient.
 *
 * @param {number} code
 * @returns {boolean}
 */
export function reconnectAfterClose(code) {
  return !STOP_CODES.has(code);
}

/**
 * Whether a client should retry after the gateway refused its handshake with HTTP `status` and
 * the JSON body's `error`: as the table says for a refusal in it, else by status (a 400, 403 or
 * 404 will not change by retrying; anything else may be a passing state of the gateway).
 *
 * @param {number} status
 * @param {unknown} [error]
 * @returns {boolean}
 */
export function reconnectAfterRefusal(status, error) {
  const refusal = Object.values(HANDSHAKE_REFUSALS).find((entry) => entry.error === error);
  if (refusal !== undefined) return refusal.reconnect;
  return status !== 400 && status !== 403 && status !== 404;
}
