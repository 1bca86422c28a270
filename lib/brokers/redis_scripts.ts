/**
 * Lua scripts the Redis broker runs, each one atomic step, so that every gateway instance on one
 * Redis records the same stream.
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

/** A Lua script run with `EVAL`. */
export interface RedisScript {
  readonly source: string;
}

function script(source: string): RedisScript {
  return { source: source.trim() };
}

/** Lua shared by the scripts: the clock, and the stream's epoch (created with it if missing). */
const COMMON = `
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function ensure_epoch(meta, history, index, candidate, meta_ttl)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = candidate
    redis.call('DEL', history, index)
    redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
  end
  redis.call('PEXPIRE', meta, meta_ttl)
  return epoch
end
`;

/**
 * Records a delivered publication: its de-duplication key, the next offset, a history entry and
 * its fingerprint in the index. A fingerprint already in the index was recorded by another
 * instance (or the same bytes were published again): its offset is returned, nothing changes.
 *
 * KEYS: meta, history, index, dedupe.
 * ARGV: [1] message, [2] fingerprint, [3] de-duplication key ("" for none), [4] window ms,
 * [5] de-duplication capacity, [6] history size, [7] history ttl ms, [8] epoch to use if the
 * stream has none, [9] meta ttl ms.
 * Returns {epoch, offset}.
 */
export const RECORD_SCRIPT: RedisScript = script(
  COMMON + `
local meta, history, index, dedupe = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local epoch = ensure_epoch(meta, history, index, ARGV[8], ARGV[9])
local known = redis.call('HGET', index, ARGV[2])
if known then return {epoch, tonumber(known)} end
local now = now_ms()
local window = tonumber(ARGV[4])
if ARGV[3] ~= '' and window > 0 then
  redis.call('ZADD', dedupe, 'NX', now, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', dedupe, '-inf', now - window)
  local excess = redis.call('ZCARD', dedupe) - tonumber(ARGV[5])
  if excess > 0 then redis.call('ZREMRANGEBYRANK', dedupe, 0, excess - 1) end
  redis.call('PEXPIRE', dedupe, window)
end
local offset = redis.call('HINCRBY', meta, 'top', 1)
local size, ttl = tonumber(ARGV[6]), tonumber(ARGV[7])
redis.call('XADD', history, offset .. '-0', 't', now, 'f', ARGV[2], 'd', ARGV[1])
redis.call('HSET', index, ARGV[2], offset)
-- Trim by size, then by age (offsets grow with time: expired entries are a prefix), keeping the
-- index in step with the history.
for _ = 1, size + 1 do
  local first = redis.call('XRANGE', history, '-', '+', 'COUNT', 1)[1]
  if not first then break end
  local expired = tonumber(first[2][2]) <= now - ttl
  if not expired and redis.call('XLEN', history) <= size then break end
  redis.call('XDEL', history, first[1])
  redis.call('HDEL', index, first[2][4])
end
redis.call('PEXPIRE', history, ttl)
redis.call('PEXPIRE', index, ttl)
return {epoch, offset}
`,
);

/**
 * The stream's position and, when the cursor is still covered without a gap, every message after
 * it.
 *
 * KEYS: meta, history, index.
 * ARGV: [1] cursor kind ("none", "message" or "position"), [2] fingerprint or epoch, [3] offset,
 * [4] history ttl ms, [5] epoch to use if the stream has none, [6] meta ttl ms.
 * Returns {epoch, top, recovered (0 or 1), offset, fingerprint, message, offset, ...}.
 */
export const RECOVER_SCRIPT: RedisScript = script(
  COMMON + `
local meta, history, index = KEYS[1], KEYS[2], KEYS[3]
local epoch = ensure_epoch(meta, history, index, ARGV[5], ARGV[6])
local top = tonumber(redis.call('HGET', meta, 'top'))
local since
if ARGV[1] == 'message' then
  since = tonumber(redis.call('HGET', index, ARGV[2]))
elseif ARGV[1] == 'position' and ARGV[2] == epoch then
  since = tonumber(ARGV[3])
end
if not since or since > top then return {epoch, top, 0} end
if since == top then return {epoch, top, 1} end
local cutoff = now_ms() - tonumber(ARGV[4])
local result = {epoch, top, 0}
for _, entry in ipairs(redis.call('XRANGE', history, (since + 1) .. '-0', '+')) do
  if tonumber(entry[2][2]) > cutoff then
    table.insert(result, tonumber(string.match(entry[1], '^(%d+)')))
    table.insert(result, entry[2][4])
    table.insert(result, entry[2][6])
  end
end
if result[4] ~= since + 1 then return {epoch, top, 0} end
result[3] = 1
return result
`,
);

/**
 * The de-duplication keys first seen within the window, with their age on Redis's clock (so the
 * gateway's clock need not agree with it).
 *
 * KEYS: dedupe. ARGV: [1] window ms.
 * Returns {key, age ms, key, age ms, ...}.
 */
export const RECENT_KEYS_SCRIPT: RedisScript = script(
  COMMON + `
local now = now_ms()
local result = {}
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf', 'WITHSCORES')
for i = 1, #entries, 2 do
  table.insert(result, entries[i])
  table.insert(result, now - tonumber(entries[i + 1]))
end
return result
`,
);
