/**
 * `POST /publish`: the HTTP way to publish, with the same contract as `PUBLISH` on Redis. The
 * message goes through the configured broker, so with Redis every gateway instance gets it.
 *
 * Authorisation: with `PUBLISH_TOKEN` set, `Authorization: Bearer <token>` is required (compared in
 * constant time); without it only loopback clients may publish. `Content-Type: application/json`
 * is required, so a cross-site page cannot publish with a "simple" form post.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { Gateway } from "./gateway.ts";
import { isLoopback } from "./loopback.ts";
import { json, jsonError } from "./responses.ts";

/** Options of {@link handlePublish}. */
export interface PublishEndpointOptions {
  /** Required bearer token; `null` allows loopback clients only. */
  readonly token: string | null;
  /** Configured regions. */
  readonly regions: readonly string[];
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
}

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison that does not leak the token's length either. */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function authorize(
  request: Request,
  remoteAddress: string,
  token: string | null,
): Response | undefined {
  if (token === null) {
    if (isLoopback(remoteAddress)) return undefined;
    return jsonError(
      403,
      "forbidden",
      "Publishing over HTTP is open to loopback clients only; set PUBLISH_TOKEN to allow others",
    );
  }
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match?.[1] !== undefined && sameToken(match[1], token)) return undefined;
  return jsonError(401, "unauthorized", "Missing or wrong bearer token");
}

/** Reads at most `limit` bytes of the body; `null` when it is longer. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) return null;
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Answers one `POST /publish`. */
export async function handlePublish(
  request: Request,
  remoteAddress: string,
  context: { readonly gateway: Gateway; readonly options: PublishEndpointOptions },
): Promise<Response> {
  const { gateway, options } = context;
  const denied = authorize(request, remoteAddress, options.token);
  if (denied !== undefined) return denied;
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return jsonError(415, "unsupported_media_type", "Expected Content-Type: application/json");
  }
  const payload = await readLimited(request, options.maxBytes);
  if (payload === null) {
    return jsonError(413, "too_large", `Body exceeds ${options.maxBytes} bytes`);
  }
  const queryRegion = new URL(request.url).searchParams.get("region")?.trim().toUpperCase();
  const verdict = gateway.validate(payload, queryRegion || null);
  if (!verdict.ok) {
    return jsonError(400, "invalid_message", verdict.detail, { reason: verdict.reason });
  }
  const { region, body } = verdict.message;
  if (!options.regions.includes(region)) {
    return jsonError(400, "unknown_region", `Unknown region "${region.slice(0, 16)}"`, {
      regions: options.regions,
    });
  }
  let receivers: number;
  try {
    receivers = await gateway.broker.publish(region, body);
  } catch {
    return jsonError(503, "broker_unavailable", "The broker cannot take publications right now");
  }
  return json(202, { published: true, region, receivers, message: JSON.parse(body) });
}
