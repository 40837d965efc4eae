-- The receiver has taken every chunk below ARGV[2]: drop them, free their room in the
-- window and ring the sender's bell.
-- KEYS[1] the transfer's hash; KEYS[2] its data stream; KEYS[3] its bell.
-- ARGV[1] the receiver's token; ARGV[2] chunks taken in all; ARGV[3] bytes taken in all;
-- ARGV[4] the TTL in seconds.
-- Returns "ok" (a repeat too); "gone"; "taken" (another receiver has it); "aborted".
local meta = redis.call('hmget', KEYS[1], 'state', 'receiver', 'acked')
if not meta[1] then return 'gone' end
if meta[2] ~= ARGV[1] then return 'taken' end
if meta[1] == 'aborted' then return 'aborted' end
if tonumber(ARGV[2]) <= tonumber(meta[3] or '0') then return 'ok' end
redis.call('xtrim', KEYS[2], 'MINID', ARGV[2] .. '-1')
redis.call('hset', KEYS[1], 'acked', ARGV[2], 'taken', ARGV[3])
redis.call('lpush', KEYS[3], '1')
redis.call('ltrim', KEYS[3], 0, 0)
for i = 1, 3 do redis.call('expire', KEYS[i], ARGV[4]) end
return 'ok'
