-- A worker takes a job's lease and claims the job, in one step (`job_records.claim`,
-- which says what each answer means).
-- KEYS[1..5]: those of `end_job` (`job_end.lua`), for the host that claims (a job canceled
-- while queued is finished here); KEYS[6] the job's lease. ARGV[1] that host; ARGV[2] its
-- lease token; ARGV[3] the retention (s); ARGV[4] now (ISO 8601); ARGV[5] '1' when the
-- broker redelivered the message; ARGV[6] the watch set of the shared queue's messages,
-- ARGV[7] that of a host's queue without the host's name (the job's target, read here, ends
-- it); ARGV[8] the lease's TTL (ms); from ARGV[9] on: `end_job`'s, the job ended as canceled.
-- Returns taken (the lease is another worker's: nothing done), run, rerun, finished, gone
-- or elsewhere.
local leased = take_lease(KEYS[6], KEYS[1], ARGV[2], ARGV[8], ARGV[1], 'first')
if leased == 0 then return 'taken' end
if leased == -1 then return 'elsewhere' end
local job = redis.call('hmget', KEYS[1], 'state', 'cancel', 'target', 'host')
local state, cancel, target, runs_on = job[1], job[2], job[3], job[4]
local host = ARGV[1]
if state == 'finished' then return 'finished' end
if not state and ARGV[5] == '1' then return 'gone' end
if state == 'running' and runs_on and runs_on ~= '' and runs_on ~= host then
  return 'elsewhere'
end
redis.call('zrem', queued_set(target, 6), ARGV[9 + 4])
if (not state or state == 'queued') and cancel == '1' then
  end_job(9)
  return 'finished'
end
redis.call('hset', KEYS[1], 'state', 'running', 'host', host, 'leased_by', ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])  -- renewed with the lease while the job runs
redis.call('hsetnx', KEYS[1], 'claimed_at', ARGV[4])
redis.call('sadd', KEYS[5], ARGV[9 + 4])
if state == 'running' then return 'rerun' end
return 'run'
