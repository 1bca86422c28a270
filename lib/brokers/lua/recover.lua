-- The stream's position and, when the cursor is still covered without a gap, every message after
-- it.
--
-- KEYS: meta, history, index.
-- ARGV: [1] cursor kind ("none", "message" or "position"), [2] fingerprint or epoch, [3] offset,
-- [4] history ttl ms, [5] epoch to use if the stream has none, [6] meta ttl ms.
-- Returns {epoch, top, recovered (0 or 1), offset, fingerprint, message, offset, ...}.
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
