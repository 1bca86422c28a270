/**
 * Reading `GET /metrics` bodies (Prometheus text format), as an operator's scraper would.
 *
 * @module
 */

/** The value of the sample `name{labels}` in a Prometheus text body, or 0 when absent. */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(sample + " ")) return Number(line.slice(sample.length + 1));
  }
  return 0;
}
