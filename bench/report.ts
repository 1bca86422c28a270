/**
 * What the benchmark scripts share to report: markdown tables, figures with their units, the
 * targets met or missed, and S2's saturation read off the load generator's steps.
 *
 * @module
 */

import { type Event, type Figures, ROOT } from "./harness.ts";

/**
 * Writes `report` to `bench/results/<name>.md`, or to `<name>-2.md`, `-3`… when a run of the same
 * day wrote that already: a rerun never replaces a recorded one. Returns the path.
 */
export async function writeResult(name: string, report: string): Promise<string> {
  for (let run = 1; run < 100; run++) {
    const path = `${ROOT}bench/results/${name}${run === 1 ? "" : `-${run}`}.md`;
    try {
      await Deno.writeTextFile(path, report, { createNew: true });
      console.error(`written to ${path}`);
      return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  throw new Error(`bench/results holds 99 runs named ${name} already`);
}

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
 * S2's sizes (10,000 clients over 8 regions, the rate raised from 40 publications/s), full or
 * quick: the same ramp in every script that measures saturation.
 */
export function s2Sizes(full: boolean): Record<string, number> {
  return {
    clients: 10_000,
    startRate: 40,
    factor: full ? 1.4 : 1.6,
    maxRate: 4000,
    secondsPerStep: full ? 5 : 2,
  };
}

/**
 * S2's saturation from the load generator's events: the step with the most deliveries per second
 * among those that lost at most 0.5 %, its rate, and in it the target's CPU per delivery and the
 * share of a core the target and the generator used.
 */
export function s2Saturation(events: readonly Event[]): Figures {
  const steps = events.filter((event) => event.scenario === "s2-step") as unknown as Figures[];
  const best = steps.filter((step) => step.lossRatio! <= 0.005).reduce<Figures | undefined>(
    (top, step) => step.deliveriesPerSecond! > (top?.deliveriesPerSecond ?? 0) ? step : top,
    undefined,
  );
  if (best === undefined) {
    return { saturation: NaN, rate: NaN, cpuPerDelivery: NaN, targetCpu: NaN, loadgenCpu: NaN };
  }
  return {
    saturation: best.deliveriesPerSecond!,
    rate: best.rate!,
    cpuPerDelivery: (best.targetCpuMs! * 1000) / (best.deliveriesPerSecond! * best.seconds!),
    targetCpu: best.targetCpuMs! / (best.seconds! * 10),
    loadgenCpu: best.loadgenCpuMs! / (best.seconds! * 10),
  };
}
