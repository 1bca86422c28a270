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
 * Where WebSockets cannot get through (a proxy that strips `Upgrade`) it falls back to Server-Sent
 * Events (`GET /events`), with the same frames, cursors and close codes: after
 * {@link FALLBACK_AFTER} WebSocket handshakes in a row fail while the gateway answers plain HTTP.
 * It reads the stream with `fetch` rather than `EventSource`, which hides the status of a refusal,
 * gives up for good on one, and hides the heartbeats that tell a live stream from a dead one. The
 * choice lasts as long as the client: the next page load tries WebSocket again.
 *
 * Where the gateway asks for a connection token, `token` is called for one before the first
 * connection and again whenever the gateway says it expired (close code 4004, or a refusal
 * `token_expired`); the new connection resumes where the old one stopped. The token travels as a
 * WebSocket subprotocol beside `tvs.v1` (a browser cannot set a header on a WebSocket, and it stays
 * out of URLs), and as `?token=` on the event stream and the handshake probe.
 *
 * @module
 */

import { CLOSE_CODES, reconnectAfterClose, reconnectAfterRefusal } from "./close_codes.js";

/**
 * @typedef {"idle" | "connecting" | "live" | "reconnecting" | "stopped"} Status
 * @typedef {"websocket" | "sse"} Transport
 *
 * @typedef {object} TvsClientOptions
 * @property {readonly string[]} regions Regions to follow, such as `["AE"]`.
 * @property {string | URL} [url] WebSocket endpoint. Default: `/ws` on the page's host.
 * @property {string | URL} [eventsUrl] Server-Sent Events endpoint. Default: `/events` on the
 *   host of `url`.
 * @property {"auto" | Transport} [transport] `auto` (the default) falls back from WebSocket to
 *   Server-Sent Events; the others keep to one.
 * @property {number} [baseDelayMs] First reconnect delay ceiling. Default 500.
 * @property {number} [maxDelayMs] Largest reconnect delay. Default 20000.
 * @property {number} [heartbeatMs] Ping interval; 0 disables. Default 25000.
 * @property {typeof WebSocket} [WebSocket] WebSocket implementation. Default: the global one;
 *   Node before 22 has none, so pass the `ws` package's (and on a server, for rendering, a `url`).
 * @property {typeof fetch} [fetch] fetch implementation, to ask why a handshake failed.
 * @property {() => number} [random] Source of jitter in [0, 1). Default: Math.random.
 * @property {() => string | Promise<string>} [token] Gets a connection token (a JWT from the
 *   site's backend), where the gateway asks for one.
 */

const CONTROL_EVENTS = new Set(["subscribed", "recovery", "pong"]);

/** The subprotocol offered beside a token: the gateway answers with it, never with the token. */
const PROTOCOL = "tvs.v1";

/**
 * WebSocket handshakes that fail in a row, while the gateway answers the same request over plain
 * HTTP, before the client falls back to Server-Sent Events.
 */
export const FALLBACK_AFTER = 3;

