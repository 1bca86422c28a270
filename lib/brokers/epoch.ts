/**
 * Epochs name one life of a region's stream: a new one begins when the history is lost, so a
 * client holding a position from an older life is told it cannot recover.
 *
 * @module
 */

/**
 * A new random epoch: 8 characters of `[0-9a-z]`. It must be unique, not secret, and one is drawn
 * for every append (used only if the stream has none), so `Math.random` rather than an op call.
 */
export function newEpoch(): string {
  let epoch = "";
  while (epoch.length < 8) epoch += Math.floor(Math.random() * 36).toString(36);
  return epoch;
}
