/**
 * Lua scripts the Redis broker runs, atomically, so that every gateway instance on one Redis
 * reaches the same verdict for the same publication.
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

/**
 * Decides whether a publication is fresh or a duplicate.
 *
 * KEYS[1] the region's de-duplication sorted set (member: key, score: first sighting in ms).
 * KEYS[2] the verdict of this publication (named by a hash of its bytes), so the second instance
 *         to see it reads the first one's verdict instead of calling it a duplicate.
 * ARGV[1] de-duplication key ("" for none), ARGV[2] window ms (0 disables), ARGV[3] capacity,
 * ARGV[4] how long a verdict is kept, ms.
 */
export const APPEND_SCRIPT: RedisScript = script(`
local verdict = redis.call('GET', KEYS[2])
if verdict then return verdict end
verdict = 'fresh'
local window = tonumber(ARGV[2])
if ARGV[1] ~= '' and window > 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    verdict = 'duplicate'
  else
    redis.call('ZADD', KEYS[1], now, ARGV[1])
    local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
    if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1) end
    redis.call('PEXPIRE', KEYS[1], window)
  end
end
redis.call('SET', KEYS[2], verdict, 'PX', ARGV[4])
return verdict
`);
