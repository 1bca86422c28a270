/**
 * Lua scripts the Redis broker runs, each one atomic step, so that every gateway instance on one
 * Redis gets the same answer for the same publication.
 *
 * Keys of a region (the `{AE}` hash tag keeps them in one slot, should this ever run on a
 * cluster), with the channel prefix in front:
 * - `{AE}:meta`     hash: `epoch` of the stream, `top` offset
 * - `{AE}:history`  stream: entry `<offset>-0`, fields `t` (ms) and `d` (the message)
 * - `{AE}:dedupe`   sorted set: de-duplication keys by first sighting (ms)
 * - `{AE}:verdict:<fingerprint of the publication>`  `duplicate` or `<epoch>:<offset>`, short-lived
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

/** Lua shared by both scripts: the stream's epoch, created (with an empty history) if missing. */
const ENSURE_EPOCH = `
local function ensure_epoch(meta, history, candidate, meta_ttl)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = candidate
    redis.call('DEL', history)
    redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
  end
  redis.call('PEXPIRE', meta, meta_ttl)
  return epoch
end
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;

/**
 * Decides fresh or duplicate and, when fresh, gives the publication the next offset and keeps it
 * in the history.
 *
 * KEYS: meta, history, dedupe, verdict.
 * ARGV: [1] message, [2] de-duplication key ("" for none), [3] window ms (0 disables),
 * [4] de-duplication capacity, [5] verdict ttl ms, [6] history size, [7] history ttl ms,
 * [8] epoch to use if the stream has none, [9] meta ttl ms.
 * Returns "duplicate" or "<epoch>:<offset>".
 */
export const APPEND_SCRIPT: RedisScript = script(
  ENSURE_EPOCH + `
local meta, history, dedupe, verdict_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local verdict = redis.call('GET', verdict_key)
if verdict then return verdict end
local now = now_ms()
local window = tonumber(ARGV[3])
if ARGV[2] ~= '' and window > 0 then
  redis.call('ZREMRANGEBYSCORE', dedupe, '-inf', now - window)
  if redis.call('ZSCORE', dedupe, ARGV[2]) then
    redis.call('SET', verdict_key, 'duplicate', 'PX', ARGV[5])
    return 'duplicate'
  end
  redis.call('ZADD', dedupe, now, ARGV[2])
  local excess = redis.call('ZCARD', dedupe) - tonumber(ARGV[4])
  if excess > 0 then redis.call('ZREMRANGEBYRANK', dedupe, 0, excess - 1) end
  redis.call('PEXPIRE', dedupe, window)
end
local epoch = ensure_epoch(meta, history, ARGV[8], ARGV[9])
local offset = redis.call('HINCRBY', meta, 'top', 1)
local size, ttl = tonumber(ARGV[6]), tonumber(ARGV[7])
if size > 0 then
  redis.call('XADD', history, 'MAXLEN', size, offset .. '-0', 't', now, 'd', ARGV[1])
  -- Offsets grow with time, so expired entries are a prefix of the stream.
  for _ = 1, size do
    local first = redis.call('XRANGE', history, '-', '+', 'COUNT', 1)[1]
    if not first or tonumber(first[2][2]) > now - ttl then break end
    redis.call('XDEL', history, first[1])
  end
  redis.call('PEXPIRE', history, ttl)
end
verdict = epoch .. ':' .. offset
redis.call('SET', verdict_key, verdict, 'PX', ARGV[5])
return verdict
`,
);

/**
 * The stream's position and, when the client's position is still covered without a gap, every
 * message after it.
 *
 * KEYS: meta, history.
 * ARGV: [1] the client's epoch ("" for none), [2] its offset, [3] history ttl ms,
 * [4] epoch to use if the stream has none, [5] meta ttl ms.
 * Returns {epoch, top, recovered (0 or 1), offset, message, offset, message, ...}.
 */
export const RECOVER_SCRIPT: RedisScript = script(
  ENSURE_EPOCH + `
local meta, history = KEYS[1], KEYS[2]
local epoch = ensure_epoch(meta, history, ARGV[4], ARGV[5])
local top = tonumber(redis.call('HGET', meta, 'top'))
local since = tonumber(ARGV[2])
if ARGV[1] ~= epoch or since > top then return {epoch, top, 0} end
if since == top then return {epoch, top, 1} end
local cutoff = now_ms() - tonumber(ARGV[3])
local result = {epoch, top, 0}
for _, entry in ipairs(redis.call('XRANGE', history, (since + 1) .. '-0', '+')) do
  if tonumber(entry[2][2]) > cutoff then
    table.insert(result, tonumber(string.match(entry[1], '^(%d+)')))
    table.insert(result, entry[2][4])
  end
end
if result[4] == since + 1 then result[3] = 1 else return {epoch, top, 0} end
return result
`,
);
