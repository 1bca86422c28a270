/**
 * The ways a client subscribes, each after the same handshake checks (`gateway/handshake.ts`): the
 * WebSocket upgrade, the Server-Sent Events stream, and the probe that tells a browser what its
 * failed handshake was told.
 *
 * @module
 */

import { HEARTBEAT_HEADER } from "../delivery/event_stream.ts";
import type { Gateway } from "../gateway/gateway.ts";
import type { HandshakeRequest, RefusedHandshake } from "../gateway/handshake.ts";
import { jsonError } from "./responses.ts";

/**
 * Who asks: the client (behind a trusted proxy, the one it names) and, when a trusted proxy says,
 * the scheme the browser used.
 */
export interface Subscriber {
  readonly client: string;
  readonly protocol: string | null;
}

/** What the subscribe routes need. */
export interface SubscribeContext {
  readonly gateway: Gateway;
  /** A WebSocket that answers no ping for this long is closed. */
  readonly idleTimeoutSeconds: number;
}

/** The JSON answer of a refused handshake. */
function refuse(verdict: RefusedHandshake): Response {
  return jsonError(
    verdict.refusal.status,
    verdict.refusal.error,
    verdict.message,
    verdict.extra,
    verdict.headers,
  );
}

/** Whether `request` asks for a WebSocket upgrade. */
export function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

function handshakeRequest(
  request: Request,
  from: Subscriber,
  upgrading: boolean,
): HandshakeRequest {
  const params = new URL(request.url).searchParams;
  // An EventSource that reconnects sends where it stands in this header, with the URL it first
  // used: the header is the newer cursor.
  const lastEventId = request.headers.get("last-event-id");
  if (lastEventId !== null && !upgrading) params.set("since", lastEventId);
  return {
    params,
    token: params.get("token") ?? protocolToken(request),
    origin: request.headers.get("origin"),
    host: request.headers.get("host") ?? "",
    protocol: from.protocol,
    address: from.client,
    version: upgrading ? request.headers.get("sec-websocket-version") ?? "" : null,
  };
}

/** The subprotocol the gateway speaks; a browser offers it beside a token (`tvs-client.js`). */
const PROTOCOL = "tvs.v1";
/** A JWT: three base64url parts (the last may be empty only for `alg: none`, refused later). */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** The offered WebSocket subprotocols. */
function protocols(request: Request): string[] {
  const header = request.headers.get("sec-websocket-protocol") ?? "";
  return header.split(",").map((protocol) => protocol.trim()).filter(Boolean);
}

/**
 * The token among the offered subprotocols: a browser cannot set a header on a WebSocket, and a
 * token there stays out of URLs and access logs.
 */
function protocolToken(request: Request): string | null {
  return protocols(request).find((protocol) => JWT.test(protocol)) ?? null;
}

/** A WebSocket upgrade, once its handshake passes every check and takes its slot. */
export async function upgrade(
  request: Request,
  from: Subscriber,
  context: SubscribeContext,
): Promise<Response> {
  const { gateway } = context;
  const address = from.client;
  const verdict = await gateway.handshake(handshakeRequest(request, from, true), {
    reserve: true,
  });
  if (!verdict.ok) return refuse(verdict);
  let upgraded: { socket: WebSocket; response: Response };
  try {
    // One timeout for all: Deno pings each socket from its own timer, and sockets that share the
    // duration and connected together are pinged in the same event-loop turn. A timeout spread
    // per connection (tried) made every ping a wakeup of its own, and idle CPU grew with it.
    // Pings come no closer together than the handshakes did, and cost less.
    // Chromium fails a handshake whose answer names no protocol when it offered some: the answer
    // names tvs.v1, never the token.
    const protocol = protocols(request).includes(PROTOCOL) ? { protocol: PROTOCOL } : {};
    upgraded = Deno.upgradeWebSocket(request, {
      idleTimeout: context.idleTimeoutSeconds,
      ...protocol,
    });
  } catch (error) {
    gateway.cancel(address);
    return jsonError(
      400,
      "bad_upgrade",
      `Invalid WebSocket handshake: ${(error as Error).message}`,
    );
  }
  gateway.accept(upgraded.socket, verdict, address);
  return upgraded.response;
}

/**
 * `GET /events`: the WebSocket handshake's checks (and its connection slot), answered with a
 * Server-Sent Events stream of the same frames.
 */
export async function eventStream(
  request: Request,
  from: Subscriber,
  context: SubscribeContext,
): Promise<Response> {
  const { gateway } = context;
  const verdict = await gateway.handshake(handshakeRequest(request, from, false), {
    reserve: true,
  });
  if (!verdict.ok) return refuse(verdict);
  const response = gateway.openStream(verdict, from.client);
  response.headers.set("access-control-expose-headers", HEARTBEAT_HEADER);
  return response;
}

/** `GET /ws` without an upgrade: the same checks, so a client can learn why it was refused. */
export async function probe(
  request: Request,
  from: Subscriber,
  context: SubscribeContext,
): Promise<Response> {
  const verdict = await context.gateway.handshake(
    handshakeRequest(request, from, false),
    { reserve: false },
  );
  if (!verdict.ok) return refuse(verdict);
  return jsonError(426, "upgrade_required", "Connect with a WebSocket", { upgrade: "websocket" });
}
