-- Take or keep a job's lease: the right to act on the job, one worker at a time.
-- KEYS[1] the lease (holds the holder's token, with a TTL); KEYS[2] the job's record.
-- ARGV[1] our token; ARGV[2] the lease's TTL in ms; ARGV[3] our host;
-- ARGV[4] "first" (a delivery of the job) or "retake" (we held it, and it lapsed).
-- Returns 1 held by us now; 0 held by another worker, or held by one since we last did;
-- -1 the job runs on another host (its containers are there: only that host may go on).
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
local job = redis.call('hmget', KEYS[2], 'state', 'host', 'leased_by')
local state, host, last = job[1], job[2], job[3]
if state == 'running' and host and host ~= ARGV[3] then return -1 end
-- A lapsed lease is ours to retake only if nobody held it meanwhile: whoever did
-- has acted on the job (adopted it, maybe finished it), and we must not.
if ARGV[4] == 'retake' and last and last ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
-- A job with no record yet gets `leased_by` from its claim (never a record without a TTL).
if redis.call('exists', KEYS[2]) == 1 then redis.call('hset', KEYS[2], 'leased_by', ARGV[1]) end
return 1
