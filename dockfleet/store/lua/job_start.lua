-- Stamp the first start of a job's container (`job_records.mark_started`), and observe
-- then how long the job waited since its submit: a later start stamps, and counts, nothing.
-- KEYS[1] the job's record; KEYS[2] the set of hosts with job counters. ARGV[1] the start
-- (ISO 8601); ARGV[2] the same in microseconds since the epoch; then the wait histogram
-- (`job_metrics.wait_args`): the key of a host's counters without the host's name, the
-- sum's field, (bound, field) pairs of its buckets, and the field of the +Inf bucket.
local job = redis.call('hmget', KEYS[1], 'started_at', 'created_at', 'host')
local started, created, host = job[1], job[2], job[3]
if started and started ~= '' then return 0 end
redis.call('hset', KEYS[1], 'started_at', ARGV[1])
-- A job sent without `submit` has no submit time.
if not (created and created ~= '' and host and host ~= '') then return 1 end
local since = micros(created)
if not since then return 1 end  -- not written by `submit`: no wait to tell
local waited = math.max(0, (tonumber(ARGV[2]) - since) / 1e6)
local counters = ARGV[3] .. host
redis.call('sadd', KEYS[2], host)
local bucket = ARGV[#ARGV]
for i = 5, #ARGV - 1, 2 do
  if waited <= tonumber(ARGV[i]) then
    bucket = ARGV[i + 1]
    break
  end
end
redis.call('hincrby', counters, bucket, 1)
redis.call('hincrbyfloat', counters, ARGV[4], shortest(waited))
return 1
