/**
 * `tvs-realtime tail --region AE`: prints each message of a region as it arrives, through the
 * browser client library (so it reconnects and resumes like a browser), until Ctrl-C. On a
 * terminal a line for reading (time, region, direction, title, video); otherwise each message as
 * the JSON it arrived as, one per line, for `jq`. Connection changes go to stderr.
 *
 * @module
 */

import { TvsClient } from "../client/tvs-client.js";
import type { GatewayMessage } from "../client/tvs-client.d.ts";
import type { CommandOutput } from "./publish_command.ts";

/** What `tail` needs besides the gateway and region. */
export interface TailOptions {
  readonly output: CommandOutput;
  /** Lines for reading rather than JSON. */
  readonly readable: boolean;
  /** Resolves when the user asks to stop (Ctrl-C). */
  readonly stop: Promise<void>;
  /** Gets a connection token, where the gateway requires one (`operator_token.ts`). */
  readonly token?: () => Promise<string>;
}

function messageLine(message: GatewayMessage): string {
  const time = new Date().toISOString().slice(11, 19);
  const title = typeof message.title === "string" ? message.title : message.event;
  const video = typeof message.video_id === "string" ? ` [${message.video_id}]` : "";
  const dir = typeof message.dir === "string" ? message.dir : "";
  // An isolate keeps a right-to-left title from reordering the fields around it.
  return `${time} ${message.region} ${dir.padEnd(3)} \u2068${title}\u2069${video}`;
}

/** Prints the messages of `region` from the gateway at `url` until stopped; the exit status. */
export async function runTail(url: URL, region: string, options: TailOptions): Promise<number> {
  const { output } = options;
  const socketUrl = new URL("/ws", url);
  socketUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const client = new TvsClient({
    url: socketUrl,
    regions: [region],
    ...(options.token !== undefined && { token: options.token }),
  });
  const print = (event: CustomEvent<GatewayMessage>) =>
    output.out(options.readable ? messageLine(event.detail) : JSON.stringify(event.detail));
  client.addEventListener("trending", print);
  client.addEventListener("message", print);
  const refused = Promise.withResolvers<number>();
  client.addEventListener("status", (event) => {
    const { status, reason, code, delayMs } = event.detail;
    if (status === "live") output.err(`tail: live on ${socketUrl.origin}, region ${region}`);
    if (status === "reconnecting" && delayMs !== undefined) {
      output.err(`tail: connection lost, reconnecting in ${delayMs} ms`);
    }
    if (status === "stopped" && reason !== "closed") {
      output.err(`tail: the gateway refused: ${reason ?? ""} (${code ?? ""})`);
      refused.resolve(1);
    }
  });
  client.start();
  const status = await Promise.race([options.stop.then(() => 0), refused.promise]);
  client.close();
  return status;
}
