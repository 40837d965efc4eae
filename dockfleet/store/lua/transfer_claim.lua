-- Become a transfer's receiver: allowed while no receiver took a chunk of it (a new
-- receiver then starts over from the first chunk), or when it is ours already.
-- KEYS[1] the transfer's hash. ARGV[1] the receiver's token.
-- Returns {"ok"}; {"taken"} (another receiver took chunks: they cannot be read again);
-- {"gone"}; or {state, reason} for a transfer that is over ("aborted", "delivered").
local meta = redis.call('hmget', KEYS[1], 'state', 'receiver', 'acked', 'reason')
if not meta[1] then return {'gone'} end
if meta[1] == 'aborted' or meta[1] == 'delivered' then return {meta[1], meta[4] or ''} end
if meta[2] and meta[2] ~= ARGV[1] and tonumber(meta[3] or '0') > 0 then return {'taken'} end
redis.call('hset', KEYS[1], 'receiver', ARGV[1])
return {'ok'}
