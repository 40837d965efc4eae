-- Take or keep a job's lease: the right to act on the job, one worker at a time (a
-- prelude: `lease_take.lua` does only this; `job_claim.lua` does it first, in one step).
-- `lease` the lease's key (holds the holder's token, with a TTL); `job` the job's record;
-- `token` ours; `ttl_ms` the lease's TTL; `host` ours; `mode` "first" (a delivery of the
-- job) or "retake" (we held it, and it lapsed).
-- Returns 1 held by us now; 0 held by another worker, or held by one since we last did;
-- -1 the job runs on another host (its containers are there: only that host may go on).
local function take_lease(lease, job, token, ttl_ms, host, mode)
  local holder = redis.call('get', lease)
  if holder == token then
    redis.call('pexpire', lease, ttl_ms)
    return 1
  end
  if holder then return 0 end
  local record = redis.call('hmget', job, 'state', 'host', 'leased_by')
  local state, runs_on, last = record[1], record[2], record[3]
  if state == 'running' and runs_on and runs_on ~= host then return -1 end
  -- A lapsed lease is ours to retake only if nobody held it meanwhile: whoever did
  -- has acted on the job (adopted it, maybe finished it), and we must not.
  if mode == 'retake' and last and last ~= token then return 0 end
  redis.call('set', lease, token, 'PX', ttl_ms)
  -- A job with no record yet gets `leased_by` from its claim (never a record without a TTL).
  if redis.call('exists', job) == 1 then redis.call('hset', job, 'leased_by', token) end
  return 1
end
