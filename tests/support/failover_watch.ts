/**
 * What the failover tests watch while Redis fails over under a gateway: three viewers of AE, a
 * producer publishing every 100 ms (each publication titled by its index), `/readyz` and the
 * arrival of every frame at the first viewer, every 50 ms.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { GatewayProcess } from "./gateway_process.ts";
import { delay } from "./wait.ts";
import { TestClient } from "./ws_client.ts";

/** Publishes publication `index` (its JSON as given) until a subscriber got it, or throws. */
export type PublishOne = (index: number, payload: string) => Promise<void>;

/** Viewers, a producer and a poll of the gateway, stopped on dispose. */
export class FailoverWatch implements AsyncDisposable {
  /** `/readyz` at every poll, oldest first. */
  readonly readiness: boolean[] = [];
  readonly #viewers: TestClient[] & AsyncDisposable;
  readonly #arrivals: number[] = [];
  readonly #timer: ReturnType<typeof setInterval>;
  #closed = 0;
  #published = 0;
  /** When each publication was accepted (`performance.now()`), by index. */
  readonly #publishedAt: number[] = [];
  /** The gateway's log lines, to tell what it was doing when a publication went missing. */
  readonly #gatewayLogs: Record<string, unknown>[];
  #publishing = true;
  readonly #producer: Promise<void>;

  private constructor(
    gateway: GatewayProcess,
    viewers: TestClient[] & AsyncDisposable,
    publishOne: PublishOne,
  ) {
    this.#viewers = viewers;
    this.#gatewayLogs = gateway.logs;
    for (const viewer of viewers) void viewer.closed.then(() => this.#closed++);
    const first = viewers[0]!;
    this.#timer = setInterval(() => {
      void gateway.ready().then((ready) => this.readiness.push(ready));
      while (this.#arrivals.length < first.frames.length) this.#arrivals.push(performance.now());
    }, 50);
    this.#producer = (async () => {
      while (this.#publishing) {
        const index = this.#published;
        const payload = { event: "new_trending", video_id: `f${index}`, title: `${index}` };
        await publishOne(index, JSON.stringify(payload));
        this.#publishedAt.push(performance.now());
        this.#published++;
        await delay(100);
      }
    })();
  }

  /** Connects three viewers of AE to `gateway` and starts publishing with `publishOne`. */
  static async start(gateway: GatewayProcess, publishOne: PublishOne): Promise<FailoverWatch> {
    const viewers = await TestClient.connectAll([1, 2, 3].map(() => `${gateway.ws}/?region=AE`));
    return new FailoverWatch(gateway, viewers, publishOne);
  }

  /** Viewers the gateway closed (none should be). */
  get closed(): number {
    return this.#closed;
  }

  /** The first viewer. */
  get first(): TestClient {
    return this.#viewers[0]!;
  }

  /** The longest time the first viewer went without a delivery since `from`, in ms. */
  longestGapSince(from: number): number {
    const times = [from, ...this.#arrivals.filter((time) => time > from)];
    return Math.max(...times.slice(1).map((time, i) => time - times[i]!));
  }

  /** Waits until every viewer has `count` more frames than the first one has now. */
  async moreDeliveries(count: number): Promise<void> {
    const target = this.first.frames.length + count;
    for (const viewer of this.#viewers) await viewer.waitForFrames(target, 20_000);
  }

  /**
   * Stops the producer and checks that every viewer got every publication once, in order;
   * returns how many there were.
   */
  async everyPublicationOnce(): Promise<number> {
    this.#publishing = false;
    await this.#producer;
    const published = this.#published;
    const expected = Array.from({ length: published }, (_, i) => String(i));
    for (const viewer of this.#viewers) {
      await viewer.waitForFrames(published, 10_000).catch(() => {});
      const titles = viewer.frames.map((frame) => JSON.parse(frame).title);
      assert.deepEqual(titles, expected, this.#missing(titles, expected));
    }
    return published;
  }

  /**
   * What a viewer lacks, each publication with when it was accepted, and the gateway's broker
   * lines around then: a failure says which publication and what the gateway was doing.
   */
  #missing(titles: readonly string[], expected: readonly string[]): string {
    const lacking = expected.filter((title) => !titles.includes(title)).map(Number);
    const broker = this.#gatewayLogs.filter((line) => /broker|subscri/i.test(String(line.msg)));
    const at = lacking.map((index) => {
      const ms = Math.round(this.#publishedAt[index]! - this.#publishedAt[0]!);
      return `${index} (accepted ${ms} ms after the first)`;
    });
    return `missing ${at.join(", ") || "none"}; broker lines: ${JSON.stringify(broker)}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.#timer);
    this.#publishing = false;
    await this.#producer.catch(() => {});
    await this.#viewers[Symbol.asyncDispose]();
  }
}
