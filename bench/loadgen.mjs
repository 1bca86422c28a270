// @ts-check
/**
 * The load generator of scenarios S1 to S4 and the overload: a separate Node.js process (pinned
 * by the orchestrator to another core than the target) running one scenario against one target
 * and printing its figures as JSON lines.
 *
 * Node, not Deno, because it must read more frames per second than the target sends: with
 * `onread` (no stream machinery) it reads 90,000 frames/s at about 80% of a core, Redis included,
 * where a Deno generator was saturated at 75,000. Clients are raw TCP WebSocket clients that count
 * frames and read the publish time (`"bt"`, epoch milliseconds) without parsing whole messages;
 * they answer pings. With `"sse": 1` in the parameters the clients are raw Server-Sent Events
 * clients (`GET /events`, chunked HTTP/1.1) that count events the same way. Messages are shaped as the PHP publishers send them and published on Redis
 * from this process, so latency is measured on one clock. The generator reports its own CPU use.
 *
 * Usage: node bench/loadgen.mjs <s1|s2|s3|s4|overload> '<json parameters>'
 *
 * @module
 */

import { readFileSync } from "node:fs";
import net from "node:net";

const REGIONS = ["AE", "FI", "CZ", "DK", "BE", "GB", "CH", "US"];
const BT = Buffer.from('"bt":');
/**
 * Titles in each region's language: messages shaped as the PHP publishers send them (unescaped
 * Unicode, escaped slashes), so both targets carry realistic frames.
 *
 * @type {Record<string, string>}
 */
const TITLES = {
  AE: "مقطع رائج اليوم",
  FI: "Hyvää päivää, Säkylä",
  CZ: "Příliš žluťoučký kůň",
  DK: "Rødgrød med fløde på Ærø",
  BE: "Één straat in Liège",
  GB: "Tonight's top clip",
  CH: "Grüezi mitenand, Zürich",
  US: "Trending now",
};
/** Change of the RSS level over one S4 warm-up phase below which the target counts as settled. */
const SETTLED_GROWTH = 4 * 1_048_576;
/** Interval of the RSS samples of an S4 phase, in ms. */
const RSS_SAMPLE_MS = 200;
/** The one buffer every client reads into; each read is consumed before the next. */
const READ_BUFFER = Buffer.alloc(65_536);

/**
 * The median of `values` (NaN when empty).
 *
 * @param {number[]} values
 */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : /** @type {number} */ (sorted[Math.floor(sorted.length / 2)]);
}

