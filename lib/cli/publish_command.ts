/**
 * The reference publisher, `tvs-realtime publish`: builds a `new_trending` message, checks it
 * against the same contract the gateway enforces, and publishes it to Redis (`PUBLISH
 * <prefix><REGION>`) or to a gateway's `POST /publish`. It prints what it sent, or why it refused.
 *
 * @module
 */

import { publishOnce } from "../brokers/redis_publisher.ts";
import type { PublishRequest } from "./cli.ts";
import type { Config } from "../config/config.ts";
import { parsePublication } from "../contract/message.ts";

/** Where a command writes: `out` for its results, `err` for refusals and errors. */
export interface CommandOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** The message `request` describes, stamped with the current time. */
export function buildMessage(request: PublishRequest, now = Date.now()): Record<string, unknown> {
  return {
    event: "new_trending",
    region: request.region.toUpperCase(),
    video_id: request.videoId,
    title: request.title,
    ...(request.thumbnail !== undefined && { thumbnail: request.thumbnail }),
    ...(request.channel !== undefined && { channel: request.channel }),
    ts: Math.floor(now / 1000),
  };
}

async function viaGateway(
  gateway: string,
  token: string | null,
  body: string,
): Promise<{ ok: boolean; line: string }> {
  const url = new URL("/publish", gateway);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token !== null && { authorization: `Bearer ${token}` }),
    },
    body,
  });
  const answer = await response.text();
  return { ok: response.ok, line: `${url.href} answered ${response.status}: ${answer.trim()}` };
}

/** The most specific message of an error: fetch hides the socket error in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

/** Runs `publish`; returns the exit status. */
export async function runPublish(
  request: PublishRequest,
  config: Config,
  output: CommandOutput,
): Promise<number> {
  const message = buildMessage(request);
  const region = String(message.region);
  if (!config.regions.includes(region)) {
    output.err(`refused: unknown region "${region}" (REGIONS is ${config.regions.join(",")})`);
    return 1;
  }
  const verdict = parsePublication(new TextEncoder().encode(JSON.stringify(message)), { region });
  if (!verdict.ok) {
    output.err(`refused: ${verdict.reason}: ${verdict.detail}`);
    return 1;
  }
  for (const field of verdict.message.removed) {
    output.err(`warning: ${field} removed: only absolute https: URLs are kept`);
  }
  const body = verdict.message.body;
  try {
    const gateway = request.gateway ??
      (config.redisUrl === null ? `http://127.0.0.1:${config.port || 8765}` : undefined);
    if (gateway !== undefined) {
      const result = await viaGateway(gateway, request.token ?? config.publishToken, body);
      (result.ok ? output.out : output.err)(result.line);
      return result.ok ? 0 : 1;
    }
    const channel = config.channelPrefix + region;
    const receivers = await publishOnce(config.redisUrl ?? "", channel, body);
    output.out(`PUBLISH ${channel} (${receivers} subscribers): ${body}`);
    return 0;
  } catch (error) {
    output.err(`failed: ${describe(error)}`);
    return 1;
  }
}
