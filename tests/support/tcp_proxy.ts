/**
 * A TCP proxy between a client and a server, so a test can cut connections (as a phone losing
 * its network), refuse new ones for a while, point at another gateway instance mid-stream, or
 * make the open connections go silent (as a dead NAT entry does: no FIN, no RST, nothing).
 *
 * @module
 */

/** A running proxy on 127.0.0.1. */
export class TcpProxy implements AsyncDisposable {
  /** Port the gateway behind the proxy listens on; new connections go there. */
  upstream: number;
  /** While true, new connections are closed at once, as if the network were down. */
  refusing = false;
  readonly #listener: Deno.TcpListener;
  readonly #pairs = new Set<[Deno.TcpConn, Deno.TcpConn]>();
  /** Open connections that no longer carry anything, either way, yet stay open. */
  readonly #silenced = new WeakSet<[Deno.TcpConn, Deno.TcpConn]>();
  readonly #pumps = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;

  private constructor(upstream: number) {
    this.upstream = upstream;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** Starts a proxy to `upstream`. */
  static start(upstream: number): TcpProxy {
    return new TcpProxy(upstream);
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Number of connections currently carried. */
  get connections(): number {
    return this.#pairs.size;
  }

  /**
   * Stops carrying anything on the connections open now, keeping them open: what either side
   * sends is read and dropped, like packets into a black hole. New connections are carried.
   */
  silence(): void {
    for (const pair of this.#pairs) this.#silenced.add(pair);
  }

  /** Stops: `await using proxy = TcpProxy.start(port)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Cuts every connection at once, without any WebSocket close frame. */
  dropAll(): void {
    for (const pair of this.#pairs) this.#drop(pair);
  }

  /** Stops listening and cuts every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    this.dropAll();
    await this.#accepting;
    await Promise.all(this.#pumps);
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      if (this.refusing) {
        client.close();
        continue;
      }
      let server: Deno.TcpConn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: this.upstream });
      } catch {
        client.close();
        continue;
      }
      const pair: [Deno.TcpConn, Deno.TcpConn] = [client, server];
      this.#pairs.add(pair);
      const pump = Promise.all([this.#pipe(client, server, pair), this.#pipe(server, client, pair)])
        .then(() => {});
      this.#pumps.add(pump);
      pump.finally(() => this.#pumps.delete(pump));
    }
  }

  async #pipe(from: Deno.TcpConn, to: Deno.TcpConn, pair: [Deno.TcpConn, Deno.TcpConn]) {
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const read = await from.read(buffer);
        if (read === null) break;
        if (this.#silenced.has(pair)) continue;
        let written = 0;
        while (written < read) written += await to.write(buffer.subarray(written, read));
      }
    } catch {
      // The other direction, or dropAll(), closed the pair.
    }
    this.#drop(pair);
  }

  #drop(pair: [Deno.TcpConn, Deno.TcpConn]): void {
    if (!this.#pairs.delete(pair)) return;
    for (const conn of pair) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
}
