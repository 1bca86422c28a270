/**
 * How a producer publishes through a failover: a `PUBLISH` that reached no subscriber, or failed,
 * is sent again for a few seconds, since the subscribers are moving to the new master meanwhile.
 * The gateways drop the repeat should both copies arrive (de-duplication by fingerprint). What
 * the reference publisher (`publish`) and `POST /publish` do, and what docs/operations.md asks of
 * other producers.
 *
 * @module
 */

/** How long a publication that reached nobody is retried, in ms. */
export const PUBLISH_RETRY_MS = 5000;
/** Pause between two attempts, in ms. */
const RETRY_EVERY_MS = 200;

/**
 * Runs `attempt` until `delivered` says its outcome reached someone, or {@link PUBLISH_RETRY_MS}
 * has passed; then returns the last outcome, or throws the last error.
 */
export async function retryUntilDelivered<T>(
  attempt: () => Promise<T>,
  delivered: (outcome: T) => boolean,
): Promise<T> {
  const deadline = performance.now() + PUBLISH_RETRY_MS;
  for (;;) {
    const outcome = await attempt().then((value) => ({ value }), (error: unknown) => ({ error }));
    const last = performance.now() >= deadline;
    if ("value" in outcome && (delivered(outcome.value) || last)) return outcome.value;
    if ("error" in outcome && last) throw outcome.error;
    await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
  }
}
