/**
 * The Lua scripts the Redis broker runs (`lua/`), each one atomic step, so that every gateway
 * instance on one Redis records the same stream.
 *
 * Keys of a region (the `{AE}` hash tag keeps them in one slot, should this ever run on a
 * cluster), with the channel prefix in front:
 * - `{AE}:meta`     hash: `epoch` of the stream, `top` offset
 * - `{AE}:history`  stream: entry `<offset>-0`, fields `t` (ms), `f` (fingerprint), `d` (message)
 * - `{AE}:index`    hash: fingerprint → offset, for the entries of the history
 * - `{AE}:dedupe`   sorted set: de-duplication keys by first sighting (ms)
 *
 * @module
 */

import common from "./lua/common.lua" with { type: "text" };
import recentKeys from "./lua/recent_keys.lua" with { type: "text" };
import record from "./lua/record.lua" with { type: "text" };
import recover from "./lua/recover.lua" with { type: "text" };

/** A Lua script run with `EVAL`. */
export interface RedisScript {
  readonly source: string;
}

/**
 * A script with the shared functions in front. Whole-line comments are dropped: `EVAL` sends the
 * text with every call, and they are for readers of the `.lua` files.
 */
function script(body: string): RedisScript {
  return { source: (common + body).replace(/^\s*--.*\n/gm, "").trim() };
}

/** Records a delivered publication (`lua/record.lua`). */
export const RECORD_SCRIPT: RedisScript = script(record);

/** A region's position and what followed a cursor (`lua/recover.lua`). */
export const RECOVER_SCRIPT: RedisScript = script(recover);

/** The de-duplication keys within the window, with their ages (`lua/recent_keys.lua`). */
export const RECENT_KEYS_SCRIPT: RedisScript = script(recentKeys);
