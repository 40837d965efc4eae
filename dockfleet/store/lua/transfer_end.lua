-- End a transfer: "delivered" (by its receiver, once everything is unpacked) or "aborted"
-- (by either side, with a reason). Its chunks are dropped; the hash stays for ARGV[4]
-- seconds so that the other side (or a worker adopting the job) reads how it ended.
-- KEYS[1] the transfer's hash; KEYS[2] its data stream; KEYS[3] its bell.
-- ARGV[1] "delivered" or "aborted"; ARGV[2] the reason; ARGV[3] the receiver's token
-- ("" for an abort by the sender); ARGV[4] the TTL of the hash in seconds.
-- Returns the state the transfer is in afterwards ("gone" if it was).
local meta = redis.call('hmget', KEYS[1], 'state', 'receiver')
if not meta[1] then return 'gone' end
if meta[1] == 'delivered' or meta[1] == 'aborted' then return meta[1] end
if ARGV[3] ~= '' and meta[2] ~= ARGV[3] then return 'taken' end
redis.call('hset', KEYS[1], 'state', ARGV[1], 'reason', ARGV[2])
redis.call('del', KEYS[2])
redis.call('lpush', KEYS[3], '1')
redis.call('ltrim', KEYS[3], 0, 0)
redis.call('expire', KEYS[3], ARGV[4])
redis.call('expire', KEYS[1], ARGV[4])
return ARGV[1]
