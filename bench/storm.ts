/**
 * The load generator: a separate process (pinned by the orchestrator to another core than the
 * target), running one scenario against one target and printing its figures as JSON lines.
 *
 * Clients are raw TCP WebSocket clients that count frames and read the publish time without
 * parsing whole messages, so one core can receive well over 100,000 frames/s. Messages are
 * published on Redis from this process; they carry `"bt"`, the publish time in epoch
 * milliseconds, so latency is measured on one clock. The generator reports its own CPU use, so a
 * saturated generator is never mistaken for a slow gateway.
 *
 * Usage: deno run -A bench/loadgen.ts <scenario> '<json parameters>'
 *
 * @module
 */

import { TvsClient } from "../static/tvs-client.js";

const REGIONS = ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"];
const encoder = new TextEncoder();
const BT = encoder.encode('"bt":');

/** Wall clock in epoch milliseconds with sub-millisecond resolution. */
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

/** CPU time (user + system) of a process, in milliseconds. */
function cpuMs(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident memory of a process, in bytes. */
function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Collects latency samples and frame counts of one phase. */
class Sink {
  samples = new Float64Array(1 << 20);
  count = 0;
  /** Frames with a publish time. */
  timed = 0;
  /** Frames without one (bulk traffic). */
  untimed = 0;
  lastAt = 0;

  record(latency: number): void {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = latency;
  }

  summary(): { p50: number; p90: number; p99: number; max: number } {
    const sorted = this.samples.slice(0, this.count).sort();
    return {
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? NaN,
    };
  }
}

let sink = new Sink();

/** A raw WebSocket client: reads frames, counts them, and records the latency of timed ones. */
class RawClient {
  readonly region: string;
  readonly #conn: Deno.TcpConn;
  frames = 0;
  #pending: Uint8Array | null = null;
  #closed = false;

  private constructor(conn: Deno.TcpConn, region: string) {
    this.#conn = conn;
    this.region = region;
  }

  /** Connects and upgrades to `path`; with `read: false` never reads again (a stalled peer). */
  static async connect(port: number, region: string, read = true): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encoder.encode(
      `GET /?region=${region} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ));
    const client = new RawClient(conn, region);
    const head = new Uint8Array(4096);
    let headLength = 0;
    while (true) {
      const read = await conn.read(head.subarray(headLength));
      if (read === null) throw new Error("closed during handshake");
      headLength += read;
      const text = new TextDecoder().decode(head.subarray(0, headLength));
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) continue;
      if (!text.startsWith("HTTP/1.1 101")) throw new Error(`refused: ${text.split("\r\n")[0]}`);
      const rest = head.slice(end + 4, headLength);
      if (rest.length > 0) client.#consume(rest);
      break;
    }
    if (read) client.#readLoop();
    return client;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const read = await this.#conn.read(buffer);
        if (read === null) break;
        this.#consume(buffer.subarray(0, read));
      }
    } catch {
      // Closed.
    }
  }

  #consume(chunk: Uint8Array): void {
    let data = chunk;
    if (this.#pending !== null) {
      const merged = new Uint8Array(this.#pending.length + chunk.length);
      merged.set(this.#pending);
      merged.set(chunk, this.#pending.length);
      data = merged;
      this.#pending = null;
    }
    let offset = 0;
    const arrival = clock();
    while (data.length - offset >= 2) {
      const opcode = data[offset]! & 0x0f;
      let length = data[offset + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = (data[offset + 2]! << 8) | data[offset + 3]!;
        header = 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(new DataView(data.buffer, data.byteOffset + offset + 2, 8).getBigUint64(0));
        header = 10;
      }
      if (data.length - offset < header + length) break;
      if (opcode === 1) this.#frame(data, offset + header, length, arrival);
      else if (opcode === 9) this.#pong(data.slice(offset + header, offset + header + length));
      offset += header + length;
    }
    if (offset < data.length) this.#pending = data.slice(offset);
  }

  /** Answers a ping, as every client must (the gateway closes clients that never do). */
  #pong(payload: Uint8Array): void {
    // Client frames are masked; a zero mask leaves the payload as it is.
    const frame = new Uint8Array(6 + payload.length);
    frame[0] = 0x8a;
    frame[1] = 0x80 | payload.length;
    frame.set(payload, 6);
    this.#conn.write(frame).catch(() => {});
  }

  #frame(data: Uint8Array, start: number, length: number, arrival: number): void {
    this.frames++;
    sink.lastAt = arrival;
    const end = Math.min(start + 96, start + length);
    for (let i = start; i + 5 < end; i++) {
      if (
        data[i] !== 0x22 || data[i + 1] !== 0x62 || data[i + 2] !== 0x74 || data[i + 3] !== 0x22
      ) {
        continue;
      }
      let value = 0;
      let scale = 0;
      for (let j = i + BT.length; j < start + length; j++) {
        const byte = data[j]!;
        if (byte === 0x2e) scale = 1;
        else if (byte >= 0x30 && byte <= 0x39) {
          if (scale > 0) scale *= 10;
          value = value * 10 + (byte - 0x30);
        } else break;
      }
      const published = scale > 0 ? value / scale : value;
      sink.timed++;
      sink.record(arrival - published);
      return;
    }
    sink.untimed++;
  }
}

/** Publishes on Redis over one pipelined connection; replies are read and dropped. */
class Publisher {
  readonly #conn: Deno.TcpConn;
  #writing: Promise<void> = Promise.resolve();
  sequence = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#drain();
  }

  static async connect(port: number): Promise<Publisher> {
    return new Publisher(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Publishes a `new_trending` to `region`, timed unless `padding` makes it bulk traffic. */
  publish(region: string, padding?: string): void {
    const id = `b${Deno.pid}-${this.sequence++}`;
    const payload = padding === undefined
      ? `{"bt":${
        clock().toFixed(3)
      },"event":"new_trending","video_id":"${id}","title":"Bench ${id}"}`
      : `{"event":"new_trending","video_id":"${id}","title":"Bulk ${id}","padding":"${padding}"}`;
    const channel = `tvs:${region}`;
    const body = encoder.encode(payload);
    const head = encoder.encode(
      `*3\r\n$7\r\nPUBLISH\r\n$${channel.length}\r\n${channel}\r\n$${body.length}\r\n`,
    );
    const command = new Uint8Array(head.length + body.length + 2);
    command.set(head);
    command.set(body, head.length);
    command.set([13, 10], head.length + body.length);
    this.#writing = this.#writing.then(async () => {
      let written = 0;
      while (written < command.length) written += await this.#conn.write(command.subarray(written));
    });
  }

  async flush(): Promise<void> {
    await this.#writing;
  }

  close(): void {
    this.#conn.close();
  }

  async #drain(): Promise<void> {
    const buffer = new Uint8Array(65536);
    try {
      while ((await this.#conn.read(buffer)) !== null) {
        // Replies are counts of receivers; the clients' counts are what matter.
      }
    } catch {
      // Closed.
    }
  }
}

/** Connects `count` raw clients spread over `regions`, `concurrency` handshakes at a time. */
async function connectClients(port: number, count: number, regions: readonly string[]) {
  const clients: RawClient[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      clients[index] = await RawClient.connect(port, regions[index % regions.length]!);
    }
  };
  const started = clock();
  await Promise.all(Array.from({ length: 200 }, worker));
  return { clients, seconds: (clock() - started) / 1000 };
}

function perRegion(clients: readonly RawClient[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const client of clients) counts.set(client.region, (counts.get(client.region) ?? 0) + 1);
  return counts;
}

/** Waits until `done()` or `ms` pass without progress. */
async function settle(done: () => boolean, ms: number): Promise<void> {
  let last = -1;
  let quietSince = clock();
  while (!done()) {
    const progress = sink.timed + sink.untimed;
    if (progress !== last) {
      last = progress;
      quietSince = clock();
    } else if (clock() - quietSince > ms) {
      return;
    }
    await sleep(20);
  }
}

interface Traffic {
  readonly perSecond: number;
  readonly seconds: number;
  readonly regions: readonly string[];
  /** Bulk traffic alongside: bytes in all, in messages of `messageBytes`, to `region`. */
  readonly bulk?: {
    readonly region: string;
    readonly bytes: number;
    readonly messageBytes: number;
  };
}

/** Publishes timed messages at a steady rate (and bulk ones if asked); measures the deliveries. */
async function run(
  publisher: Publisher,
  clients: readonly RawClient[],
  traffic: Traffic,
  targetPid: number,
) {
  sink = new Sink();
  const counts = perRegion(clients);
  const total = Math.round(traffic.perSecond * traffic.seconds);
  const bulkCount = traffic.bulk === undefined
    ? 0
    : Math.ceil(traffic.bulk.bytes / traffic.bulk.messageBytes);
  const padding = traffic.bulk === undefined ? "" : "x".repeat(traffic.bulk.messageBytes - 120);
  let expectedTimed = 0;
  let expectedBulk = 0;
  const cpu0 = { target: cpuMs(targetPid), self: cpuMs("self") };
  const started = clock();
  let sentTimed = 0;
  let sentBulk = 0;
  // A 2 ms tick publishes whatever is due: timed messages on their schedule, bulk spread evenly.
  while (sentTimed < total || sentBulk < bulkCount) {
    const elapsed = clock() - started;
    while (sentTimed < total && (sentTimed * 1000) / traffic.perSecond <= elapsed) {
      const region = traffic.regions[sentTimed % traffic.regions.length]!;
      publisher.publish(region);
      expectedTimed += counts.get(region) ?? 0;
      sentTimed++;
    }
    while (sentBulk < bulkCount && (sentBulk * traffic.seconds * 1000) / bulkCount <= elapsed) {
      const region = traffic.bulk!.region;
      publisher.publish(region, padding);
      expectedBulk += counts.get(region) ?? 0;
      sentBulk++;
    }
    await sleep(2);
  }
  await publisher.flush();
  const publishedFor = clock() - started;
  await settle(() => sink.timed >= expectedTimed && sink.untimed >= expectedBulk, 1500);
  const receivingFor = Math.max(publishedFor, sink.lastAt - started);
  return {
    ...sink.summary(),
    sent: sentTimed,
    expected: expectedTimed,
    received: sink.timed,
    lossTimed: expectedTimed - sink.timed,
    expectedBulk,
    receivedBulk: sink.untimed,
    deliveriesPerSecond: ((sink.timed + sink.untimed) / receivingFor) * 1000,
    targetCpuMs: cpuMs(targetPid) - cpu0.target,
    loadgenCpuMs: cpuMs("self") - cpu0.self,
    seconds: receivingFor / 1000,
  };
}

/** Numeric parameters of a scenario; a missing one is an error, not a NaN. */
class Params {
  readonly #values: Readonly<Record<string, number>>;

  constructor(values: Readonly<Record<string, number>>) {
    this.#values = values;
  }

  get port(): number {
    return this.get("port");
  }

  get redisPort(): number {
    return this.get("redisPort");
  }

  get targetPid(): number {
    return this.get("targetPid");
  }

  get(name: string): number {
    const value = this.#values[name];
    if (typeof value !== "number") throw new TypeError(`Missing parameter: ${name}`);
    return value;
  }
}

const scenarios: Record<string, (params: Params) => Promise<void>> = {
  /** S1: latency of 1,000 clients over 8 regions at a steady rate. */
  async s1(params) {
    const { clients } = await connectClients(params.port, params.get("clients"), REGIONS);
    const publisher = await Publisher.connect(params.redisPort);
    await sleep(500);
    const result = await run(publisher, clients, {
      perSecond: params.get("perSecond"),
      seconds: params.get("seconds"),
      regions: REGIONS,
    }, params.targetPid);
    emit({ scenario: "s1", ...result });
    publisher.close();
    for (const client of clients) client.close();
  },

  /** S3 and memory: 10,000 idle clients of one region, then single messages to all of them. */
  async s3(params) {
    await sleep(1000);
    const rssBefore = rssBytes(params.targetPid);
    const { clients, seconds } = await connectClients(params.port, params.get("clients"), ["AE"]);
    await sleep(2000);
    const rssAfter = rssBytes(params.targetPid);
    const publisher = await Publisher.connect(params.redisPort);
    const bursts: number[] = [];
    for (let i = 0; i < params.get("bursts"); i++) {
      sink = new Sink();
      publisher.publish("AE");
      await settle(() => sink.timed >= clients.length, 2000);
      // The slowest client's latency: publish until the last client has it.
      bursts.push(sink.timed >= clients.length ? sink.summary().max : NaN);
      await sleep(200);
    }
    emit({
      scenario: "s3",
      connectSeconds: seconds,
      rssBefore,
      rssAfter,
      bytesPerConnection: (rssAfter - rssBefore) / clients.length,
      bursts,
    });
    publisher.close();
    for (const client of clients) client.close();
  },

  /** S2: 10,000 clients over 8 regions; the publish rate rises until deliveries stop growing. */
  async s2(params) {
    const { clients } = await connectClients(params.port, params.get("clients"), REGIONS);
    const publisher = await Publisher.connect(params.redisPort);
    await sleep(1000);
    const steps = [];
    let best = 0;
    for (
      let rate = params.get("startRate");
      rate <= params.get("maxRate");
      rate = Math.round(rate * params.get("factor"))
    ) {
      const result = await run(publisher, clients, {
        perSecond: rate,
        seconds: params.get("secondsPerStep"),
        regions: REGIONS,
      }, params.targetPid);
      const lossRatio = result.lossTimed / Math.max(1, result.expected);
      steps.push({ rate, ...result, lossRatio });
      emit({ scenario: "s2-step", rate, ...result, lossRatio });
      if (lossRatio > 0.005 || result.deliveriesPerSecond < best * 1.05) break;
      best = Math.max(best, result.deliveriesPerSecond);
      await sleep(500);
    }
    emit({ scenario: "s2", steps });
    publisher.close();
    for (const client of clients) client.close();
  },

  /**
   * S4: S1 with bulk traffic to AE: a warm-up, a control phase, then the same with a client on AE
   * that never reads.
   */
  async s4(params) {
    const { clients } = await connectClients(params.port, params.get("clients"), REGIONS);
    const publisher = await Publisher.connect(params.redisPort);
    await sleep(500);
    const traffic: Traffic = {
      perSecond: params.get("perSecond"),
      seconds: params.get("seconds"),
      regions: REGIONS,
      bulk: {
        region: "AE",
        bytes: params.get("bulkBytes"),
        messageBytes: params.get("messageBytes"),
      },
    };
    // Warm up with the same traffic, unmeasured: both measured phases then run on a warm process.
    const warmup = params.get("warmupSeconds");
    await run(publisher, clients, {
      ...traffic,
      seconds: warmup,
      bulk: { ...traffic.bulk!, bytes: (traffic.bulk!.bytes * warmup) / traffic.seconds },
    }, params.targetPid);
    const control = await run(publisher, clients, traffic, params.targetPid);
    const rssControl = rssBytes(params.targetPid);
    const stalled = await RawClient.connect(params.port, "AE", false);
    const withStall = await run(publisher, clients, traffic, params.targetPid);
    const rssStalled = rssBytes(params.targetPid);
    emit({
      scenario: "s4",
      control,
      stalled: withStall,
      rssControl,
      rssStalled,
      rssGrowth: rssStalled - rssControl,
    });
    stalled.close();
    publisher.close();
    for (const client of clients) client.close();
  },

  /** S5: clients of the client library; the target restarts; time until all are back. */
  async s5(params) {
    let open = 0;
    let failures = 0;
    let firstDrop = 0;
    let allBack = 0;
    let everAll = false;
    class CountingWebSocket extends WebSocket {
      constructor(url: string | URL) {
        super(url);
        let opened = false;
        this.addEventListener("open", () => {
          opened = true;
          open++;
          if (everAll && open === params.get("clients") && allBack === 0) allBack = clock();
        });
        this.addEventListener("close", () => {
          if (!opened) {
            failures++;
            return;
          }
          open--;
          if (everAll && firstDrop === 0) firstDrop = clock();
        });
      }
    }
    const clients = Array.from({ length: params.get("clients") }, (_, i) =>
      new TvsClient({
        url: `ws://127.0.0.1:${params.port}/ws`,
        regions: [REGIONS[i % REGIONS.length]!],
        heartbeatMs: 0,
        WebSocket: CountingWebSocket,
      }));
    for (const client of clients) client.start();
    const deadline = clock() + 60_000;
    while (open < params.get("clients") && clock() < deadline) await sleep(50);
    everAll = true;
    failures = 0;
    emit({ scenario: "s5-ready", open });
    const until = clock() + 60_000;
    while ((allBack === 0) && clock() < until) await sleep(20);
    emit({
      scenario: "s5",
      seconds: allBack > 0 && firstDrop > 0 ? (allBack - firstDrop) / 1000 : NaN,
      reconnected: open,
      failedAttempts: failures,
    });
    for (const client of clients) client.close();
  },
};

const [name, json] = Deno.args;
const scenario = name === undefined ? undefined : scenarios[name];
if (scenario === undefined || json === undefined) {
  console.error(`usage: loadgen.ts <${Object.keys(scenarios).join("|")}> '<json>'`);
  Deno.exit(2);
}
await scenario(new Params(JSON.parse(json)));
Deno.exit(0);