/** Wall clock in epoch milliseconds with sub-millisecond resolution. */
const clock = () => performance.timeOrigin + performance.now();
/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {Record<string, unknown>} event */
function emit(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

/**
 * CPU time (user + system) of a process, in milliseconds.
 *
 * @param {number} pid
 */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time of this process, in milliseconds. */
function ownCpuMs() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Resident memory of a process, in bytes.
 *
 * @param {number} pid
 */
function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Latency samples and frame counts of one phase. */
class Sink {
  samples = new Float64Array(1 << 20);
  count = 0;
  /** Frames with a publish time. */
  timed = 0;
  /** Frames without one (bulk traffic). */
  untimed = 0;
  lastAt = 0;

  /** @param {number} latency */
  record(latency) {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = latency;
  }

  summary() {
    const sorted = this.samples.slice(0, this.count).sort();
    /** @param {number} p */
    const at = (p) =>
      sorted.length === 0
        ? NaN
        : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
    return {
      min: sorted[0] ?? NaN,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: sorted.at(-1) ?? NaN,
    };
  }
}

let sink = new Sink();

/**
 * Connects to `port`, sends `request`, and resolves with the client `make` builds on the socket
 * once the answer's status is `status`; every byte after the head goes to its `consume`. With
 * `read: false` the socket is never read again after the head (a stalled peer).
 *
 * @template T
 * @param {{ port: number, request: string, status: string, read: boolean }} options
 * @param {(socket: net.Socket) => { client: T, consume: (chunk: Buffer) => void }} make
 * @returns {Promise<T>}
 */
function openRaw(options, make) {
  return new Promise((resolve, reject) => {
    let open = false;
    // `onread` hands each read to this callback in one shared buffer, without the stream
    // machinery: a read costs a third of a 'data' event, so the generator stays unsaturated.
    const socket = net.connect({
      port: options.port,
      host: "127.0.0.1",
      onread: {
        buffer: READ_BUFFER,
        callback: (length) => {
          const chunk = READ_BUFFER.subarray(0, length);
          if (open) {
            consume(chunk);
            return true;
          }
          const end = chunk.indexOf("\r\n\r\n");
          if (end === -1) return true;
          if (!chunk.subarray(0, 12).toString().startsWith(`HTTP/1.1 ${options.status}`)) {
            reject(new Error(`refused: ${chunk.toString().split("\r\n")[0]}`));
            return false;
          }
          open = true;
          if (chunk.length > end + 4) consume(chunk.subarray(end + 4));
          resolve(client);
          // A stalled peer: never read again, so the target's queue for it only grows.
          return options.read;
        },
      },
    });
    // Reads only come after the connection, so the callback above never sees these uninitialised.
    const { client, consume } = make(socket);
    socket.on("connect", () => socket.write(options.request));
    socket.on("error", reject);
  });
}

/** A raw WebSocket client: counts frames, records the latency of timed ones, answers pings. */
class RawClient {
  /** @type {Buffer | null} */
  #pending = null;

  /**
   * @param {net.Socket} socket
   * @param {string} region
   */
  constructor(socket, region) {
    this.socket = socket;
    this.region = region;
  }

  /**
   * Connects and upgrades; with `read: false` it never reads again (a stalled peer).
   *
   * @param {number} port
   * @param {string} region
   * @param {boolean} [read]
   * @returns {Promise<RawClient>}
   */
  static connect(port, region, read = true) {
    const request = `GET /?region=${region} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    return openRaw({ port, request, status: "101", read }, (socket) => {
      const client = new RawClient(socket, region);
      return { client, consume: (chunk) => client.#consume(chunk) };
    });
  }

  close() {
    this.socket.destroy();
  }

  /** @param {Buffer} chunk */
  #consume(chunk) {
    const data = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    let offset = 0;
    const arrival = clock();
    while (data.length - offset >= 2) {
      const opcode = /** @type {number} */ (data[offset]) & 0x0f;
      let length = /** @type {number} */ (data[offset + 1]) & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (data.length - offset < header + length) break;
      if (opcode === 1) this.#frame(data, offset + header, length, arrival);
      else if (opcode === 9) this.#pong(data.subarray(offset + header, offset + header + length));
      offset += header + length;
    }
    if (offset < data.length) this.#pending = Buffer.from(data.subarray(offset));
  }

  /** @param {Buffer} payload */
  #pong(payload) {
    // Client frames are masked; a zero mask leaves the payload as it is.
    const frame = Buffer.alloc(6 + payload.length);
    frame[0] = 0x8a;
    frame[1] = 0x80 | payload.length;
    payload.copy(frame, 6);
    this.socket.write(frame);
  }

  /**
   * @param {Buffer} data
   * @param {number} start
   * @param {number} length
   * @param {number} arrival
   */
  #frame(data, start, length, arrival) {
    recordFrame(data, start, length, arrival);
  }
}

/**
 * Counts one frame (its JSON text at `start`, `length` bytes) in the sink, with its latency when
 * it carries a publish time.
 *
 * @param {Buffer} data
 * @param {number} start
 * @param {number} length
 * @param {number} arrival
 */
function recordFrame(data, start, length, arrival) {
  sink.lastAt = arrival;
  const at = data.indexOf(BT, start);
  if (at === -1 || at > start + 96 || at > start + length) {
    sink.untimed++;
    return;
  }
  let value = 0;
  let scale = 0;
  for (let i = at + BT.length; i < start + length; i++) {
    const byte = /** @type {number} */ (data[i]);
    if (byte === 0x2e) scale = 1;
    else if (byte >= 0x30 && byte <= 0x39) {
      if (scale > 0) scale *= 10;
      value = value * 10 + (byte - 0x30);
    } else break;
  }
  sink.timed++;
  sink.record(arrival - (scale > 0 ? value / scale : value));
}

const EVENT_END = Buffer.from("\n\n");
const DATA_FIELD = Buffer.from("data: ");

/**
 * A raw Server-Sent Events client: reads the chunked body of `GET /events`, counts each event's
 * frame as {@link RawClient} does (heartbeat comments are not events).
 */
class StreamClient {
  /** Body bytes of an event not complete yet. @type {Buffer | null} */
  #pending = null;
  /** Bytes left of the current chunk. */
  #chunkLeft = 0;
  /** Bytes to skip: the line break after a chunk. */
  #skip = 0;
  /** The chunk-size line read so far. */
  #sizeLine = "";

  /**
   * @param {net.Socket} socket
   * @param {string} region
   */
  constructor(socket, region) {
    this.socket = socket;
    this.region = region;
  }

  /**
   * Connects and opens the stream; with `read: false` it never reads again (a stalled peer).
   *
   * @param {number} port
   * @param {string} region
   * @param {boolean} [read]
   * @returns {Promise<StreamClient>}
   */
  static connect(port, region, read = true) {
    const request = `GET /events?region=${region} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
    return openRaw({ port, request, status: "200", read }, (socket) => {
      const client = new StreamClient(socket, region);
      return { client, consume: (chunk) => client.#consume(chunk) };
    });
  }

  close() {
    this.socket.destroy();
  }

  /** Takes the chunked framing off `chunk` and reads the events in it. @param {Buffer} chunk */
  #consume(chunk) {
    /** @type {Buffer[]} */
    const parts = this.#pending === null ? [] : [this.#pending];
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
      } else if (this.#chunkLeft > 0) {
        const n = Math.min(this.#chunkLeft, chunk.length - i);
        parts.push(chunk.subarray(i, i + n));
        this.#chunkLeft -= n;
        i += n;
        if (this.#chunkLeft === 0) this.#skip = 2;
      } else {
        const end = chunk.indexOf(0x0a, i);
        if (end === -1) {
          this.#sizeLine += chunk.toString("latin1", i);
          break;
        }
        this.#chunkLeft = parseInt(this.#sizeLine + chunk.toString("latin1", i, end), 16) || 0;
        this.#sizeLine = "";
        i = end + 1;
      }
    }
    this.#pending = null;
    if (parts.length > 0) {
      this.#events(parts.length === 1 ? /** @type {Buffer} */ (parts[0]) : Buffer.concat(parts));
    }
  }

  /** @param {Buffer} data */
  #events(data) {
    const arrival = clock();
    let offset = 0;
    for (;;) {
      const end = data.indexOf(EVENT_END, offset);
      if (end === -1) break;
      const field = data.indexOf(DATA_FIELD, offset);
      if (field !== -1 && field < end) {
        const start = field + DATA_FIELD.length;
        recordFrame(data, start, end - start, arrival);
      }
      offset = end + 2;
    }
    // Copied: `data` may be the shared read buffer.
    if (offset < data.length) this.#pending = Buffer.from(data.subarray(offset));
  }
}

