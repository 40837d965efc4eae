-- Add to a host's totals what each sampled container used since it was last counted.
-- KEYS[1] the host's totals (a hash); KEYS[1 + i] what of container i is counted already
-- (its counters, space-separated). ARGV[1] how long that is kept (s); ARGV[2] n, the number
-- of counters; ARGV[3 .. 2 + n] their names; then n values per container, in KEYS' order.
-- A container not counted before adds all it has used; a counter that went back (the
-- container restarted, its cgroup is new) adds its new value.
local n = tonumber(ARGV[2])
local names, first = {}, 3 + n
for j = 1, n do names[j] = ARGV[2 + j] end
for i = 2, #KEYS do
  local was, now = {}, {}
  local counted = redis.call('get', KEYS[i])
  if counted then
    for v in string.gmatch(counted, '%d+') do was[#was + 1] = tonumber(v) end
  end
  for j = 1, n do
    local value = tonumber(ARGV[first + (i - 2) * n + j - 1])
    local added = value - (was[j] or 0)
    if added < 0 then added = value end
    if added > 0 then
      redis.call('hincrby', KEYS[1], names[j], string.format('%.0f', added))
    end
    -- %.0f: tostring would write a large count as 1.2e+15
    now[j] = string.format('%.0f', value)
  end
  redis.call('set', KEYS[i], table.concat(now, ' '), 'EX', ARGV[1])
end
return #KEYS - 1
