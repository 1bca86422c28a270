-- Shared by the scripts: Redis's clock, and a region's stream epoch (created with it if missing).
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
