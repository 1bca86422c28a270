/**
 * The files under `static/`, imported as text so they are part of the module graph: `deno run`
 * and a `deno compile` binary serve the same bytes, with no file-system access at run time.
 *
 * @module
 */

import { createHash } from "node:crypto";
import closeCodesJs from "../static/close_codes.js" with { type: "text" };
import indexHtml from "../static/index.html" with { type: "text" };
import clientJs from "../static/tvs-client.js" with { type: "text" };

/** One servable file. */
export interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
  /** Strong validator derived from the content. */
  readonly etag: string;
}

const encoder = new TextEncoder();

function asset(text: string, contentType: string): Asset {
  const body = encoder.encode(text);
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
  return { body, contentType, etag: `"${hash}"` };
}

/** Assets by URL path. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", asset(indexHtml, "text/html; charset=utf-8")],
  ["/close_codes.js", asset(closeCodesJs, "text/javascript; charset=utf-8")],
  ["/tvs-client.js", asset(clientJs, "text/javascript; charset=utf-8")],
]);

/** Answers a `GET` or `HEAD` for `asset`, with `304 Not Modified` when the ETag matches. */
export function serveAsset(request: Request, asset: Asset): Response {
  const headers = new Headers({
    "content-type": asset.contentType,
    etag: asset.etag,
    // Revalidate every time: a deploy changes the bytes under the same names.
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  if (request.headers.get("if-none-match") === asset.etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : asset.body, { headers });
}
