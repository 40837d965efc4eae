-- Where the broker holds the messages of some jobs.
-- KEYS: the queue's lists, then kombu's unacked hash; ARGV: the job ids looked for.
-- Returns the ids found in a queue, and (id, delivery tag) pairs found delivered.
local wanted = {}
for _, id in ipairs(ARGV) do wanted[id] = true end
local queued, delivered = {}, {}
for i = 1, #KEYS - 1 do
  local size = redis.call('llen', KEYS[i])
  for first = 0, size - 1, 500 do
    for _, raw in ipairs(redis.call('lrange', KEYS[i], first, first + 499)) do
      for id in string.gmatch(raw, '"id": "([^"]+)"') do
        if wanted[id] then queued[#queued + 1] = id end
      end
    end
  end
end
local unacked = redis.call('hgetall', KEYS[#KEYS])
for i = 1, #unacked, 2 do
  for id in string.gmatch(unacked[i + 1], '"id": "([^"]+)"') do
    if wanted[id] then
      delivered[#delivered + 1] = id
      delivered[#delivered + 1] = unacked[i]
    end
  end
end
return {queued, delivered}
