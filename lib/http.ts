/**
 * HTTP routes of the gateway: the WebSocket upgrade, the page and its assets, `POST /publish`,
 * health, readiness and metrics. Expected failures are JSON answers with a precise status;
 * unexpected ones are logged with context and answered 500, never fatal.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { Gateway, HandshakeRequest } from "./gateway.ts";
import type { RefusedHandshake } from "./handshake.ts";
import { errorFields, type Logger } from "./log.ts";
import { isLoopback } from "./loopback.ts";
import { handlePublish } from "./publish_endpoint.ts";
import { json, jsonError } from "./responses.ts";
import { ASSETS, serveAsset } from "./static_assets.ts";

/** What the routes need. */
export interface HttpContext {
  readonly config: Config;
  readonly gateway: Gateway;
  readonly logger: Logger;
}

/** A `Deno.serve` handler. */
export type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Promise<Response>;

function refuse(verdict: RefusedHandshake): Response {
  return jsonError(verdict.refusal.status, verdict.refusal.error, verdict.message, verdict.extra);
}

function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

function handshakeRequest(request: Request, address: string): HandshakeRequest {
  return {
    params: new URL(request.url).searchParams,
    origin: request.headers.get("origin"),
    host: request.headers.get("host") ?? "",
    address,
  };
}

function upgrade(request: Request, address: string, context: HttpContext): Response {
  const { gateway, config } = context;
  const verdict = gateway.handshake(handshakeRequest(request, address), { reserve: true });
  if (!verdict.ok) return refuse(verdict);
  let upgraded: { socket: WebSocket; response: Response };
  try {
    // One timeout for all: Deno pings each socket from its own timer, and sockets that share the
    // duration and connected together are pinged in the same event-loop turn. A timeout spread by
    // ±10% per connection (tried) made every ping a wakeup of its own: 2.1–2.6× the idle CPU at
    // 10,000 connections. Pings come no closer together than the handshakes did, and cost less.
    upgraded = Deno.upgradeWebSocket(request, { idleTimeout: config.idleTimeoutSeconds });
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

/** `GET /ws` without an upgrade: the same checks, so a client can learn why it was refused. */
function probe(request: Request, address: string, context: HttpContext): Response {
  const verdict = context.gateway.handshake(handshakeRequest(request, address), {
    reserve: false,
  });
  if (!verdict.ok) return refuse(verdict);
  return jsonError(426, "upgrade_required", "Connect with a WebSocket", { upgrade: "websocket" });
}

/**
 * What the page needs to know: the regions, and whether this browser may publish (local mode:
 * no `PUBLISH_TOKEN`, and a loopback client), to offer the test form.
 */
function pageConfig(address: string, context: HttpContext): Response {
  const { regions, defaultRegion, publishToken } = context.config;
  return json(200, {
    regions,
    defaultRegion,
    publish: publishToken === null && isLoopback(address),
  });
}

function ready(context: HttpContext): Response {
  if (context.gateway.draining) return json(503, { status: "not_ready", reason: "draining" });
  const state = context.gateway.broker.state;
  if (state === "ready") return json(200, { status: "ready" });
  return json(503, { status: "not_ready", reason: `broker_${state}` });
}

/** The client's address: the peer's, or behind a trusted proxy the last `X-Forwarded-For` hop. */
function clientAddress(
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return info.remoteAddr.hostname;
}

async function metrics(context: HttpContext): Promise<Response> {
  const body = await context.gateway.metrics.render();
  return new Response(body, {
    headers: { "content-type": context.gateway.metrics.registry.contentType },
  });
}

async function route(
  request: Request,
  remoteAddress: string,
  context: HttpContext,
): Promise<Response> {
  const { pathname } = new URL(request.url);
  const isRead = request.method === "GET" || request.method === "HEAD";
  if ((pathname === "/" || pathname === "/ws") && isRead && isUpgrade(request)) {
    return upgrade(request, remoteAddress, context);
  }
  if (pathname === "/publish") {
    if (request.method !== "POST") return methodNotAllowed("POST");
    return await handlePublish(request, remoteAddress, {
      gateway: context.gateway,
      options: {
        token: context.config.publishToken,
        regions: context.config.regions,
        maxBytes: context.config.maxMessageBytes,
      },
    });
  }
  const asset = ASSETS.get(pathname);
  const read: ReadRoute | undefined = asset !== undefined
    ? () => serveAsset(request, asset)
    : READ_ROUTES.get(pathname);
  if (read === undefined) return jsonError(404, "not_found", `No route for ${pathname}`);
  if (!isRead) return methodNotAllowed("GET, HEAD");
  return await read(request, remoteAddress, context);
}

type ReadRoute = (
  request: Request,
  address: string,
  context: HttpContext,
) => Response | Promise<Response>;

/** `GET` and `HEAD` routes besides the static files. */
const READ_ROUTES: ReadonlyMap<string, ReadRoute> = new Map<string, ReadRoute>([
  ["/ws", probe],
  ["/healthz", () => json(200, { status: "ok" })],
  ["/readyz", (_request, _address, context) => ready(context)],
  ["/metrics", (_request, _address, context) => metrics(context)],
  ["/config.json", (_request, address, context) => pageConfig(address, context)],
]);

function methodNotAllowed(allow: string): Response {
  return jsonError(405, "method_not_allowed", `Allowed: ${allow}`, {}, { allow });
}

/** Builds the request handler of one gateway. */
export function createHandler(context: HttpContext): Handler {
  return async (request, info) => {
    try {
      const address = clientAddress(request, info, context.config.trustProxy);
      const response = await route(request, address, context);
      // A draining gateway keeps no idle keep-alive connection open: they would hold up its stop.
      if (context.gateway.draining && response.status !== 101) {
        response.headers.set("connection", "close");
      }
      return response;
    } catch (error) {
      context.logger.error("request failed", {
        method: request.method,
        path: new URL(request.url).pathname,
        ...errorFields(error),
      });
      return jsonError(500, "internal_error", "Internal error");
    }
  };
}
