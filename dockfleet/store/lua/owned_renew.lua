-- Extend the hold of token ARGV[1] on KEYS[1] to ARGV[2] ms; 0 if it is not held by ARGV[1].
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
