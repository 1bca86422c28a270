// @ts-self-types="./tvs-client.d.ts"
// @ts-check
/**
 * The browser client of the tvs-realtime gateway: an ES module with no dependencies and no build
 * step, served by the gateway at `/tvs-client.js`.
 *
 * ```js
 * import { TvsClient } from "/tvs-client.js";
 * const client = new TvsClient({ regions: ["AE", "GB"] });
 * client.addEventListener("trending", (event) => showToast(event.detail));
 * client.addEventListener("status", (event) => showStatus(event.detail.status));
 * client.addEventListener("recovery", (event) => {
 *   if (!event.detail.recovered) refreshTrendingList(event.detail.region);
 * });
 * client.start();
 * ```
 *
 * It reconnects with exponential backoff and full jitter, never after a "do not reconnect" close
 * code or handshake refusal; resumes from the last message id (or stream position) of each region
 * (`?since=`), so nothing published while it was away is lost while the gateway's history covers
 * it (a `recovery` event with `recovered: false` says when it does not); drops any message whose id
 * it already has; reconnects at once when the browser comes back `online`; and pings the gateway to
 * notice a dead connection.
 *
 * @module
 */

import { reconnectAfterClose, reconnectAfterRefusal } from "./close_codes.js";

/**
 * @typedef {"idle" | "connecting" | "live" | "reconnecting" | "stopped"} Status
 *
 * @typedef {object} TvsClientOptions
 * @property {readonly string[]} regions Regions to follow, such as `["AE"]`.
 * @property {string | URL} [url] WebSocket endpoint. Default: `/ws` on the page's host.
 * @property {number} [baseDelayMs] First reconnect delay ceiling. Default 500.
 * @property {number} [maxDelayMs] Largest reconnect delay. Default 20000.
 * @property {number} [heartbeatMs] Ping interval; 0 disables. Default 25000.
 * @property {typeof WebSocket} [WebSocket] WebSocket implementation. Default: the global one;
 *   Node before 22 has none, so pass the `ws` package's (and on a server, for rendering, a `url`).
 * @property {typeof fetch} [fetch] fetch implementation, to ask why a handshake failed.
 * @property {() => number} [random] Source of jitter in [0, 1). Default: Math.random.
 */

const CONTROL_EVENTS = new Set(["subscribed", "recovery", "pong"]);

/**
 * `regions` upper-cased and without repeats; at least one.
 *
 * @param {readonly string[]} regions
 * @returns {readonly string[]}
 */
function regionList(regions) {
  if (!Array.isArray(regions) || regions.length === 0) {
    throw new TypeError("TvsClient needs at least one region");
  }
  return [...new Set(regions.map((region) => String(region).toUpperCase()))];
}
/** Ids remembered per region to drop repeats; far more than a replay can carry. */
const SEEN_IDS = 1000;

/** A connection to the gateway that survives network changes, restarts and deploys. */
export class TvsClient extends EventTarget {
  /** @type {readonly string[]} */
  #regions;
  /** @type {URL} */
  #url;
  #baseDelayMs;
  #maxDelayMs;
  #heartbeatMs;
  /** @type {typeof WebSocket} */
  #WebSocket;
  /** @type {typeof fetch | undefined} */
  #fetch;
  #random;
  /** @type {Status} */
  #status = "idle";
  /** Per region, the last message id or stream position: where to resume. @type {Map<string, string>} */
  #cursors = new Map();
  /** Per region, the ids received lately, oldest first. @type {Map<string, Set<string>>} */
  #seen = new Map();
  /** @type {WebSocket | undefined} */
  #socket;
  #attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retryTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #heartbeatTimer;
  #lastFrameAt = 0;
  #offline = false;
  #onOnline = () => this.#online();
  #onOffline = () => this.#offlineNow();