/** Header in which the gateway names its event stream's heartbeat interval, in ms. */
const HEARTBEAT_HEADER = "tvs-heartbeat-ms";
/** Longest line an event stream may send; a stream past it is broken and dropped. */
const MAX_LINE_LENGTH = 1_048_576;

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
  /** @type {URL} */
  #eventsUrl;
  /** @type {"auto" | Transport} */
  #transportOption;
  /** @type {Transport} */
  #transport;
  /** WebSocket handshakes failed in a row while plain HTTP got through. */
  #socketFailures = 0;
  #baseDelayMs;
  #maxDelayMs;
  #heartbeatMs;
  /** @type {typeof WebSocket} */
  #WebSocket;
  /** @type {typeof fetch | undefined} */
  #fetch;
  #random;
  /** @type {(() => string | Promise<string>) | undefined} */
  #tokenSource;
  /** The token connections are made with, until the gateway says it expired. @type {string | undefined} */
  #token;
  /** Token requests made; an answer to any but the last is stale. */
  #tokenRequests = 0;
  /** @type {Status} */
  #status = "idle";
  /** Per region, the last message id or stream position: where to resume. @type {Map<string, string>} */
  #cursors = new Map();
  /** Per region, the ids received lately, oldest first. @type {Map<string, Set<string>>} */
  #seen = new Map();
  /** @type {WebSocket | undefined} */
  #socket;
  /** Aborts the event stream being read. @type {AbortController | undefined} */
  #stream;
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
    this.#eventsUrl = new URL(options.eventsUrl ?? "/events", httpUrl(this.#url));
    this.#transportOption = options.transport ?? "auto";
    if (!["auto", "websocket", "sse"].includes(this.#transportOption)) {
      throw new TypeError('TvsClient transport must be "auto", "websocket" or "sse"');
    }
    this.#transport = this.#transportOption === "sse" ? "sse" : "websocket";
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
    this.#tokenSource = options.token;
  }

  /** @returns {Status} The connection status. */
  get status() {
    return this.#status;
  }

  /** @returns {Transport} The transport the client connects with now. */
  get transport() {
    return this.#transport;
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
    this.#setStatus(this.#attempt === 0 ? "connecting" : "reconnecting");
    if (this.#tokenSource !== undefined && this.#token === undefined) void this.#fetchToken();
    else this.#open();
  }

  #open() {
    if (this.#transport === "sse") void this.#openStream();
    else this.#openSocket();
  }

  /** Asks `token` for a token, then connects with it; a failure is retried as a refusal would be. */
  async #fetchToken() {
    const request = ++this.#tokenRequests;
    const current = () => request === this.#tokenRequests && !this.#isStopped() && !this.#offline;
    /** @type {string} */
    let token;
    try {
      token = String(await this.#tokenSource?.());
    } catch (error) {
      if (!current()) return;
      this.dispatchEvent(new CustomEvent("tokenerror", { detail: { error } }));
      this.#retry();
      return;
    }
    if (!current()) return;
    this.#token = token;
    this.#open();
  }

  /** @param {URL} url @returns {URL} `url` with the token, for a request that has no other place. */
  #withToken(url) {
    const withToken = new URL(url);
    if (this.#token !== undefined) withToken.searchParams.set("token", this.#token);
    return withToken;
  }

  /** @param {URL} endpoint @returns {URL} `endpoint` asking for the regions, from the cursors. */
  #withQuery(endpoint) {
    const url = new URL(endpoint);
    url.searchParams.set("region", this.#regions.join(","));
    url.searchParams.set("since", [...this.#cursors.values()].join(","));
    return url;
  }

  #openSocket() {
    const url = this.#withQuery(this.#url);
    const protocols = this.#token === undefined ? [] : [PROTOCOL, this.#token];
    const socket = new this.#WebSocket(url.href, protocols);
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.#socketFailures = 0;
      this.#lastFrameAt = Date.now();
      this.#startHeartbeat();
    };
    socket.onmessage = (event) => this.#receive(String(event.data));
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#stopHeartbeat();
      if (!opened) void this.#afterRefusal(url);
      else this.#closed(event.code, event.reason);
    };
  }

  /** Reads the event stream until it ends, is refused, or is dropped. */
  async #openStream() {
    const url = this.#withToken(this.#withQuery(this.#eventsUrl));
    const stream = new AbortController();
    this.#stream = stream;
    const current = () => this.#stream === stream;
    /** @type {Response} */
    let response;
    try {
      response = await (this.#fetch ?? fetch)(url, {
        signal: stream.signal,
        cache: "no-store",
        headers: { accept: "text/event-stream" },
      });
    } catch {
      if (!current()) return;
      this.#stream = undefined;
      // Unreachable, or refused to this origin (unreadable): the probe tells which.
      void this.#afterRefusal(this.#withQuery(this.#url));
      return;
    }
    if (!current()) return;
    if (!response.ok || response.body === null) {
      this.#stream = undefined;
      const body = await response.json().catch(() => ({}));
      this.#refused(response.status, body.error);
      return;
    }
    this.#lastFrameAt = Date.now();
    this.#watchStream(Number(response.headers.get(HEARTBEAT_HEADER)) || this.#heartbeatMs);
    /** @type {{ code: number, reason: string } | undefined} */
    let close;
    const read = eventStreamReader((event, data) => {
      if (event === "close") close = parseClose(data);
      else if (event === "message") this.#receive(data);
      return close === undefined && current();
    });
    try {
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (let more = true; more;) {
        const { value, done } = await reader.read();
        if (done || !current()) break;
        this.#lastFrameAt = Date.now();
        more = read(value);
      }
      if (!current()) void reader.cancel().catch(() => {});
    } catch {
      // Cut, or dropped by this client: handled below.
    }
    if (!current()) return;
    this.#stream = undefined;
    stream.abort();
    this.#stopHeartbeat();
    // A stream that ends without a close event was cut.
    this.#closed(close?.code ?? 1006, close?.reason ?? "");
  }

  /**
   * The connection closed with `code` after it had opened: reconnect, or stop as the code says.
   *
   * @param {number} code @param {string} reason
   */
  #closed(code, reason) {
    if (code === CLOSE_CODES.tokenExpired.code) this.#token = undefined;
    if (reconnectAfterClose(code)) this.#retry();
    else this.#setStatus("stopped", { code, reason });
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
    const probe = this.#withToken(url);
    probe.protocol = probe.protocol === "wss:" ? "https:" : "http:";
    try {
      const response = await this.#fetch?.(probe, { cache: "no-store" });
      if (response !== undefined) {
        const body = await response.json().catch(() => ({}));
        // 426: the gateway would take this handshake, so something between lets HTTP through but
        // not the WebSocket.
        if (response.status === 426 && this.#transport === "websocket") this.#socketFailed();
        else return this.#refused(response.status, body.error);
      }
    } catch {
      // The gateway is unreachable: retry.
    }
    this.#retry();
  }

  /**
   * The gateway refused with HTTP `status` and `error`: retry, or stop as the table says.
   *
   * @param {number} status @param {unknown} error
   */
  #refused(status, error) {
    if (this.#isStopped()) return;
    if (error === "token_expired") this.#token = undefined;
    if (reconnectAfterRefusal(status, error)) this.#retry();
    else this.#setStatus("stopped", { code: status, reason: String(error ?? "") });
  }

  /** A WebSocket handshake failed although HTTP gets through: after a few, use the stream. */
  #socketFailed() {
    this.#socketFailures++;
    if (this.#transportOption !== "auto" || this.#socketFailures < FALLBACK_AFTER) return;
    this.#transport = "sse";
    this.#attempt = 0;
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
    if (this.#status === "stopped" || this.#socket !== undefined || this.#stream !== undefined) {
      return;
    }
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

  /**
   * Drops a stream that stays silent for two of the gateway's heartbeat intervals.
   *
   * @param {number} intervalMs
   */
  #watchStream(intervalMs) {
    this.#stopHeartbeat();
    if (this.#heartbeatMs <= 0) return;
    this.#heartbeatTimer = setInterval(() => {
      if (Date.now() - this.#lastFrameAt <= intervalMs * 2) return;
      this.#drop(4000, "Heartbeat timeout");
      this.#retry();
    }, intervalMs);
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
    this.#stream?.abort();
    this.#stream = undefined;
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
    const transport = this.#transport;
    this.dispatchEvent(new CustomEvent("status", { detail: { status, transport, ...detail } }));
  }
}

