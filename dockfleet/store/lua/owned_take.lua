-- Hold KEYS[1] for ARGV[2] ms with token ARGV[1], unless another token holds it.
-- Returns 1 when ARGV[1] holds it now (a take repeated after a lost reply included).
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if holder then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
