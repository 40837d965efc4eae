-- The end of a job, stored once (a prelude: the scripts that may store a job's first
-- result call `end_job` in the branch that does, so the result, the log's end and the
-- counters go in one atomic step, and a second finish finds the result and writes nothing).
-- KEYS[1] the job's record; KEYS[2] its log stream; KEYS[3] the set of hosts with job
-- counters; KEYS[4] the counters of the host the result names; KEYS[5] the running jobs
-- of that host. From ARGV[at] on: the result (JSON); when (ISO 8601); the retention (s);
-- the log's end field; the job's id; '1' when the job leaves that host's running jobs ('':
-- a job canceled in the queue was never claimed); then the counters' increments
-- (`job_metrics.end_args`): the result's host, n and n (field, amount) pairs added with
-- HINCRBY, m and m pairs with HINCRBYFLOAT.
local function end_job(at)
  local result, retention = ARGV[at], ARGV[at + 2]
  redis.call('hset', KEYS[1], 'state', 'finished', 'result', result, 'finished_at', ARGV[at + 1])
  redis.call('hdel', KEYS[1], 'spec', 'outcome')
  redis.call('expire', KEYS[1], retention)
  redis.call('xadd', KEYS[2], '*', ARGV[at + 3], result)
  redis.call('expire', KEYS[2], retention)
  -- Here and only here: the step that stores the job's first result counts its end.
  redis.call('sadd', KEYS[3], ARGV[at + 6])
  local i = at + 7
  for _, command in ipairs({'hincrby', 'hincrbyfloat'}) do
    local n = tonumber(ARGV[i])
    for j = i + 1, i + 2 * n, 2 do redis.call(command, KEYS[4], ARGV[j], ARGV[j + 1]) end
    i = i + 1 + 2 * n
  end
  if ARGV[at + 5] ~= '' then redis.call('srem', KEYS[5], ARGV[at + 4]) end
end

-- The watch set of the messages of a job's queue (`job_records.mark_sent`): its target host's,
-- else the shared one. ARGV[at] the shared queue's; ARGV[at + 1] a host queue's without the
-- host's name.
local function queued_set(target, at)
  if target and target ~= '' then return ARGV[at + 1] .. target end
  return ARGV[at]
end
