/**
 * The files under `static/`, imported as text so they are part of the module graph: `deno run`
 * and a `deno compile` binary serve the same bytes, with no file-system access at run time. Each
 * is served with its type, an ETag, and a strict Content-Security-Policy.
 *
 * @module
 */

import { createHash } from "node:crypto";
import appJs from "../../static/app.js" with { type: "text" };
import closeCodesJs from "../client/close_codes.js" with { type: "text" };
import faviconSvg from "../../static/favicon.svg" with { type: "text" };
import indexHtml from "../../static/index.html" with { type: "text" };
import statusCss from "../../static/status.css" with { type: "text" };
import statusHtml from "../../static/status.html" with { type: "text" };
import statusJs from "../../static/status.js" with { type: "text" };
import styleCss from "../../static/style.css" with { type: "text" };
import themeCss from "../../static/theme.css" with { type: "text" };
import clientTypes from "../client/tvs-client.d.ts" with { type: "text" };
import clientJs from "../client/tvs-client.js" with { type: "text" };
import { demoThumbnails } from "./demo_thumbnails.ts";

/** One servable file. */
export interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
  /** Strong validator derived from the content. */
  readonly etag: string;
  /** Headers of this file alone. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Scripts, styles and connections only to this origin; images from it (the icon), over https
 * (thumbnails come from the publishers' CDNs) and from a local gateway (the demo's, which a page
 * opened at 127.0.0.1 gets from localhost); no plugins, no framing, no base rewriting.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' https: http://localhost:* http://127.0.0.1:*",
  "connect-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const encoder = new TextEncoder();

function asset(
  text: string,
  contentType: string,
  headers: Readonly<Record<string, string>> = {},
): Asset {
  const body = encoder.encode(text);
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
  return { body, contentType, etag: `"${hash}"`, headers };
}

const JAVASCRIPT = "text/javascript; charset=utf-8";

/** Assets by URL path. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", asset(indexHtml, "text/html; charset=utf-8")],
  ["/app.js", asset(appJs, JAVASCRIPT)],
  ["/style.css", asset(styleCss, "text/css; charset=utf-8")],
  ["/theme.css", asset(themeCss, "text/css; charset=utf-8")],
  // Deno and TypeScript tooling that import the library by URL find its types from the header.
  ["/tvs-client.js", asset(clientJs, JAVASCRIPT, { "x-typescript-types": "/tvs-client.d.ts" })],
  ["/tvs-client.d.ts", asset(clientTypes, "application/typescript; charset=utf-8")],
  ["/close_codes.js", asset(closeCodesJs, JAVASCRIPT)],
  ["/favicon.svg", asset(faviconSvg, "image/svg+xml")],
  // The operators' page; its figures come from /status.json, which checks who asks.
  ["/status", asset(statusHtml, "text/html; charset=utf-8")],
  ["/status.js", asset(statusJs, JAVASCRIPT)],
  ["/status.css", asset(statusCss, "text/css; charset=utf-8")],
  ...demoThumbnails().map(([path, svg]): [string, Asset] => [path, asset(svg, "image/svg+xml")]),
]);

/** Answers a `GET` or `HEAD` for `asset`, with `304 Not Modified` when the ETag matches. */
export function serveAsset(request: Request, asset: Asset): Response {
  const headers = new Headers({
    "content-type": asset.contentType,
    etag: asset.etag,
    // Revalidate every time: a deploy changes the bytes under the same names.
    "cache-control": "no-cache",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    ...asset.headers,
  });
  if (request.headers.get("if-none-match") === asset.etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : asset.body, { headers });
}
