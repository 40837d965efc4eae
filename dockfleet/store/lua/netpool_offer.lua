-- Offer a network to the pool unless a job holds it.
-- KEYS: the idle set, the in-use hash; ARGV: the network. Returns 1 if added.
if redis.call('hexists', KEYS[2], ARGV[1]) == 1 then return 0 end
return redis.call('sadd', KEYS[1], ARGV[1])
