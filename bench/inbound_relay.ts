/**
 * A relay in front of `Deno.serve` that parses what clients send: the HTTP request, then each
 * WebSocket frame's header, and drops a connection whose message would pass a bound before the
 * runtime behind it buffers any of it. What the gateway cannot do itself (`upgradeWebSocket`
 * takes no message-size limit), measured here for what it costs; it is not shipped.
 *
 *   deno run -A bench/inbound_relay.ts <listen port> <gateway port> <bare|checked>
 *
 * `bare` pipes both ways untouched (the floor of any relay); `checked` parses the client's side.
 * What the gateway sends goes back untouched in both. Prints one JSON "listening" line.
 *
 * @module
 */

/** Largest message a client may send through the checked relay (the gateway's limit is 4 KiB). */
const MAX_MESSAGE_BYTES = 65_536;

const [listenPort, gatewayPort, mode] = Deno.args;

/** Copies the client's bytes upstream, parsing frame headers; throws to drop the connection. */
async function checkedUpstream(client: Deno.Conn, upstream: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(65_536);
  let headerDone = false;
  let head = "";
  /** Bytes of the current frame's payload still to come, and of the message so far. */
  let payloadLeft = 0;
  let messageBytes = 0;
  let pending = new Uint8Array(0);
  while (true) {
    const read = await client.read(buffer);
    if (read === null) return;
    const chunk = buffer.subarray(0, read);
    await writeAll(upstream, chunk);
    if (!headerDone) {
      head += new TextDecoder().decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) continue;
      headerDone = true;
      pending = new TextEncoder().encode(head.slice(end + 4));
    } else {
      const merged = new Uint8Array(pending.byteLength + chunk.byteLength);
      merged.set(pending);
      merged.set(chunk, pending.byteLength);
      pending = merged;
    }
    let offset = 0;
    while (offset < pending.byteLength) {
      if (payloadLeft > 0) {
        const take = Math.min(payloadLeft, pending.byteLength - offset);
        payloadLeft -= take;
        offset += take;
        continue;
      }
      if (pending.byteLength - offset < 2) break;
      const fin = (pending[offset]! & 0x80) !== 0;
      const opcode = pending[offset]! & 0x0f;
      let length = pending[offset + 1]! & 0x7f;
      let header = 2 + ((pending[offset + 1]! & 0x80) !== 0 ? 4 : 0);
      if (length === 126) header += 2;
      if (length === 127) header += 8;
      if (pending.byteLength - offset < header) break;
      if (length === 126) length = (pending[offset + 2]! << 8) | pending[offset + 3]!;
      if (length === 127) {
        length = Number(new DataView(pending.buffer, pending.byteOffset + offset + 2, 8)
          .getBigUint64(0));
      }
      if (opcode < 8) {
        messageBytes += length;
        if (messageBytes > MAX_MESSAGE_BYTES) throw new Error("message over the bound");
        if (fin) messageBytes = 0;
      }
      offset += header;
      payloadLeft = length;
    }
    pending = pending.slice(offset);
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await conn.write(bytes.subarray(written));
}

async function relay(client: Deno.Conn): Promise<void> {
  let upstream: Deno.Conn;
  try {
    upstream = await Deno.connect({ hostname: "127.0.0.1", port: Number(gatewayPort) });
  } catch {
    client.close();
    return;
  }
  const close = () => {
    for (const conn of [client, upstream]) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  };
  const down = upstream.readable.pipeTo(client.writable, { preventClose: true }).catch(() => {});
  const up = mode === "checked"
    ? checkedUpstream(client, upstream).catch(() => {})
    : client.readable.pipeTo(upstream.writable, { preventClose: true }).catch(() => {});
  await Promise.race([down, up]);
  close();
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(listenPort) });
console.log(JSON.stringify({ msg: "listening", port: listener.addr.port, mode }));
for await (const client of listener) void relay(client);
