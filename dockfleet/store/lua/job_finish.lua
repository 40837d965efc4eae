-- Store a job's result unless one is stored already (`job_records.finish`).
-- KEYS, and ARGV from ARGV[1]: those of `end_job` (`job_end.lua`).
-- Returns the result stored before (JSON), or nil when this one is stored now.
local stored = redis.call('hget', KEYS[1], 'result')
if stored and stored ~= '' then return stored end
end_job(1)
return false
