-- Count in a chunk of a transfer (`transfers.push`): run in one MULTI right after the XADD
-- that wrote the chunk as entry <seq>-1 of the data stream. The chunk passes no script: a
-- script's argument is copied into Lua and out again, which cost Redis three times the CPU
-- of the XADD itself. So this script keeps the entry when the chunk counts, and takes it
-- back (and the stream's last id with it, so that the chunk can be sent again) when not.
-- KEYS[1] the transfer's hash; KEYS[2] its data stream.
-- ARGV[1] the chunk's sequence number (0, 1, ...); ARGV[2] its length; ARGV[3] "1" when it
-- is the last; ARGV[4] the TTL in seconds (every key of the transfer gets it again).
-- Returns "ok"; "dup" (added already: a repeat after a lost reply); "full" (no room:
-- wait for the receiver); "gap" (an earlier chunk is missing: Redis lost it); or the
-- state that refuses chunks: "gone", "sealed", "aborted", "delivered".
local meta = redis.call('hmget', KEYS[1], 'state', 'next', 'sent', 'taken', 'window')
local state = meta[1]
-- A transfer that is over has no data stream (its end dropped it): the XADD made one anew.
local over = (not state) or state == 'aborted' or state == 'delivered'
if over then redis.call('del', KEYS[2]) end
if not state then return 'gone' end
local seq = tonumber(ARGV[1])
local expected = tonumber(meta[2])
-- A repeat: its entry is there from the first time (or taken since), and the stream refused
-- this XADD (its last id is the entry's, or past it).
if seq < expected then return 'dup' end
if over then return state end
local refused = nil
if state ~= 'open' then
  refused = state
elseif seq > expected then
  refused = 'gap'
else
  local pending = tonumber(meta[3]) - tonumber(meta[4])
  -- One chunk always fits an empty window, so that no window is too small to move.
  if pending > 0 and pending + tonumber(ARGV[2]) > tonumber(meta[5]) then refused = 'full' end
end
if refused then
  -- Every entry before this one is a chunk counted in, and the last of them (if any) is
  -- <expected - 1>-1: the stream's last id goes back to it.
  redis.call('xdel', KEYS[2], seq .. '-1')
  redis.call('xsetid', KEYS[2], expected > 0 and ((expected - 1) .. '-1') or '0-0')
  redis.call('expire', KEYS[2], ARGV[4])  -- the XADD may have made the stream: never without a TTL
  return refused
end
redis.call('hset', KEYS[1], 'next', seq + 1, 'sent', tonumber(meta[3]) + tonumber(ARGV[2]))
if ARGV[3] == '1' then
  redis.call('hset', KEYS[1], 'state', 'sealed', 'chunks', seq + 1)
end
redis.call('expire', KEYS[1], ARGV[4])
redis.call('expire', KEYS[2], ARGV[4])
return 'ok'
