-- The de-duplication keys first seen within the window, with their age on Redis's clock (so the
-- gateway's clock need not agree with it) and the fingerprint of the publication that was their
-- first sighting.
--
-- KEYS: dedupe, firsts. ARGV: [1] window ms.
-- Returns {key, age ms, fingerprint, key, age ms, fingerprint, ...}.
local now = now_ms()
local result = {}
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf', 'WITHSCORES')
for i = 1, #entries, 2 do
  table.insert(result, entries[i])
  table.insert(result, now - tonumber(entries[i + 1]))
  table.insert(result, redis.call('HGET', KEYS[2], entries[i]) or '')
end
return result
