/**
 * Types of the browser client of the tvs-realtime gateway (`tvs-client.js`, served by the
 * gateway at `/tvs-client.js`, this file at `/tvs-client.d.ts`).
 *
 * ```ts
 * import { TvsClient } from "https://ws.trendvidstream.com/tvs-client.js";
 *
 * const client = new TvsClient({ url: "wss://ws.trendvidstream.com/ws", regions: ["AE"] });
 * client.addEventListener("trending", (event) => {
 *   showToast(event.detail.title, event.detail.dir); // a TrendingMessage
 * });
 * client.addEventListener("recovery", (event) => {
 *   if (!event.detail.recovered) refreshTrendingList(event.detail.region);
 * });
 * client.start();
 * ```
 *
 * @module
 */

/** Where the connection stands; every change is a `status` event. */
export type Status = "idle" | "connecting" | "live" | "reconnecting" | "stopped";

/** How the client is connected: a WebSocket, or a Server-Sent Events stream. */
export type Transport = "websocket" | "sse";

/**
 * WebSocket handshakes that fail in a row, while the gateway answers the same request over plain
 * HTTP, before a client with `transport: "auto"` falls back to Server-Sent Events.
 */
export declare const FALLBACK_AFTER: 3;

/** Options of {@link TvsClient}. */
export interface TvsClientOptions {
  /** Regions to follow, such as `["AE"]` (case-insensitive); at least one. */
  readonly regions: readonly string[];
  /**
   * WebSocket endpoint; `http(s):` becomes `ws(s):`. Needed outside a browser.
   * @default `/ws` on the page's host
   */
  readonly url?: string | URL;
  /**
   * Server-Sent Events endpoint, for the fallback.
   * @default `/events` on the host of `url`
   */
  readonly eventsUrl?: string | URL;
  /**
   * `auto` starts with WebSocket and falls back to Server-Sent Events after
   * {@link FALLBACK_AFTER} failed handshakes (for the life of the client); the others keep to one.
   * @default "auto"
   */
  readonly transport?: "auto" | Transport;
  /** Ceiling of the first reconnect delay, in ms. @default 500 */
  readonly baseDelayMs?: number;
  /** Largest reconnect delay, in ms. @default 20000 */
  readonly maxDelayMs?: number;
  /** Ping interval in ms; `0` disables the heartbeat. @default 25000 */
  readonly heartbeatMs?: number;
  /**
   * WebSocket implementation. Node before 22 has none: pass the `ws` package's `WebSocket`.
   * @default the global `WebSocket`
   */
  readonly WebSocket?: typeof WebSocket;
  /** fetch implementation, to ask the gateway why a handshake failed. @default the global `fetch` */
  readonly fetch?: typeof fetch;
  /** Source of reconnect jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
  /**
   * Gets a connection token (a JWT from the site's own backend) where the gateway requires one:
   * called before the first connection and again whenever the gateway says the token expired
   * (close code 4004 or the refusal `token_expired`). A failure is retried with the backoff, and
   * told as a `tokenerror` event.
   */
  readonly token?: () => string | Promise<string>;
}

/** Every message the gateway sends: its fields as the producer published them, normalised. */
export interface GatewayMessage {
  /** The message's id, `<REGION>:<16 hex digits>`: where a reconnecting client resumes. */
  readonly id: string;
  /** What happened, `^[a-z][a-z0-9_]{0,63}$`. */
  readonly event: string;
  /** The region, upper case. */
  readonly region: string;
  /** Fields beyond the contract pass through unchanged. */
  readonly [field: string]: unknown;
}

/** A newly trending video (`"event": "new_trending"`): the `trending` event's detail. */
export interface TrendingMessage extends GatewayMessage {
  /** Always `new_trending`. */
  readonly event: "new_trending";
  /** The video, 1–64 characters. */
  readonly video_id: string;
  /** The title, 1–500 characters, exactly as published (NFC). */
  readonly title: string;
  /** The title's direction, from its first strong character: show it with `dir={dir}`. */
  readonly dir: "ltr" | "rtl";
  /** The producer's right-to-left flag (set from `dir` when the producer sent none). */
  readonly rtl: boolean;
  /** An absolute `https:` URL; an unsafe one is removed before it reaches the client. */
  readonly thumbnail?: string;
  /** The channel's name. */
  readonly channel?: string;
  /** When the producer published it, in Unix seconds. */
  readonly ts?: number;
}

/** The `status` event's detail: the new status and, where there is one, why. */
export interface StatusDetail {
  /** The status the client is in now. */
  readonly status: Status;
  /** The transport of the connection this status is about. */
  readonly transport: Transport;
  /** With `reconnecting`: the delay before the next attempt, in ms. */
  readonly delayMs?: number;
  /** With `stopped`: the close code, or the HTTP status of a refused handshake. */
  readonly code?: number;
  /**
   * With `stopped`: the close reason or the refusal's `error` (`origin_not_allowed`, …), or
   * `closed` after {@link TvsClient.close}; `offline` while the browser is offline.
   */
  readonly reason?: string;
}

/** The `recovery` event's detail: how a reconnection caught up on a region. */
export interface RecoveryDetail {
  /** The region caught up on. */
  readonly region: string;
  /**
   * `true`: every message published while away was replayed (`replayed` of them). `false`: the
   * history no longer covers the gap; refresh what the page shows of the region.
   */
  readonly recovered: boolean;
  /** Messages replayed, each also delivered as its own event. */
  readonly replayed: number;
}

/** The events of a {@link TvsClient}, by name. */
export interface TvsClientEventMap {
  /** A `new_trending` message. */
  trending: CustomEvent<TrendingMessage>;
  /** Any other event a producer published. */
  message: CustomEvent<GatewayMessage>;
  /** The connection's status changed. */
  status: CustomEvent<StatusDetail>;
  /** After a reconnection, per region: whether nothing was missed. */
  recovery: CustomEvent<RecoveryDetail>;
  /** The `token` callback failed (threw or rejected); the client retries with the backoff. */
  tokenerror: CustomEvent<{ readonly error: unknown }>;
}

/**
 * A connection to the gateway that survives network changes, restarts and deploys: it reconnects
 * with exponential backoff and full jitter (never after a "do not reconnect" close code or
 * refusal), resumes from the last id of each region, drops repeats, and pings to notice a dead
 * connection; where WebSockets cannot get through, it falls back to Server-Sent Events.
 */
export declare class TvsClient extends EventTarget {
  /** A client of `options.regions`; nothing connects before {@link start}. */
  constructor(options: TvsClientOptions);

  /** Where the connection stands. */
  readonly status: Status;

  /** The transport the client connects with now. */
  readonly transport: Transport;

  /** Per region, the id (or stream position) the client would resume from. */
  readonly lastIds: Readonly<Record<string, string>>;

  /** Connects, and keeps connecting until {@link close}. */
  start(): void;

  /**
   * Follows `regions` from now on, over a new connection if one is up or being made: the regions
   * it keeps resume from their cursors, so none of their messages is lost; new ones start live.
   */
  setRegions(regions: readonly string[]): void;

  /** Disconnects for good (status `stopped`, reason `closed`). */
  close(): void;

  /** Listens to one of the client's events, with its typed `detail`. */
  addEventListener<K extends keyof TvsClientEventMap>(
    type: K,
    listener: (this: TvsClient, event: TvsClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Listens to any event, as on every `EventTarget`. */
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;

  /** Stops listening to one of the client's events. */
  removeEventListener<K extends keyof TvsClientEventMap>(
    type: K,
    listener: (this: TvsClient, event: TvsClientEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Stops listening to any event, as on every `EventTarget`. */
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
