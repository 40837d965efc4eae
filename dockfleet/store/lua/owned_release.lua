-- Drop the hold of token ARGV[1] on KEYS[1] (never another's); 0 if it was not ARGV[1]'s.
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
