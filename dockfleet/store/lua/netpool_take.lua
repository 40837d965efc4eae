-- Take one idle network and mark it in use by the job, atomically.
-- KEYS: the idle set, the in-use hash; ARGV: the job id. Returns the network (or nil).
local name = redis.call('spop', KEYS[1])
if name then redis.call('hset', KEYS[2], name, ARGV[1]) end
return name
