-- KEYS: containers, versions; ARGV: id, version, JSON summary. Returns 1 if applied.
if not newer(ARGV[1], ARGV[2]) then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[3])
redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
return 1
