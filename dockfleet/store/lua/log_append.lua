-- Append a batch of a job's log lines and move its copy cursor, once, for the lease holder.
-- KEYS[1] the job's lease; KEYS[2] the job's record; KEYS[3] the job's log stream.
-- ARGV[1] our lease token; ARGV[2] the cursor before the batch and ARGV[3] after it
-- ("<lines>:<truncated>"); ARGV[4] n, the number of cursor fields; then n field/value
-- pairs; then the entries as (stream, line, time) triples.
-- Returns 1 written; 0 written already (a repeat after a lost reply); -1 the lease is not
-- ours (lapsed, or another worker's); -2 another copy moved the cursor (compare-and-set).
if redis.call('get', KEYS[1]) ~= ARGV[1] then return -1 end
local stored = redis.call('hmget', KEYS[2], 'log_lines', 'log_truncated')
local at = (stored[1] or '0') .. ':' .. (stored[2] or '0')
if at == ARGV[3] and ARGV[2] ~= ARGV[3] then return 0 end
if at ~= ARGV[2] then return -2 end
local n = tonumber(ARGV[4])
local first = 5 + 2 * n
for i = first, #ARGV, 3 do
  redis.call('xadd', KEYS[3], '*', 's', ARGV[i], 'l', ARGV[i + 1], 't', ARGV[i + 2])
end
local cursor = {}
for i = 5, first - 1 do cursor[#cursor + 1] = ARGV[i] end
redis.call('hset', KEYS[2], unpack(cursor))
return 1
