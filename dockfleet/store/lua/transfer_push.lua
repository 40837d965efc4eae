-- Add one chunk to a transfer, if its window has room; the last one also seals it.
-- KEYS[1] the transfer's hash; KEYS[2] its data stream.
-- ARGV[1] the chunk's sequence number (0, 1, ...); ARGV[2] the chunk; ARGV[3] "1" when it
-- is the last; ARGV[4] the TTL in seconds (every key of the transfer gets it again).
-- Returns "ok"; "dup" (added already: a repeat after a lost reply); "full" (no room:
-- wait for the receiver); "gap" (an earlier chunk is missing: Redis lost it); or the
-- state that refuses chunks: "gone", "sealed", "aborted", "delivered".
local meta = redis.call('hmget', KEYS[1], 'state', 'next', 'sent', 'taken', 'window')
if not meta[1] then return 'gone' end
local seq = tonumber(ARGV[1])
local expected = tonumber(meta[2])
if seq < expected then return 'dup' end
if meta[1] ~= 'open' then return meta[1] end
if seq > expected then return 'gap' end
local pending = tonumber(meta[3]) - tonumber(meta[4])
-- One chunk always fits an empty window, so that no window is too small to move.
if pending > 0 and pending + #ARGV[2] > tonumber(meta[5]) then return 'full' end
redis.call('xadd', KEYS[2], seq .. '-1', 'd', ARGV[2], 'last', ARGV[3])
redis.call('hset', KEYS[1], 'next', seq + 1, 'sent', tonumber(meta[3]) + #ARGV[2])
if ARGV[3] == '1' then
  redis.call('hset', KEYS[1], 'state', 'sealed', 'chunks', seq + 1)
end
redis.call('expire', KEYS[1], ARGV[4])
redis.call('expire', KEYS[2], ARGV[4])
return 'ok'
