import assert from "node:assert/strict";
import { AggregatedLog, Logger } from "../../../lib/observe/log.ts";

function capture(level: "debug" | "info" | "warn" | "error" = "info") {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: new Logger(level, (line) => lines.push(JSON.parse(line))) };
}

Deno.test("log lines are JSON objects with ts, level, msg and fields, filtered by level", () => {
  const { lines, logger } = capture("info");
  logger.debug("hidden");
  logger.info("shown", { region: "AE" });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, "info");
  assert.equal(lines[0]?.msg, "shown");
  assert.equal(lines[0]?.region, "AE");
  assert.ok(!Number.isNaN(Date.parse(String(lines[0]?.ts))));
});

Deno.test("an aggregated log writes the first occurrence, then one summary per key", () => {
  const { lines, logger } = capture();
  const log = new AggregatedLog(logger, "publication rejected", { intervalMs: 60_000 });
  for (let i = 0; i < 500; i++) log.record("invalid_json", { region: "AE", i });
  log.record("empty", { region: "FI" });
  assert.equal(lines.length, 2);
  log.flush();
  assert.equal(lines.length, 3);
  assert.equal(lines[2]?.key, "invalid_json");
  assert.equal(lines[2]?.repeated, 499);
  assert.equal(lines[2]?.i, 499);
  log.record("invalid_json", {});
  assert.equal(lines.length, 4, "a new window logs the first occurrence again");
  log.flush();
});