/** Publishes on Redis over one pipelined connection; replies are read and dropped. */
class Publisher {
  sequence = 0;

  /** @param {net.Socket} socket */
  constructor(socket) {
    this.socket = socket;
    socket.on("data", () => {});
  }

  /** @param {number} port @returns {Promise<Publisher>} */
  static connect(port) {
    return new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(new Publisher(socket)));
      socket.setNoDelay(true);
    });
  }

  /**
   * Publishes a `new_trending` to `region`, timed unless `padding` makes it bulk traffic.
   *
   * @param {string} region
   * @param {string} [padding]
   */
  publish(region, padding) {
    const id = `b${process.pid}-${this.sequence++}`;
    const payload = padding === undefined
      ? `{"bt":${
        clock().toFixed(3)
      },"event":"new_trending","region":"${region}","video_id":"${id}",` +
        `"title":"${TITLES[region] ?? region} ${id}",` +
        `"thumbnail":"https:\\/\\/i.ytimg.com\\/vi\\/${id}\\/hqdefault.jpg",` +
        `"channel":"TrendVid ${region}","rtl":${region === "AE"},"ts":${
          Math.floor(Date.now() / 1000)
        }}`
      : `{"event":"new_trending","video_id":"${id}","title":"Bulk ${id}","padding":"${padding}"}`;
    const channel = `tvs:${region}`;
    this.socket.write(
      `*3\r\n$7\r\nPUBLISH\r\n$${channel.length}\r\n${channel}\r\n` +
        `$${Buffer.byteLength(payload)}\r\n${payload}\r\n`,
    );
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * The clients of this run: event streams when the parameters say `"sse": 1`.
 *
 * @type {{ connect(port: number, region: string, read?: boolean): Promise<RawClient | StreamClient> }}
 */
let Client = RawClient;

/**
 * Connects `count` raw clients spread over `regions`, 200 handshakes at a time.
 *
 * @param {number} port
 * @param {number} count
 * @param {readonly string[]} regions
 */
async function connectClients(port, count, regions) {
  /** @type {(RawClient | StreamClient)[]} */
  const clients = [];
  const started = clock();
  for (let i = 0; i < count; i += 200) {
    const batch = Array.from(
      { length: Math.min(200, count - i) },
      (_, j) => Client.connect(port, /** @type {string} */ (regions[(i + j) % regions.length])),
    );
    clients.push(...await Promise.all(batch));
  }
  return { clients, seconds: (clock() - started) / 1000 };
}

/** @param {readonly (RawClient | StreamClient)[]} clients */
function perRegion(clients) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const client of clients) counts.set(client.region, (counts.get(client.region) ?? 0) + 1);
  return counts;
}

