/**
 * One HTTP/1.1 exchange written by hand, for what `fetch` will not send: a chosen source address
 * (127.0.0.2 is another host to a server on 127.0.0.1), any `Host`, spoofed proxy headers, an
 * old `Sec-WebSocket-Version`. An upgrade answered 101 keeps its socket open until closed.
 *
 * @module
 */

import net from "node:net";

/** What the server answered. */
export interface RawResponse extends AsyncDisposable {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body as text (empty after a 101). */
  readonly body: string;
  /** Ends the connection. Idempotent. */
  close(): Promise<void>;
}

/** What to send. */
export interface RawRequest {
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** Source address to bind. @default chosen by the kernel */
  readonly localAddress?: string;
  /** @default "GET" */
  readonly method?: string;
  readonly path: string;
  /** Header lines; `Host` is `host:port` unless given. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** The headers of a WebSocket upgrade (version 13 unless `version` says otherwise). */
export function upgradeHeaders(version = "13"): Record<string, string> {
  return {
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": version,
  };
}

/** Attempts a WebSocket handshake with fetch, to read a refusal's status and body. */
export async function attemptHandshake(
  url: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(url, { headers: { ...upgradeHeaders(), ...headers } });
}

/** Sends `request` and resolves with the answer (the whole body, or the head of a 101). */
export function rawRequest(request: RawRequest): Promise<RawResponse> {
  const host = request.host ?? "127.0.0.1";
  const body = request.body ?? "";
  const headers: Record<string, string> = {
    host: `${host}:${request.port}`,
    ...(request.body !== undefined &&
      { "content-length": String(new TextEncoder().encode(body).byteLength) }),
    ...request.headers,
  };
  if (!("connection" in headers)) headers.connection = "close";
  const head = [
    `${request.method ?? "GET"} ${request.path} HTTP/1.1`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ].join("\r\n");
  const socket = net.connect({
    host,
    port: request.port,
    ...(request.localAddress !== undefined && { localAddress: request.localAddress }),
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const close = async () => {
    socket.destroy();
    await closed;
  };
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let answered = false;
    /** The answer in `received`, once its head is complete. */
    const parse = (): RawResponse | undefined => {
      const text = received.toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return undefined;
      const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
      const map = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        map.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const status = Number(statusLine.split(" ")[1]);
      const rest = status === 101 ? "" : text.slice(end + 4);
      return { status, headers: map, body: rest, close, [Symbol.asyncDispose]: close };
    };
    const answer = (response: RawResponse) => {
      answered = true;
      resolve(response);
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const response = answered ? undefined : parse();
      if (response === undefined) return;
      // An upgraded socket stays open: answer at its head, leave the socket to the caller.
      if (response.status === 101) answer(response);
      // A refused upgrade may keep the connection alive: its body's length says when it is all.
      const length = Number(response.headers.get("content-length") ?? NaN);
      if (new TextEncoder().encode(response.body).byteLength >= length) {
        socket.destroy();
        answer(response);
      }
    });
    socket.once("end", () => {
      if (answered) return;
      const response = parse();
      if (response === undefined) reject(new Error(`No HTTP answer from port ${request.port}`));
      else answer(response);
    });
    socket.once("error", (error) => {
      if (!answered) reject(error);
    });
    socket.write(`${head}\r\n\r\n${body}`);
  });
}