  /** @param {TvsClientOptions} options */
  constructor(options) {
    super();
    this.#regions = regionList(options.regions);
    if (options.url === undefined && globalThis.location === undefined) {
      throw new TypeError("TvsClient needs a url outside a browser, such as wss://host/ws");
    }
    this.#url = new URL(options.url ?? "/ws", globalThis.location?.href);
    if (this.#url.protocol === "http:") this.#url.protocol = "ws:";
    if (this.#url.protocol === "https:") this.#url.protocol = "wss:";
    this.#baseDelayMs = options.baseDelayMs ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 20_000;
    this.#heartbeatMs = options.heartbeatMs ?? 25_000;
    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== "function") {
      throw new TypeError(
        "No WebSocket in this runtime (Node before 22 has none): pass one, " +
          'such as { WebSocket } from the "ws" package',
      );
    }
    this.#WebSocket = WebSocketClass;
    this.#fetch = options.fetch ?? globalThis.fetch?.bind(globalThis);
    this.#random = options.random ?? Math.random;
  }

  /** @returns {Status} The connection status. */
  get status() {
    return this.#status;
  }

  /** @returns {Record<string, string>} Per region, where the client would resume. */
  get lastIds() {
    return Object.fromEntries(this.#cursors);
  }

  /** Connects, and keeps connecting until {@link close}. */
  start() {
    if (this.#status !== "idle") return;
    globalThis.addEventListener?.("online", this.#onOnline);
    globalThis.addEventListener?.("offline", this.#onOffline);
    // Deno has a navigator without onLine; a browser that starts offline waits for "online".
    this.#offline = Reflect.get(globalThis.navigator ?? {}, "onLine") === false;
    if (this.#offline) this.#setStatus("reconnecting", { reason: "offline" });
    else this.#connect();
  }

  /**
   * Follows `regions` from now on, over a new connection if one is up or being made: the regions
   * it keeps resume from their cursors, so none of their messages is lost; new ones start live;
   * the cursors of those it leaves are forgotten.
   *
   * @param {readonly string[]} regions
   */
  setRegions(regions) {
    const next = regionList(regions);
    for (const region of [...this.#cursors.keys(), ...this.#seen.keys()]) {
      if (next.includes(region)) continue;
      this.#cursors.delete(region);
      this.#seen.delete(region);
    }
    this.#regions = next;
    if (this.#status === "idle" || this.#isStopped() || this.#offline) return;
    this.#drop(1000, "Regions changed");
    this.#attempt = 0;
    this.#connect();
  }

  /** Disconnects for good. */
  close() {
    if (this.#status === "stopped") return;
    globalThis.removeEventListener?.("online", this.#onOnline);
    globalThis.removeEventListener?.("offline", this.#onOffline);
    clearTimeout(this.#retryTimer);
    this.#drop(1000, "Client closed");
    this.#setStatus("stopped", { reason: "closed" });
  }

  #connect() {
    clearTimeout(this.#retryTimer);
    const url = new URL(this.#url);
    url.searchParams.set("region", this.#regions.join(","));
    url.searchParams.set("since", [...this.#cursors.values()].join(","));
    this.#setStatus(this.#attempt === 0 ? "connecting" : "reconnecting");
    const socket = new this.#WebSocket(url.href);
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.#lastFrameAt = Date.now();
      this.#startHeartbeat();
    };
    socket.onmessage = (event) => this.#receive(String(event.data));
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#stopHeartbeat();
      if (!opened) void this.#afterRefusal(url);
      else if (reconnectAfterClose(event.code)) this.#retry();
      else this.#setStatus("stopped", { code: event.code, reason: event.reason });
    };
  }

  /** @param {string} data */
  #receive(data) {
    this.#lastFrameAt = Date.now();
    /** @type {Record<string, unknown>} */
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    const event = typeof message.event === "string" ? message.event : "";
    if (CONTROL_EVENTS.has(event)) {
      this.#control(event, message);
      return;
    }
    if (typeof message.id === "string") {
      const region = message.id.slice(0, message.id.indexOf(":"));
      let seen = this.#seen.get(region);
      if (seen === undefined) this.#seen.set(region, seen = new Set());
      if (seen.has(message.id)) return;
      seen.add(message.id);
      if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value ?? "");
      this.#cursors.set(region, message.id);
    }
    const name = event === "new_trending" ? "trending" : "message";
    this.dispatchEvent(new CustomEvent(name, { detail: message }));
  }

  /** @param {string} event @param {Record<string, unknown>} message */
  #control(event, message) {
    if (event === "pong") return;
    const region = String(message.region);
    const position = typeof message.position === "string" ? message.position : null;
    if (event === "subscribed") {
      if (position !== null && !this.#cursors.has(region)) this.#cursors.set(region, position);
    } else {
      const recovered = message.recovered === true;
      // Not recovered: start again from where the region is now; the app refreshes its view.
      if (!recovered && position !== null) this.#cursors.set(region, position);
      this.dispatchEvent(
        new CustomEvent("recovery", {
          detail: { region, recovered, replayed: Number(message.replayed ?? 0) },
        }),
      );
    }
    this.#attempt = 0;
    if (this.#status !== "live") this.#setStatus("live");
  }

  /**
   * A handshake failed before opening. Browsers hide the HTTP status, so ask the gateway the same
   * question over plain HTTP: a 400 or 403 will not change by retrying.
   *
   * @param {URL} url
   */
  async #afterRefusal(url) {
    if (this.#isStopped()) return;
    const probe = new URL(url);
    probe.protocol = probe.protocol === "wss:" ? "https:" : "http:";
    try {
      const response = await this.#fetch?.(probe, { cache: "no-store" });
      if (response !== undefined) {
        const body = await response.json().catch(() => ({}));
        if (!reconnectAfterRefusal(response.status, body.error)) {
          if (!this.#isStopped()) {
            this.#setStatus("stopped", { code: response.status, reason: String(body.error ?? "") });
          }
          return;
        }
      }
    } catch {
      // The gateway is unreachable: retry.
    }
    this.#retry();
  }

  /** Whether {@link close} was called or the gateway said not to come back. */
  #isStopped() {
    return this.#status === "stopped";
  }

  #retry() {
    if (this.#isStopped() || this.#offline) return;
    // Full jitter: anywhere between 0 and the exponential ceiling, so clients spread out.
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** this.#attempt);
    const delayMs = Math.round(this.#random() * ceiling);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    this.#setStatus("reconnecting", { delayMs });
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #online() {
    this.#offline = false;
    if (this.#status === "stopped" || this.#socket !== undefined) return;
    this.#attempt = 0;
    this.#connect();
  }

  #offlineNow() {
    this.#offline = true;
    if (this.#status === "stopped") return;
    clearTimeout(this.#retryTimer);
    this.#drop(1000, "Offline");
    this.#setStatus("reconnecting", { reason: "offline" });
  }

  #startHeartbeat() {
    this.#stopHeartbeat();
    if (this.#heartbeatMs <= 0) return;
    this.#heartbeatTimer = setInterval(() => {
      // Nothing at all since the last ping, not even its pong: the connection is dead.
      if (Date.now() - this.#lastFrameAt > this.#heartbeatMs * 1.5) {
        this.#drop(4000, "Heartbeat timeout");
        this.#retry();
        return;
      }
      this.#socket?.send('{"type":"ping"}');
    }, this.#heartbeatMs);
  }

  #stopHeartbeat() {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  /**
   * Lets go of the current socket without waiting for its close event, which a dead connection
   * may take minutes to produce.
   *
   * @param {number} code @param {string} reason
   */
  #drop(code, reason) {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#stopHeartbeat();
    if (socket === undefined) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    try {
      socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  /** @param {Status} status @param {Record<string, unknown>} [detail] */
  #setStatus(status, detail = {}) {
    this.#status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: { status, ...detail } }));
  }
}
