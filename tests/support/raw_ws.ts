/**
 * A WebSocket peer over a raw TCP socket, for what a well-behaved client never does: stop reading
 * altogether, or read but never answer a ping. It sees the server's frames exactly as sent.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A frame from the server. */
export interface RawFrame {
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** A raw WebSocket connection. */
export class RawWebSocket implements Disposable {
  readonly #conn: Deno.TcpConn;
  /** Frames read so far (only when reading). */
  readonly frames: RawFrame[] = [];
  /** Resolves when the server ends the TCP connection (seen only once reading). */
  readonly ended: Promise<void>;
  readonly #end = Promise.withResolvers<void>();
  #reading = false;
  #closed = false;

  private constructor(conn: Deno.TcpConn, reading: boolean) {
    this.#conn = conn;
    this.ended = this.#end.promise;
    if (reading) this.startReading();
  }

  /**
   * Upgrades over a new TCP connection to `port` with `path`. With `read: false` nothing is read
   * after the handshake response until {@link startReading}: the kernel buffers fill and the
   * server must queue.
   */
  static async connect(
    port: number,
    path: string,
    options: { read: boolean },
  ): Promise<RawWebSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encoder.encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ));
    // Read the response headers byte by byte, so no frame after them is consumed here.
    const head: number[] = [];
    const byte = new Uint8Array(1);
    while (!(head.length >= 4 && head.slice(-4).join() === "13,10,13,10")) {
      if (await conn.read(byte) === null) throw new Error("Connection closed during handshake");
      head.push(byte[0]!);
      if (head.length > 8192) throw new Error("Handshake response too long");
    }
    const status = new TextDecoder().decode(new Uint8Array(head)).split("\r\n")[0] ?? "";
    if (!status.includes(" 101 ")) throw new Error(`Upgrade refused: ${status}`);
    return new RawWebSocket(conn, options.read);
  }

  /** Reads from now on, as fast as frames come or at most `bytesPerSecond`. Idempotent. */
  startReading(options: { readonly bytesPerSecond?: number } = {}): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#read(options.bytesPerSecond).then(this.#end.resolve);
  }

  /** The text frames read so far, decoded. */
  texts(): string[] {
    const decoder = new TextDecoder();
    return this.frames.filter((frame) => frame.opcode === 1)
      .map((frame) => decoder.decode(frame.payload));
  }

  /** Close code of the server's close frame, if one arrived. */
  get closeCode(): number | undefined {
    const frame = this.frames.find((candidate) => candidate.opcode === 8);
    if (frame === undefined || frame.payload.byteLength < 2) return undefined;
    return (frame.payload[0]! << 8) | frame.payload[1]!;
  }

  /** Ends the TCP connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the server.
    }
  }

  /** Ends it: `using socket = await RawWebSocket.connect(…)`. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #read(bytesPerSecond?: number): Promise<void> {
    let buffer: Uint8Array = new Uint8Array(0);
    // Paced: a twentieth of the rate every 50 ms.
    const chunk = new Uint8Array(
      bytesPerSecond === undefined ? 65536 : Math.max(1, Math.floor(bytesPerSecond / 20)),
    );
    while (true) {
      if (bytesPerSecond !== undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      let read: number | null;
      try {
        read = await this.#conn.read(chunk);
      } catch {
        read = null;
      }
      if (read === null) return;
      const merged = new Uint8Array(buffer.byteLength + read);
      merged.set(buffer);
      merged.set(chunk.subarray(0, read), buffer.byteLength);
      buffer = merged;
      buffer = this.#parse(buffer);
    }
  }

  /** Takes whole unmasked frames off `buffer`; returns the rest. */
  #parse(buffer: Uint8Array): Uint8Array {
    let offset = 0;
    while (buffer.byteLength - offset >= 2) {
      const opcode = buffer[offset]! & 0x0f;
      let length = buffer[offset + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buffer.byteLength - offset < 4) break;
        length = (buffer[offset + 2]! << 8) | buffer[offset + 3]!;
        header = 4;
      } else if (length === 127) {
        if (buffer.byteLength - offset < 10) break;
        length = Number(
          new DataView(buffer.buffer, buffer.byteOffset + offset + 2, 8).getBigUint64(0),
        );
        header = 10;
      }
      if (buffer.byteLength - offset < header + length) break;
      this.frames.push({
        opcode,
        payload: buffer.slice(offset + header, offset + header + length),
      });
      offset += header + length;
    }
    return buffer.slice(offset);
  }
}
