-- Records delivered publications, in order, each as one step: its de-duplication key (with the
-- fingerprint of its first sighting), the next offset of its region, a history entry and its
-- fingerprint in the index. A fingerprint already in the index was recorded by another instance
-- (or the same bytes were published again): its offset is returned, nothing changes. One call
-- takes a batch: the records a gateway delivered since its last call, of one region or several.
--
-- A stream whose top offset is below one this gateway was given under the same epoch lost its
-- tail: a replica was promoted before it had the last records. Its offsets must not be handed out
-- again under that epoch (a client holding one would take another message for it), so it begins
-- a new epoch, and clients from the old one are told they cannot recover.
--
-- KEYS: per record, its region's meta, history, index, dedupe and firsts (five per record).
-- ARGV: [1] window ms, [2] de-duplication capacity, [3] history size, [4] history ttl ms,
-- [5] epoch to use if a stream has none, [6] meta ttl ms; then per record [message, fingerprint,
-- de-duplication key ("" for none), epoch and offset of the region's last record this gateway
-- was given ("" and 0 for none)].
-- Returns {epoch, offset, epoch, offset, ...}, a pair per record, in their order.
local window, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local size, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local result = {}
for r = 0, #KEYS / 5 - 1 do
  local meta, history, index = KEYS[r * 5 + 1], KEYS[r * 5 + 2], KEYS[r * 5 + 3]
  local dedupe, firsts = KEYS[r * 5 + 4], KEYS[r * 5 + 5]
  local body, fingerprint, key = ARGV[7 + r * 5], ARGV[8 + r * 5], ARGV[9 + r * 5]
  local last_epoch, last_offset = ARGV[10 + r * 5], tonumber(ARGV[11 + r * 5])
  local epoch = ensure_epoch(meta, history, index, ARGV[5], ARGV[6])
  if epoch == last_epoch and tonumber(redis.call('HGET', meta, 'top')) < last_offset then
    epoch = ARGV[5]
    redis.call('DEL', history, index)
    redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
  end
  local offset = tonumber(redis.call('HGET', index, fingerprint))
  if not offset then
    if key ~= '' and window > 0 then
      if redis.call('ZADD', dedupe, 'NX', now, key) == 1 then
        redis.call('HSET', firsts, key, fingerprint)
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
      local excess = redis.call('ZCARD', dedupe) - capacity
      if excess > 0 then forget(redis.call('ZRANGE', dedupe, 0, excess - 1)) end
      redis.call('PEXPIRE', dedupe, window)
      redis.call('PEXPIRE', firsts, window)
    end
    offset = redis.call('HINCRBY', meta, 'top', 1)
    redis.call('XADD', history, offset .. '-0', 't', now, 'f', fingerprint, 'd', body)
    redis.call('HSET', index, fingerprint, offset)
    -- Trim by size, then by age (offsets grow with time: expired entries are a prefix), keeping
    -- the index in step with the history.
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
  end
  table.insert(result, epoch)
  table.insert(result, offset)
end
return result
