/**
 * Epochs name one life of a region's stream: a new one begins when the history is lost, so a
 * client holding a position from an older life is told it cannot recover.
 *
 * @module
 */

/** A new random epoch: 8 characters of `[0-9a-z]`. */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (byte) => (byte % 36).toString(36)).join("");
}