/** @param {URL} url @returns {URL} `url` with its WebSocket scheme as HTTP's. */
function httpUrl(url) {
  const http = new URL(url);
  if (http.protocol === "ws:") http.protocol = "http:";
  if (http.protocol === "wss:") http.protocol = "https:";
  return http;
}

/**
 * The close code and reason of a stream's `close` event (`{"code":1012,"reason":"…"}`).
 *
 * @param {string} data @returns {{ code: number, reason: string }}
 */
function parseClose(data) {
  try {
    const { code, reason } = JSON.parse(data);
    return { code: Number.isInteger(code) ? code : 1006, reason: String(reason ?? "") };
  } catch {
    return { code: 1006, reason: "" };
  }
}

/**
 * Reads `text/event-stream` text as the HTML standard parses it (fields, comments, an event at
 * each blank line), for the gateway's stream: lines end with LF (a CR before it is dropped).
 * Returns a function taking the next piece of text; it hands each event's name and data to
 * `dispatch`, and returns `false` once `dispatch` has, or the stream is broken.
 *
 * @param {(event: string, data: string) => boolean} dispatch
 * @returns {(text: string) => boolean}
 */
function eventStreamReader(dispatch) {
  let pending = "";
  let event = "";
  /** @type {string[]} */
  let data = [];
  return (text) => {
    const lines = (pending + text).split("\n");
    pending = lines.pop() ?? "";
    if (pending.length > MAX_LINE_LENGTH) return false;
    for (const raw of lines) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line === "") {
        const name = event || "message";
        const complete = data.length > 0;
        const joined = data.join("\n");
        event = "";
        data = [];
        if (complete && !dispatch(name, joined)) return false;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + (line[colon + 1] === " " ? 2 : 1));
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
    }
    return true;
  };
}
