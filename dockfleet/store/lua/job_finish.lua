-- Store a job's result unless one is stored already (`job_records.finish`), and let go of
-- the job's lease if the finishing worker holds it.
-- KEYS[1..5] those of `end_job` (`job_end.lua`); KEYS[6] the job's lease. ARGV[1] the
-- finishing worker's lease token ('': none); from ARGV[2] on, those of `end_job`.
-- Returns the result stored before (JSON), or nil when this one is stored now.
if ARGV[1] ~= '' and redis.call('get', KEYS[6]) == ARGV[1] then redis.call('del', KEYS[6]) end
local stored = redis.call('hget', KEYS[1], 'result')
if stored and stored ~= '' then return stored end
end_job(2)
return false
