/**
 * What a developer sees on a terminal: log lines for reading (time, level, message, then the
 * fields as `key=value`) and a start-up banner with the URLs to open. Off a terminal (systemd,
 * CI, a pipe) the gateway writes JSON lines only; the choice is made once, from
 * `Deno.stdout.isTerminal()`. Colours follow `NO_COLOR` (`Deno.noColor`).
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { producersOf } from "../config/publish_tokens.ts";
import { type LogSink, stdoutSink } from "../observe/log.ts";
import { VERSION } from "../observe/version.ts";

const LEVEL_COLOURS: Readonly<Record<string, string>> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};
const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";

function paint(text: string, colour: string | undefined): string {
  return Deno.noColor || colour === undefined ? text : `${colour}${text}${RESET}`;
}

/** A field's value as it reads on one line: strings bare unless they need quotes. */
function fieldValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/u.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** One JSON log line as a line for reading. */
export function readableLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json);
  } catch {
    return json;
  }
  const { ts, level, msg, ...fields } = entry;
  const time = typeof ts === "string" ? ts.slice(11, 23) : "";
  const name = String(level ?? "");
  const pairs = Object.entries(fields).map(([key, value]) => `${key}=${fieldValue(value)}`);
  return [
    paint(time, LEVEL_COLOURS.debug),
    paint(name.toUpperCase().padEnd(5), LEVEL_COLOURS[name]),
    paint(String(msg ?? ""), BOLD),
    ...pairs,
  ].join(" ");
}

/** A sink that writes each JSON line as a line for reading. */
export function readableSink(write: LogSink = stdoutSink): LogSink {
  return (line) => write(readableLine(line));
}

/** The start-up banner: where to open the page, the status page and the metrics. */
export function banner(
  config: Config,
  port: number,
  options: { readonly demo: boolean } = { demo: false },
): string {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const region = config.regions.includes("AE") ? "AE" : config.defaultRegion;
  const broker = config.redisUrl === null ? "embedded (no Redis; REDIS_URL to use one)" : "Redis";
  const publish = producersOf(config).length > 0
    ? "POST /publish with the bearer token"
    : config.publishInsecureLoopback
    ? `curl -X POST ${base}/publish -H 'content-type: application/json' -d '{…}'`
    : "off (set PUBLISH_TOKEN to publish over HTTP)";
  const rows: [string, string][] = [
    ["Page", `${base}/?region=${region}`],
    ["Status", `${base}/status`],
    ["Metrics", `${base}/metrics`],
    ["Broker", broker],
    ["Publish", publish],
    ["Workers", String(config.workers)],
  ];
  // An embedded broker hears only this gateway: without the demo feed, nothing arrives on its own.
  if (config.redisUrl === null && !options.demo) {
    rows.push(["Try", "nothing publishes here yet: `deno task demo` runs a sample feed, or"]);
    rows.push(["", "`deno task dev` and `deno task publish --region AE --video-id v1 --title Hi`"]);
  }
  return [
    "",
    `  ${paint(`tvs-realtime ${VERSION}`, BOLD)} is listening`,
    ...rows.map(([label, value]) => `  ${paint(label.padEnd(8), LEVEL_COLOURS.debug)} ${value}`),
    "",
  ].join("\n");
}
