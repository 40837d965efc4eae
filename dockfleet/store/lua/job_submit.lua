-- Record a new queued job (`job_records.submit`) unless its id is taken: one step, so that
-- two clients given the same id cannot both write it.
-- KEYS[1] the job's record. ARGV[1] the retention (s); ARGV[2] this submit's token; then
-- the record's fields as (field, value) pairs, the token's `submission` field among them.
-- Returns 1 when the record is this submit's (written now, or by this same submit whose
-- reply was lost and is repeated), 0 when another submit holds the id.
if redis.call('exists', KEYS[1]) == 1 then
  if redis.call('hget', KEYS[1], 'submission') == ARGV[2] then return 1 end
  return 0
end
redis.call('hset', KEYS[1], unpack(ARGV, 3))
redis.call('expire', KEYS[1], ARGV[1])
return 1
