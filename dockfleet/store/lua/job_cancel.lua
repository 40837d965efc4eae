-- Cancel a job (`job_records.request_cancel`): a queued one is finished as canceled at
-- once, a running one is flagged for its worker to stop.
-- KEYS[1..5]: those of `end_job` (`job_end.lua`), for the job's target host (a queued job
-- was taken off no host's running jobs). ARGV[1] the job's target as read before the call
-- (the canceled result names it); ARGV[2] the watch set of the shared queue's messages,
-- ARGV[3] that of a host's queue without the host's name; from ARGV[4] on: `end_job`'s.
-- Returns the state seen (queued, running or finished), nil for no such job, or "again"
-- when the target is not the one read before (the caller reads it again).
local job = redis.call('hmget', KEYS[1], 'state', 'target')
local state, target = job[1], job[2] or ''
if state ~= 'queued' and state ~= 'running' then
  if state == 'finished' then return state end
  return false
end
if target ~= ARGV[1] then return 'again' end
redis.call('hset', KEYS[1], 'cancel', '1')
if state == 'queued' then
  end_job(4)
  redis.call('zrem', queued_set(target, 2), ARGV[4 + 4])
end
return state
