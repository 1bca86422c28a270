/**
 * HTTP routes of the gateway: subscribing (`subscribe.ts`), the page and its assets, `POST /publish`,
 * health, readiness and metrics. Expected failures are JSON answers with a precise status;
 * unexpected ones are logged with context and answered 500, never fatal.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { producersOf } from "../config/publish_tokens.ts";
import { addCorsHeaders } from "./cors.ts";
import { forwardedProtocol } from "../net/trusted_proxies.ts";
import type { Gateway, Readiness } from "../gateway/gateway.ts";
import { errorFields, type Logger } from "../observe/log.ts";
import { mayPublishWithoutToken, mayReadStatus, type PublishPolicy } from "./publish_access.ts";
import { handlePublish } from "./publish_endpoint.ts";
import { json, jsonError } from "./responses.ts";
import { ASSETS, serveAsset } from "./static_assets.ts";
import { eventStream, isUpgrade, probe, type SubscribeContext, upgrade } from "./subscribe.ts";
import type { StatusReport } from "../gateway/report.ts";

/**
 * What `/readyz`, `/metrics` and `/status.json` answer for: the gateway, or with workers the
 * whole process.
 */
export interface ProcessReport {
  readiness(): Promise<Readiness>;
  /** The `/metrics` body and its content type. */
  metrics(): Promise<{ readonly body: string; readonly contentType: string }>;
  /** The status page's figures. */
  status(): Promise<StatusReport>;
}

/** What the routes need. */
export interface HttpContext {
  readonly config: Config;
  readonly gateway: Gateway;
  readonly logger: Logger;
  readonly report: ProcessReport;
}

/**
 * Who sent a request: the TCP peer, and the client (behind a trusted proxy, the one it names);
 * and, when a trusted proxy says, the scheme the browser used.
 */
interface Addresses {
  readonly peer: string;
  readonly client: string;
  readonly protocol: string | null;
}

/** A `Deno.serve` handler. */
export type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Promise<Response>;

function subscribeContext(context: HttpContext): SubscribeContext {
  return { gateway: context.gateway, idleTimeoutSeconds: context.config.idleTimeoutSeconds };
}

/** Who may publish, as the configuration says. */
function publishPolicy(config: Config): PublishPolicy {
  return { producers: producersOf(config), insecureLoopback: config.publishInsecureLoopback };
}

/**
 * What the page needs to know: the regions, and whether this browser may publish without a token
 * (the rule of `publish_access.ts`), to offer the test form.
 */
function pageConfig(request: Request, addresses: Addresses, context: HttpContext): Response {
  const { regions, defaultRegion } = context.config;
  const publish = mayPublishWithoutToken(request, addresses.peer, publishPolicy(context.config));
  // With the embedded broker nothing arrives unless this gateway's own publishers send it: the page
  // then says what to run.
  const embeddedBroker = context.config.redisUrl === null;
  return json(200, { regions, defaultRegion, publish, embeddedBroker });
}

async function ready(context: HttpContext): Promise<Response> {
  const readiness = await context.report.readiness();
  if (readiness.ready) return json(200, { status: "ready" });
  return json(503, { status: "not_ready", reason: readiness.reason });
}

/** The TCP peer and, behind a trusted proxy, the client its `X-Forwarded-For` names. */
function addressesOf(
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  config: Config,
): Addresses {
  const peer = info.remoteAddr.hostname;
  const { trustedProxies } = config;
  const client = trustedProxies.clientAddress(peer, request.headers.get("x-forwarded-for"));
  const protocol = forwardedProtocol(
    trustedProxies,
    peer,
    request.headers.get("x-forwarded-proto"),
  );
  return { peer, client, protocol };
}

async function metrics(context: HttpContext): Promise<Response> {
  const { body, contentType } = await context.report.metrics();
  return new Response(body, { headers: { "content-type": contentType } });
}

/** `/status.json`: for the holders of the status token, and for direct local requests. */
async function status(
  request: Request,
  addresses: Addresses,
  context: HttpContext,
): Promise<Response> {
  const { statusToken, publishToken } = context.config;
  const readers = [statusToken, publishToken].filter((token) => token !== null);
  if (!mayReadStatus(request, addresses.peer, readers)) {
    return jsonError(
      401,
      "unauthorized",
      "The status needs STATUS_TOKEN or PUBLISH_TOKEN (Authorization: Bearer), or a direct " +
        "local request",
      {},
      { "www-authenticate": 'Bearer realm="status"' },
    );
  }
  const response = json(200, await context.report.status());
  response.headers.set("cache-control", "no-store");
  return response;
}

async function route(
  request: Request,
  addresses: Addresses,
  context: HttpContext,
): Promise<Response> {
  const { pathname } = new URL(request.url);
  const isRead = request.method === "GET" || request.method === "HEAD";
  if ((pathname === "/" || pathname === "/ws") && isRead && isUpgrade(request)) {
    return await upgrade(request, addresses, subscribeContext(context));
  }
  if (pathname === "/events") {
    // Not HEAD: a stream whose body is never read would hold its slot until the peer left.
    if (request.method !== "GET") return methodNotAllowed("GET");
    return await eventStream(request, addresses, subscribeContext(context));
  }
  if (pathname === "/publish") {
    if (request.method !== "POST") return methodNotAllowed("POST");
    return await handlePublish(request, addresses, {
      gateway: context.gateway,
      options: {
        policy: publishPolicy(context.config),
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
  return await read(request, addresses, context);
}

type ReadRoute = (
  request: Request,
  addresses: Addresses,
  context: HttpContext,
) => Response | Promise<Response>;

/** `GET` and `HEAD` routes besides the static files. */
const READ_ROUTES: ReadonlyMap<string, ReadRoute> = new Map<string, ReadRoute>([
  ["/ws", (request, addresses, context) => probe(request, addresses, subscribeContext(context))],
  ["/healthz", () => json(200, { status: "ok" })],
  ["/readyz", (_request, _addresses, context) => ready(context)],
  ["/metrics", (_request, _addresses, context) => metrics(context)],
  ["/config.json", pageConfig],
  ["/status.json", status],
]);

function methodNotAllowed(allow: string): Response {
  return jsonError(405, "method_not_allowed", `Allowed: ${allow}`, {}, { allow });
}

/** Builds the request handler of one gateway. */
export function createHandler(context: HttpContext): Handler {
  return async (request, info) => {
    try {
      const addresses = addressesOf(request, info, context.config);
      const response = await route(request, addresses, context);
      if (response.status !== 101) {
        addCorsHeaders(response, request, {
          policy: context.config.allowedOrigins,
          protocol: addresses.protocol,
        });
      }
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
