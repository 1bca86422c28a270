/**
 * `tvs-realtime status`: what an operator or a script asks a running gateway, over plain HTTP
 * on its own port: `/readyz`, and a summary of `/metrics`. The exit status says it for scripts.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { CommandOutput } from "./publish_command.ts";

/** Exit status of an unreachable gateway (sysexits EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69;

/** The gateway a command asks: `--gateway`, else this configuration's port on loopback. */
export function gatewayUrl(config: Config, gateway: string | undefined): URL {
  return new URL(gateway ?? `http://127.0.0.1:${config.port}`);
}

/** Samples of a Prometheus text body: `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** The sum of every sample of `name`, whatever its labels. */
function sum(samples: Map<string, number>, name: string): number {
  let total = 0;
  for (const [sample, value] of samples) {
    if (sample === name || sample.startsWith(`${name}{`)) total += value;
  }
  return total;
}

/** Each sample of `name` by the value of its one `label`. */
function byLabel(samples: Map<string, number>, name: string, label: string): [string, number][] {
  const pattern = new RegExp(`^${name}\\{${label}="([^"]*)"\\}$`);
  const found: [string, number][] = [];
  for (const [sample, value] of samples) {
    const match = pattern.exec(sample);
    if (match) found.push([match[1]!, value]);
  }
  return found;
}

function percent(used: number, limit: number): string {
  return limit > 0 ? `${(100 * used / limit).toFixed(1)}%` : "no limit";
}

function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The summary lines of a scrape. */
function summarise(samples: Map<string, number>, now = Date.now()): string[] {
  const broker = byLabel(samples, "tvs_broker_connected", "broker")[0];
  const sockets = sum(samples, "tvs_sockets");
  const socketsLimit = sum(samples, "tvs_sockets_limit");
  const queued = sum(samples, "tvs_queued_bytes");
  const regions = byLabel(samples, "tvs_subscriptions", "region")
    .map(([region, count]) => `${region} ${count}`).join(", ");
  const workers = samples.get("tvs_workers") ?? 1;
  const lastMessage = samples.get("tvs_last_message_timestamp_seconds") ?? 0;
  return [
    `  broker       ${broker?.[0] ?? "unknown"}, ${
      broker?.[1] === 1 ? "subscribed" : "not subscribed"
    }`,
    `  sockets      ${sockets} of ${socketsLimit} (${percent(sockets, socketsLimit)})`,
    `  queued       ${mebibytes(queued)} of ${mebibytes(sum(samples, "tvs_queued_bytes_limit"))}`,
    `  subscribers  ${regions}`,
    `  messages     ${sum(samples, "tvs_messages_received_total")} received, ${
      sum(samples, "tvs_messages_rejected_total")
    } rejected, ${sum(samples, "tvs_deliveries_total")} frames delivered`,
    `  last message ${
      lastMessage === 0 ? "none yet" : `${duration(now / 1000 - lastMessage)} ago`
    }`,
    `  workers      ${workers}, up ${
      duration(now / 1000 - (samples.get("process_start_time_seconds") ?? now / 1000))
    }`,
  ];
}

/** Asks the gateway at `url`; prints readiness and the summary; returns the exit status. */
export async function runStatus(url: URL, output: CommandOutput): Promise<number> {
  let readiness: { status: number; body: { status?: string; reason?: string } };
  let metrics: string;
  try {
    const ready = await fetch(new URL("/readyz", url), { signal: AbortSignal.timeout(5000) });
    readiness = { status: ready.status, body: await ready.json() };
    const scrape = await fetch(new URL("/metrics", url), { signal: AbortSignal.timeout(5000) });
    metrics = scrape.ok ? await scrape.text() : "";
  } catch (error) {
    const { message, cause } = error as Error;
    const why = cause instanceof Error ? `${message}: ${cause.message}` : message;
    output.err(`tvs-realtime: cannot reach the gateway at ${url.origin}: ${why}`);
    return EXIT_UNAVAILABLE;
  }
  const samples = parseMetrics(metrics);
  const version = /^tvs_build_info\{version="([^"]+)"\}/m.exec(metrics)?.[1] ?? "unknown";
  const state = readiness.status === 200
    ? "ready"
    : `not ready (${readiness.body.reason ?? readiness.status})`;
  output.out(`tvs-realtime ${version} at ${url.origin}: ${state}`);
  if (metrics === "") output.out("  (no /metrics on this address: ask the gateway's own port)");
  else for (const line of summarise(samples)) output.out(line);
  return readiness.status === 200 ? 0 : 1;
}
