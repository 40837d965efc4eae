-- Keep how a job ended (before its cleanup), if we still hold its lease: the first counts.
-- KEYS[1] the job's lease; KEYS[2] the job's record. ARGV[1] our lease token; ARGV[2] the outcome.
-- Returns the outcome that counts, or nil when the lease is not ours (another worker
-- has the job now and reports it).
if redis.call('get', KEYS[1]) ~= ARGV[1] then return false end
redis.call('hsetnx', KEYS[2], 'outcome', ARGV[2])
return redis.call('hget', KEYS[2], 'outcome')
