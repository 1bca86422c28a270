/**
 * The reference publisher, `tvs-realtime publish`: builds a `new_trending` message, checks it
 * against the same contract the gateway enforces, and publishes it to Redis (`PUBLISH
 * <prefix><REGION>`) or to a gateway's `POST /publish`. It prints what it sent, or why it refused.
 *
 * @module
 */

import { publishOnce } from "../brokers/redis_publisher.ts";
import { parseRedisTarget } from "../brokers/redis_target.ts";
import type { PublishRequest } from "./cli.ts";
import type { Config } from "../config/config.ts";
import { parsePublication } from "../contract/message.ts";
import { fingerprint } from "../contract/fingerprint.ts";
import { messageId } from "../streams/frames.ts";

/** Exit status of a publication not sent because the gateways would drop it as a repeat. */
export const EXIT_DUPLICATE = 3;

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
): Promise<{ status: number; line: string }> {
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
  const line = `${url.href} answered ${response.status}: ${answer.trim()}`;
  if (!response.ok) return { status: 1, line };
  return { status: isDuplicate(answer) ? EXIT_DUPLICATE : 0, line };
}

function isDuplicate(answer: string): boolean {
  try {
    const parsed: unknown = JSON.parse(answer);
    return typeof parsed === "object" && parsed !== null &&
      Reflect.get(parsed, "duplicate") === true;
  } catch {
    return false;
  }
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
  const { body, dedupeKey } = verdict.message;
  const print = fingerprint(new TextEncoder().encode(body));
  const id = messageId(region, print);
  try {
    const gateway = request.gateway ??
      (config.redisUrl === null ? `http://127.0.0.1:${config.port || 8765}` : undefined);
    if (gateway !== undefined) {
      const result = await viaGateway(gateway, request.token ?? config.publishToken, body);
      (result.status === 1 ? output.err : output.out)(result.line);
      return result.status;
    }
    const channel = config.channelPrefix + region;
    const outcome = await publishOnce(parseRedisTarget(config.redisUrl!), {
      channel,
      payload: body,
      region,
      keyPrefix: config.channelPrefix,
      fingerprint: print,
      dedupeKey,
      dedupeWindowMs: config.dedupeWindowSeconds * 1000,
    });
    if (!outcome.published) {
      const of = outcome.repeatsFingerprint === null
        ? "a message the gateways delivered"
        : messageId(region, outcome.repeatsFingerprint);
      output.out(`not published: ${id} repeats ${of} (DEDUPE_WINDOW_SECONDS)`);
      return EXIT_DUPLICATE;
    }
    output.out(`PUBLISH ${channel} (${outcome.receivers} subscribers), id ${id}: ${body}`);
    return 0;
  } catch (error) {
    output.err(`failed: ${describe(error)}`);
    return 1;
  }
}