/**
 * Waits until `done()` or `ms` pass without any frame arriving.
 *
 * @param {() => boolean} done
 * @param {number} ms
 */
async function settle(done, ms) {
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

/**
 * Publishes timed messages at a steady rate (and bulk ones if asked); measures the deliveries.
 *
 * @param {Publisher} publisher
 * @param {readonly (RawClient | StreamClient)[]} clients
 * @param {{ perSecond: number, seconds: number, regions: readonly string[],
 *   bulk?: { region: string, bytes: number, messageBytes: number } }} traffic
 * @param {number} targetPid
 */
async function run(publisher, clients, traffic, targetPid) {
  sink = new Sink();
  const counts = perRegion(clients);
  const total = Math.round(traffic.perSecond * traffic.seconds);
  const bulk = traffic.bulk;
  const bulkCount = bulk === undefined ? 0 : Math.ceil(bulk.bytes / bulk.messageBytes);
  const padding = bulk === undefined ? "" : "x".repeat(bulk.messageBytes - 120);
  let expectedTimed = 0;
  let expectedBulk = 0;
  const cpu0 = { target: cpuMs(targetPid), self: ownCpuMs() };
  const started = clock();
  let sentTimed = 0;
  let sentBulk = 0;
  // A 1 ms tick publishes whatever is due: timed messages on their schedule, bulk spread evenly.
  while (sentTimed < total || sentBulk < bulkCount) {
    const elapsed = clock() - started;
    while (sentTimed < total && (sentTimed * 1000) / traffic.perSecond <= elapsed) {
      const region = /** @type {string} */ (traffic.regions[sentTimed % traffic.regions.length]);
      publisher.publish(region);
      expectedTimed += counts.get(region) ?? 0;
      sentTimed++;
    }
    while (
      bulk !== undefined && sentBulk < bulkCount &&
      (sentBulk * traffic.seconds * 1000) / bulkCount <= elapsed
    ) {
      publisher.publish(bulk.region, padding);
      expectedBulk += counts.get(bulk.region) ?? 0;
      sentBulk++;
    }
    await sleep(1);
  }
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
    loadgenCpuMs: ownCpuMs() - cpu0.self,
    seconds: receivingFor / 1000,
  };
}

