/**
 * What the benchmark scripts share to report: markdown tables, figures with their units, the
 * targets met or missed, and S2's saturation read off the load generator's steps.
 *
 * @module
 */

import type { Event, Figures } from "./harness.ts";

/** A markdown table of `rows` under `header`. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, header.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`)
    .join("\n");
}

/** Targets of one run: each checked once, the missed ones listed at the end. */
export class Checks {
  readonly failures: string[] = [];

  /** A target: `met`, or a failure described by `text`; the line for the report. */
  check(text: string, met: boolean): string {
    if (!met) this.failures.push(text);
    return `${met ? "✅" : "❌"} ${text}`;
  }

  /** The report's last lines. */
  summary(): string {
    return this.failures.length === 0
      ? "All targets met."
      : `Targets missed:\n${this.failures.map((failure) => `- ${failure}`).join("\n")}`;
  }
}

/** A figure in milliseconds, microseconds, a count, or mebibytes. */
export const ms = (value: number | undefined) => `${(value ?? NaN).toFixed(2)} ms`;
export const us = (value: number | undefined) => `${(value ?? NaN).toFixed(2)} µs`;
export const count = (value: number | undefined) =>
  Math.round(value ?? NaN).toLocaleString("en-US");
export const mb = (value: number | undefined) => `${((value ?? NaN) / 1_048_576).toFixed(0)} MB`;

/**
 * S2's saturation from the load generator's events: the step with the most deliveries per second
 * among those that lost at most 0.5 %, its rate and the target's CPU per delivery in it.
 */
export function s2Saturation(events: readonly Event[]): Figures {
  const steps = events.filter((event) => event.scenario === "s2-step") as unknown as Figures[];
  const good = steps.filter((step) => step.lossRatio! <= 0.005);
  const best = good.reduce(
    (top, step) => step.deliveriesPerSecond! > (top?.deliveriesPerSecond ?? 0) ? step : top,
    good[0],
  );
  return {
    saturation: best?.deliveriesPerSecond ?? NaN,
    rate: best?.rate ?? NaN,
    cpuPerDelivery: best === undefined
      ? NaN
      : (best.targetCpuMs! * 1000) / (best.deliveriesPerSecond! * best.seconds!),
  };
}
