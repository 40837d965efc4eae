-- A job gives its network back, idle: it joins the idle set, held by nobody, if the pool
-- has room. KEYS: the idle set, the in-use hash; ARGV: the network, the most idle networks.
-- Returns 1 if offered; 0 when the pool is full (the network stays held: its giver
-- removes it, then releases it, so nobody takes it meanwhile).
if redis.call('scard', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('hdel', KEYS[2], ARGV[1])
redis.call('sadd', KEYS[1], ARGV[1])
return 1
