-- The arithmetic of a queue wait (a prelude of `job_start.lua`): times and sums as Python
-- has them.

-- Microseconds since the epoch of an ISO 8601 time as Python's `datetime.isoformat` writes
-- it (YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM], a space for the T too); nil for another form.
-- Whole numbers all along: exact, as Python's datetime arithmetic is (2^53 us is 285 years).
local function micros(iso)
  local y, mo, d, h, mi, s, frac, sign, oh, om = string.match(iso,
    '^(%d%d%d%d)-(%d%d)-(%d%d)[T ](%d%d):(%d%d):(%d%d)%.?(%d*)([+-]?)(%d*):?(%d*)$')
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1
  local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    - 719468
  local seconds = ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60 + tonumber(s)
  if sign ~= '' then
    local offset = (tonumber(oh) * 60 + (tonumber(om) or 0)) * 60
    if sign == '+' then seconds = seconds - offset else seconds = seconds + offset end
  end
  return seconds * 1000000 + tonumber(string.sub(frac .. '000000', 1, 6))
end

-- A number as Python's `repr` writes a float: the fewest digits that read back as the same
-- number (Redis's HINCRBYFLOAT reads it in long double: more digits would add otherwise).
local function shortest(x)
  for digits = 15, 16 do
    local written = string.format('%.' .. digits .. 'g', x)
    if tonumber(written) == x then return written end
  end
  return string.format('%.17g', x)
end