/**
 * @param {Record<string, number>} params
 * @param {string} name
 * @returns {number}
 */
function need(params, name) {
  const value = params[name];
  if (typeof value !== "number") throw new TypeError(`Missing parameter: ${name}`);
  return value;
}

/** @type {Record<string, (params: Record<string, number>) => Promise<void>>} */
const scenarios = {
  /** S1: latency of 1,000 clients over 8 regions at a steady rate. */
  async s1(params) {
    const { clients } = await connectClients(
      need(params, "port"),
      need(params, "clients"),
      REGIONS,
    );
    const publisher = await Publisher.connect(need(params, "redisPort"));
    await sleep(500);
    const result = await run(publisher, clients, {
      perSecond: need(params, "perSecond"),
      seconds: need(params, "seconds"),
      regions: REGIONS,
    }, need(params, "targetPid"));
    emit({ scenario: "s1", ...result });
    publisher.close();
    for (const client of clients) client.close();
  },

  /** S3 and memory: 10,000 idle clients of one region, then single messages to all of them. */
  async s3(params) {
    const pid = need(params, "targetPid");
    await sleep(1000);
    const rssBefore = rssBytes(pid);
    const { clients, seconds } = await connectClients(
      need(params, "port"),
      need(params, "clients"),
      ["AE"],
    );
    await sleep(2000);
    const rssAfter = rssBytes(pid);
    const publisher = await Publisher.connect(need(params, "redisPort"));
    const bursts = [];
    /** Each burst's first, median, p99 and last client's latency. */
    const figures = [];
    const cpuBefore = cpuMs(pid);
    for (let i = 0; i < need(params, "bursts"); i++) {
      sink = new Sink();
      publisher.publish("AE");
      await settle(() => sink.timed >= clients.length, 2000);
      const summary = sink.summary();
      const complete = sink.timed >= clients.length;
      // The slowest client's latency: publish until the last client has it.
      bursts.push(complete ? summary.max : NaN);
      figures.push(complete ? summary : { min: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN });
      await sleep(200);
    }
    const deliveries = clients.length * need(params, "bursts");
    emit({
      scenario: "s3",
      connectSeconds: seconds,
      rssBefore,
      rssAfter,
      bytesPerConnection: (rssAfter - rssBefore) / clients.length,
      bursts,
      first: median(figures.map((figure) => figure.min)),
      p50: median(figures.map((figure) => figure.p50)),
      p99: median(figures.map((figure) => figure.p99)),
      last: median(figures.map((figure) => figure.max)),
      cpuPerDeliveryUs: ((cpuMs(pid) - cpuBefore) * 1000) / deliveries,
    });
    publisher.close();
    for (const client of clients) client.close();
  },

  /**
   * Overload: 10,000 clients over 8 regions at a fixed rate past the target's saturation for a
   * while, its resident memory sampled every 200 ms: how much a target holds when it cannot keep
   * up, and whether it keeps its bound.
   */
  async overload(params) {
    const pid = need(params, "targetPid");
    const { clients } = await connectClients(
      need(params, "port"),
      need(params, "clients"),
      REGIONS,
    );
    const publisher = await Publisher.connect(need(params, "redisPort"));
    await sleep(1000);
    const idleRss = rssBytes(pid);
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, rssBytes(pid));
      } catch {
        // The target ended.
      }
    }, RSS_SAMPLE_MS);
    const result = await run(publisher, clients, {
      perSecond: need(params, "rate"),
      seconds: need(params, "seconds"),
      regions: REGIONS,
    }, pid);
    clearInterval(sampler);
    const open = clients.filter((client) => !client.socket.destroyed).length;
    emit({ scenario: "overload", idleRss, peakRss, ...result, clientsOpen: open });
    publisher.close();
    for (const client of clients) client.close();
  },

  /** S2: 10,000 clients over 8 regions; the publish rate rises until deliveries stop growing. */
  async s2(params) {
    const { clients } = await connectClients(
      need(params, "port"),
      need(params, "clients"),
      REGIONS,
    );
    const publisher = await Publisher.connect(need(params, "redisPort"));
    await sleep(1000);
    const steps = [];
    let best = 0;
    // One step that does not grow can be the shared machine's noise: two in a row end the ramp.
    let flatSteps = 0;
    for (
      let rate = need(params, "startRate");
      rate <= need(params, "maxRate");
      rate = Math.round(rate * need(params, "factor"))
    ) {
      const result = await run(publisher, clients, {
        perSecond: rate,
        seconds: need(params, "secondsPerStep"),
        regions: REGIONS,
      }, need(params, "targetPid"));
      const lossRatio = result.lossTimed / Math.max(1, result.expected);
      steps.push({ rate, ...result, lossRatio });
      emit({ scenario: "s2-step", rate, ...result, lossRatio });
      if (lossRatio > 0.005) break;
      flatSteps = result.deliveriesPerSecond < best * 1.05 ? flatSteps + 1 : 0;
      if (flatSteps === 2) break;
      best = Math.max(best, result.deliveriesPerSecond);
      await sleep(500);
    }
    emit({ scenario: "s2", steps });
    publisher.close();
    for (const client of clients) client.close();
  },

  /**
   * S4: S1 with bulk traffic to AE: warm-up phases until the target's RSS settles, a control
   * phase, then the same with a client on AE that never reads.
   */
  async s4(params) {
    const pid = need(params, "targetPid");
    const port = need(params, "port");
    const { clients } = await connectClients(port, need(params, "clients"), REGIONS);
    const publisher = await Publisher.connect(need(params, "redisPort"));
    await sleep(500);
    const seconds = need(params, "seconds");
    const messageBytes = need(params, "messageBytes");
    const traffic = {
      perSecond: need(params, "perSecond"),
      seconds,
      regions: REGIONS,
      bulk: { region: "AE", bytes: need(params, "bulkBytes"), messageBytes },
    };
    // Under this traffic V8 keeps resizing its heap: the gateway's RSS swings by 30 MB from one
    // second to the next with no change in what it holds (measured over 150 s: heap in use flat).
    // So a phase's RSS is the median of samples over its second half, and warm-up phases repeat
    // until that level moves by less than SETTLED_GROWTH: a stalled client's queue, which only
    // grows, shows as a higher level; a swing of the heap does not.
    /** Runs one phase of `traffic`; resolves to its figures and its RSS level. */
    const phase = async () => {
      /** @type {number[]} */
      const samples = [];
      const sampler = setInterval(() => samples.push(rssBytes(pid)), RSS_SAMPLE_MS);
      const figures = await run(publisher, clients, traffic, pid);
      clearInterval(sampler);
      return { figures, rss: median(samples.slice(Math.floor(samples.length / 2))) };
    };
    /** @type {number[]} How much each warm-up phase moved the RSS level, in bytes. */
    const warmups = [];
    let level = (await phase()).rss;
    while (warmups.length < need(params, "maxWarmups")) {
      const next = (await phase()).rss;
      warmups.push(next - level);
      const settled = Math.abs(next - level) < SETTLED_GROWTH;
      level = next;
      if (settled) break;
    }
    const control = await phase();
    const stalled = await RawClient.connect(port, "AE", false);
    const withStall = await phase();
    emit({
      scenario: "s4",
      control: control.figures,
      stalled: withStall.figures,
      rssControl: control.rss,
      rssStalled: withStall.rss,
      rssGrowth: withStall.rss - control.rss,
      warmups,
    });
    stalled.close();
    publisher.close();
    for (const client of clients) client.close();
  },
};

const [name, json] = process.argv.slice(2);
const scenario = name === undefined ? undefined : scenarios[name];
if (scenario === undefined || json === undefined) {
  console.error(`usage: loadgen.mjs <${Object.keys(scenarios).join("|")}> '<json>'`);
  process.exit(2);
}
const params = JSON.parse(json);
if (params.sse === 1) Client = StreamClient;
await scenario(params);
process.exit(0);
