-- KEYS: containers, versions; ARGV: the container id. Leaves the mark 'removed', so a
-- summary read before the removal never brings the container back.
redis.call('hdel', KEYS[1], ARGV[1])
redis.call('hset', KEYS[2], ARGV[1], 'removed')
return 1
