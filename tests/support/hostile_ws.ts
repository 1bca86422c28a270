/**
 * A hostile WebSocket peer: it upgrades, then sends a message it never finishes, so that the
 * runtime buffers it before the gateway sees any of it. Either one frame announced as `bytes`
 * long of which all but a little is sent, or fragments without FIN up to `bytes`. It never
 * answers anything and never reads frames; it only notices when the server drops the connection.
 *
 * @module
 */

const encoder = new TextEncoder();
const CHUNK = new Uint8Array(1 << 20);

/** How the unfinished message is sent. */
export type Unfinished = "frame" | "fragments";

/** Where to connect: the gateway directly, or a TLS proxy in front of it. */
export interface HostileTarget {
  readonly port: number;
  /** The proxy's CA in PEM: connect with TLS. */
  readonly caCert?: string;
  /** The request's `Host`. @default 127.0.0.1:<port> */
  readonly host?: string;
}

/** A connected hostile peer. */
export class HostilePeer implements Disposable {
  /** Resolves once the server has ended the connection. */
  readonly dropped: Promise<void>;
  /** Bytes of the unfinished message sent so far. */
  sent = 0;
  /** Whether the server has ended the connection. */
  isDropped = false;
  readonly #conn: Deno.Conn;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.dropped = this.#drain();
  }

  /** Connects to `target` and upgrades to `path`. */
  static async connect(target: HostileTarget, path = "/?region=AE"): Promise<HostilePeer> {
    const conn: Deno.Conn = target.caCert === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port: target.port })
      : await Deno.connectTls({
        hostname: "localhost",
        port: target.port,
        caCerts: [target.caCert],
      });
    const host = target.host ?? `127.0.0.1:${target.port}`;
    await writeAll(
      conn,
      encoder.encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const head = new Uint8Array(4096);
    const read = await conn.read(head);
    const status = new TextDecoder().decode(head.subarray(0, read ?? 0)).split("\r\n")[0] ?? "";
    if (!status.includes(" 101 ")) {
      conn.close();
      throw new Error(`Upgrade refused: ${status}`);
    }
    return new HostilePeer(conn);
  }

  /**
   * Sends an unfinished message of `bytes`: a frame announcing them, with all but 1 MiB sent, or
   * 1 MiB fragments without FIN up to `bytes`. Resolves once sent, or once the server dropped the
   * connection.
   */
  async sendUnfinished(kind: Unfinished, bytes: number): Promise<void> {
    try {
      if (kind === "frame") {
        await writeAll(this.#conn, frameHeader(true, 1, bytes));
        while (this.sent + CHUNK.byteLength < bytes) {
          await writeAll(this.#conn, CHUNK);
          this.sent += CHUNK.byteLength;
        }
      } else {
        for (let first = true; this.sent < bytes; first = false) {
          await writeAll(this.#conn, frameHeader(false, first ? 1 : 0, CHUNK.byteLength));
          await writeAll(this.#conn, CHUNK);
          this.sent += CHUNK.byteLength;
        }
      }
    } catch {
      // The server dropped the connection mid-write: what the test waits for.
    }
  }

  /** Ends the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Dropped by the server already.
    }
  }

  /** Ends it: `using peer = await HostilePeer.connect(…)`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Reads and discards until the server ends the connection. */
  async #drain(): Promise<void> {
    const buffer = new Uint8Array(65536);
    while (true) {
      try {
        if (await this.#conn.read(buffer) === null) break;
      } catch {
        break;
      }
    }
    this.isDropped = true;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await conn.write(bytes.subarray(written));
}

/** A client frame's header announcing `length` bytes, masked with a zero key (payload as is). */
function frameHeader(fin: boolean, opcode: number, length: number): Uint8Array {
  const header = new Uint8Array(14);
  header[0] = (fin ? 0x80 : 0) | opcode;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(length));
  return header;
}
