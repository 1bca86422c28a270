/**
 * `POST /publish`: the HTTP way to publish, with the same contract as `PUBLISH` on Redis. The
 * message goes through the configured broker, so with Redis every gateway instance gets it. Who
 * may publish is `publish_access.ts`'s call. `Content-Type: application/json` is required, so a
 * cross-site page cannot publish with a "simple" form post. Every answer is counted by its
 * `result` (`tvs_publish_requests_total`), and refusals are logged in aggregate.
 *
 * @module
 */

import type { Gateway } from "../gateway/gateway.ts";
import { checkPublishAccess, type PublishPolicy } from "./publish_access.ts";
import { json, jsonError } from "./responses.ts";

/** Options of {@link handlePublish}. */
export interface PublishEndpointOptions {
  /** Who may publish. */
  readonly policy: PublishPolicy;
  /** Configured regions. */
  readonly regions: readonly string[];
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
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

/**
 * Answers one `POST /publish`. `addresses.peer` is the TCP peer (what access is decided on),
 * `addresses.client` the client behind any trusted proxy (what logs name).
 */
export async function handlePublish(
  request: Request,
  addresses: { readonly peer: string; readonly client: string },
  context: { readonly gateway: Gateway; readonly options: PublishEndpointOptions },
): Promise<Response> {
  const { gateway, options } = context;
  let producer: string | null = null;
  const refuse = (
    status: number,
    error: string,
    message: string,
    extra: Readonly<Record<string, unknown>> = {},
    headers: HeadersInit = {},
  ) => {
    gateway.publishAnswered(error, producer, { address: addresses.client, detail: message });
    return jsonError(status, error, message, extra, headers);
  };
  const access = checkPublishAccess(request, addresses.peer, options.policy);
  if ("error" in access) {
    const challenge = access.status === 401 ? { "www-authenticate": 'Bearer realm="publish"' } : {};
    return refuse(access.status, access.error, access.message, {}, challenge);
  }
  producer = access.producer;
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return refuse(415, "unsupported_media_type", "Expected Content-Type: application/json");
  }
  const payload = await readLimited(request, options.maxBytes);
  if (payload === null) {
    return refuse(413, "too_large", `Body exceeds ${options.maxBytes} bytes`);
  }
  const queryRegion = new URL(request.url).searchParams.get("region")?.trim().toUpperCase();
  const verdict = gateway.validate(payload, queryRegion || null);
  if (!verdict.ok) {
    return refuse(400, "invalid_message", verdict.detail, { reason: verdict.reason });
  }
  const { region, body, dedupeKey } = verdict.message;
  if (!options.regions.includes(region)) {
    return refuse(400, "unknown_region", `Unknown region "${region.slice(0, 16)}"`, {
      regions: options.regions,
    });
  }
  if (access.regions !== null && !access.regions.includes(region)) {
    return refuse(403, "region_not_allowed", `${producer} may not publish to ${region}`, {
      regions: access.regions,
    });
  }
  const { id, repeats } = gateway.preview(region, body, dedupeKey);
  if (repeats !== undefined) {
    // Published, every gateway would drop it: say so rather than answer 202 for a toast that
    // never comes.
    gateway.publishAnswered("duplicate", producer);
    return json(200, { published: false, duplicate: true, id, duplicate_of: repeats, region });
  }
  let receivers: number;
  try {
    receivers = await gateway.publish(region, body);
  } catch {
    return refuse(503, "broker_unavailable", "The broker cannot take publications right now");
  }
  gateway.publishAnswered("published", producer);
  return json(202, {
    published: true,
    duplicate: false,
    id,
    region,
    receivers,
    message: JSON.parse(body),
  });
}
