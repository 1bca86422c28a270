-- Records a delivered publication: its de-duplication key (with the fingerprint of its first
-- sighting), the next offset, a history entry and its fingerprint in the index. A fingerprint
-- already in the index was recorded by another instance (or the same bytes were published again):
-- its offset is returned, nothing changes.
--
-- KEYS: meta, history, index, dedupe, firsts.
-- ARGV: [1] message, [2] fingerprint, [3] de-duplication key ("" for none), [4] window ms,
-- [5] de-duplication capacity, [6] history size, [7] history ttl ms, [8] epoch to use if the
-- stream has none, [9] meta ttl ms.
-- Returns {epoch, offset}.
local meta, history, index, dedupe, firsts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local epoch = ensure_epoch(meta, history, index, ARGV[8], ARGV[9])
local known = redis.call('HGET', index, ARGV[2])
if known then return {epoch, tonumber(known)} end
local now = now_ms()
local window = tonumber(ARGV[4])
if ARGV[3] ~= '' and window > 0 then
  if redis.call('ZADD', dedupe, 'NX', now, ARGV[3]) == 1 then
    redis.call('HSET', firsts, ARGV[3], ARGV[2])
  end
  -- Forget the keys past the window, then the oldest beyond the capacity, in both structures.
  local forget = function(keys)
    for i = 1, #keys, 1000 do
      local chunk = {unpack(keys, i, math.min(i + 999, #keys))}
      redis.call('ZREM', dedupe, unpack(chunk))
      redis.call('HDEL', firsts, unpack(chunk))
    end
  end
  forget(redis.call('ZRANGEBYSCORE', dedupe, '-inf', now - window))
  local excess = redis.call('ZCARD', dedupe) - tonumber(ARGV[5])
  if excess > 0 then forget(redis.call('ZRANGE', dedupe, 0, excess - 1)) end
  redis.call('PEXPIRE', dedupe, window)
  redis.call('PEXPIRE', firsts, window)
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
