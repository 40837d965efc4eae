-- KEYS: containers, versions, synced; ARGV: now, listing began, then (id, version, json)...
-- Removal marks of unlisted ids go too (the engine no longer has them), so marks do
-- not pile up; an entry without a version (a ghost) is dropped when unlisted.
local began, listed = tonumber(ARGV[2]), {}
for i = 3, #ARGV, 3 do
  listed[ARGV[i]] = true
  if newer(ARGV[i], ARGV[i + 1]) then
    redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 2])
    redis.call('hset', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
local function stale(id)
  if listed[id] then return false end
  local cached = redis.call('hget', KEYS[2], id)
  return (not cached) or cached == 'removed' or tonumber(cached) < began
end
for _, id in ipairs(redis.call('hkeys', KEYS[1])) do
  if stale(id) then redis.call('hdel', KEYS[1], id); redis.call('hdel', KEYS[2], id) end
end
for _, id in ipairs(redis.call('hkeys', KEYS[2])) do
  if stale(id) then redis.call('hdel', KEYS[2], id) end
end
redis.call('set', KEYS[3], ARGV[1])
return redis.call('hlen', KEYS[1])
