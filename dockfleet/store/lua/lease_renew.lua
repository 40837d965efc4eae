-- Extend our hold of a job's lease, and the life of the job's record with it (one step).
-- KEYS[1] the lease; KEYS[2] the job's record. ARGV[1] our token; ARGV[2] the lease's TTL
-- in ms; ARGV[3] the record's TTL in s (its retention).
-- Returns 1 renewed; 0 the lease is not ours (it lapsed, or another worker holds it).
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
redis.call('expire', KEYS[2], ARGV[3])  -- never makes one
return 1
