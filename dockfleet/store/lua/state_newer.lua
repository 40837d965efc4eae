-- Prelude of the state cache's scripts. KEYS[2]: the versions hash.
-- Equal versions are applied: pause, rename or a health change leave the times alone.
local function newer(id, version)
  local cached = redis.call('hget', KEYS[2], id)
  if cached == 'removed' or (cached and tonumber(cached) > tonumber(version)) then return false end
  return true
end
