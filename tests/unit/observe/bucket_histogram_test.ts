import assert from "node:assert/strict";
import { AggregatorRegistry, Registry } from "prom-client";
import { BucketHistogram } from "../../../lib/observe/bucket_histogram.ts";

function histogram(registry: Registry) {
  return new BucketHistogram({
    name: "tvs_lag_seconds",
    help: "lag",
    buckets: [0.01, 0.1],
    label: { name: "from", values: ["arrival", "producer"] },
    registry,
  });
}

Deno.test("observations render as cumulative buckets, sum and count, in /metrics and for workers", async () => {
  const registry = new Registry();
  const lag = histogram(registry);
  for (const value of [0.005, 0.05, 0.05, 3]) lag.record(value, "arrival");
  lag.record(0.1, "producer");
  const text = await registry.metrics();
  for (
    const line of [
      'tvs_lag_seconds_bucket{from="arrival",le="0.01"} 1',
      'tvs_lag_seconds_bucket{from="arrival",le="0.1"} 3',
      'tvs_lag_seconds_bucket{from="arrival",le="+Inf"} 4',
      'tvs_lag_seconds_sum{from="arrival"} 3.105',
      'tvs_lag_seconds_count{from="arrival"} 4',
      'tvs_lag_seconds_bucket{from="producer",le="0.1"} 1',
      'tvs_lag_seconds_count{from="producer"} 1',
    ]
  ) {
    assert.ok(text.split("\n").includes(line), `${line} in\n${text}`);
  }
  // Two workers' histograms sum, as a process's /metrics shows them.
  const other = new Registry();
  histogram(other).record(0.05, "arrival");
  const merged = AggregatorRegistry.aggregate([
    await registry.getMetricsAsJSON(),
    await other.getMetricsAsJSON(),
  ]);
  assert.match(await merged.metrics(), /^tvs_lag_seconds_count\{from="arrival"\} 5$/m);
  assert.throws(() => lag.record(1, "elsewhere"), RangeError);
});
