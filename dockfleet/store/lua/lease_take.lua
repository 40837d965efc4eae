-- Take or keep a job's lease (`take_lease`, `lease.lua`).
-- KEYS[1] the lease; KEYS[2] the job's record. ARGV[1] our token; ARGV[2] the lease's TTL
-- in ms; ARGV[3] our host; ARGV[4] "first" or "retake". Returns 1, 0 or -1 (`take_lease`).
return take_lease(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
