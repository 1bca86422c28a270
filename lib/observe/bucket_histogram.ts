/**
 * A Prometheus histogram for the hot path: an observation is a few comparisons and additions into
 * plain numbers, where prom-client's `observe` hashes its labels every time; the buckets become a
 * histogram at scrape time. One optional label, whose values are known in advance.
 *
 * @module
 */

import { Histogram, type Registry } from "prom-client";

/** One label value's counts. */
interface Series {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Options of {@link BucketHistogram}. */
export interface BucketHistogramOptions {
  readonly name: string;
  readonly help: string;
  /** Upper bounds of the buckets, ascending. */
  readonly buckets: readonly number[];
  readonly registry: Registry;
  /** The label and every value it takes. @default none */
  readonly label?: { readonly name: string; readonly values: readonly string[] };
}

/** A histogram observed without prom-client calls. */
export class BucketHistogram extends Histogram<string> {
  readonly #name: string;
  readonly #help: string;
  readonly #buckets: readonly number[];
  readonly #label: string | undefined;
  readonly #series = new Map<string, Series>();

  /** Registers an empty histogram in `options.registry`. */
  constructor(options: BucketHistogramOptions) {
    super({
      name: options.name,
      help: options.help,
      buckets: [...options.buckets],
      labelNames: options.label === undefined ? [] : [options.label.name],
      registers: [options.registry],
    });
    this.#name = options.name;
    this.#help = options.help;
    this.#buckets = options.buckets;
    this.#label = options.label?.name;
    for (const value of options.label?.values ?? [""]) {
      this.#series.set(value, {
        counts: new Float64Array(options.buckets.length + 1),
        sum: 0,
        count: 0,
      });
    }
  }

  /** Observes `value` (for label value `labelValue`, when there is a label). */
  record(value: number, labelValue = ""): void {
    const series = this.#series.get(labelValue);
    if (series === undefined) throw new RangeError(`No series ${labelValue} of ${this.#name}`);
    let bucket = 0;
    while (bucket < this.#buckets.length && value > this.#buckets[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += value;
    series.count++;
  }

  /**
   * What `Registry.metrics()` renders: prom-client asks a histogram for this rather than `get()`
   * (its types leave it out), so both give the recorded series.
   */
  getForPromString(): ReturnType<Histogram<string>["get"]> {
    return this.get();
  }

  /** The histogram as prom-client renders one: cumulative buckets, sum and count per series. */
  override get(): ReturnType<Histogram<string>["get"]> {
    const values = [];
    for (const [labelValue, series] of this.#series) {
      const labels = this.#label === undefined ? {} : { [this.#label]: labelValue };
      let cumulative = 0;
      for (let i = 0; i <= this.#buckets.length; i++) {
        cumulative += series.counts[i]!;
        values.push({
          value: cumulative,
          metricName: `${this.#name}_bucket`,
          labels: { ...labels, le: i < this.#buckets.length ? this.#buckets[i]! : "+Inf" },
        });
      }
      values.push({ value: series.sum, metricName: `${this.#name}_sum`, labels });
      values.push({ value: series.count, metricName: `${this.#name}_count`, labels });
    }
    const metric = {
      name: this.#name,
      help: this.#help,
      type: "histogram",
      values,
      aggregator: "sum",
    };
    // prom-client's types declare `type` a numeric enum its code does not have, and a `collect`
    // its histograms' `get` leaves out: this is what its own histograms give.
    return Promise.resolve(metric as unknown as Awaited<ReturnType<Histogram<string>["get"]>>);
  }
}
