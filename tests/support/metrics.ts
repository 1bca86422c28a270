/**
 * What an operator's tooling reads from a gateway: the `GET /metrics` body (Prometheus text
 * format) and the `GET /readyz` probe.
 *
 * @module
 */

/** Body of `GET /metrics` of the gateway at `http` (`http://host:port`). */
export async function fetchMetrics(http: string): Promise<string> {
  return await (await fetch(`${http}/metrics`)).text();
}

/**
 * Whether the gateway at `http` is ready, as a load balancer's probe sees it: `GET /readyz`
 * answers 200. Not listening counts as not ready.
 */
export async function isReady(http: string): Promise<boolean> {
  try {
    const response = await fetch(`${http}/readyz`);
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** The value of the sample `name{labels}` in a Prometheus text body, or 0 when absent. */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(sample + " ")) return Number(line.slice(sample.length + 1));
  }
  return 0;
}
