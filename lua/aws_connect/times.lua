-- aws_connect.times: dates on the wire as epoch seconds (UTC): HTTP dates
-- (the Date and Retry-After headers), ISO 8601 / RFC 3339 times (STS and
-- container credentials, some Connect emulators' timestamps).
--
-- Strict and linear: every field is range-checked (month 1-12, the day
-- within its month, leap years included, hour 0-23, minute 0-59, second
-- 0-60, year 0001-9999 for ISO times and 1970-9999 for HTTP dates: year
-- 0000, day 99 or hour 99 are refused); text longer than MAX_LENGTH is
-- refused before any pattern runs, and no pattern backtracks. The parse_*
-- functions return nil and a reason for anything unreadable; the require_*
-- forms raise a typed error (ResponseError by default) instead.

local errors = require("aws_connect.errors")

local M = {}

M.MAX_LENGTH = 64
M.MAX_EPOCH = 253402300799   -- 9999-12-31T23:59:59Z

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
local WEEKDAYS = { Mon = true, Tue = true, Wed = true, Thu = true, Fri = true, Sat = true, Sun = true }
local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

--- Epoch seconds of a civil UTC date (Howard Hinnant's days_from_civil).
function M.epoch(y, m, d, hh, mm, ss)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + hh * 3600 + mm * 60 + ss
end
local epoch = M.epoch

local function leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

--- nil when the civil date and time are valid, else what is wrong.
function M.invalid(y, mo, d, hh, mi, ss, min_year)
  if y < (min_year or 1) or y > 9999 then return "year out of range" end
  if mo < 1 or mo > 12 then return "month out of range" end
  local dim = (mo == 2 and leap(y)) and 29 or MDAYS[mo]
  if d < 1 or d > dim then return "day out of range" end
  if hh > 23 then return "hour out of range" end
  if mi > 59 then return "minute out of range" end
  if ss > 60 then return "second out of range" end
  return nil
end

local trim = require("aws_connect.text").trim  -- linear

--- An HTTP date (RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT").
--- Returns epoch seconds, or nil and a reason.
function M.parse_http_date(s)
  if type(s) ~= "string" then return nil, "not a string" end
  if #s > M.MAX_LENGTH then return nil, "too long for a date" end
  local wd, d, mon, y, hh, mm, ss = s:match("^(%a%a%a), (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not wd then
    -- a one-digit day is common enough to accept
    wd, d, mon, y, hh, mm, ss = s:match("^(%a%a%a), (%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  end
  if not wd then return nil, "not an HTTP date (expected \"Sun, 06 Nov 1994 08:49:37 GMT\")" end
  if not WEEKDAYS[wd] then return nil, "unknown day name" end
  local month = MONTHS[mon]
  if not month then return nil, "unknown month name" end
  y, d, hh, mm, ss = tonumber(y), tonumber(d), tonumber(hh), tonumber(mm), tonumber(ss)
  local bad = M.invalid(y, month, d, hh, mm, ss, 1970)
  if bad then return nil, bad end
  return epoch(y, month, d, hh, mm, ss)
end

--- An ISO 8601 / RFC 3339 time ("2024-05-01T12:00:00Z",
--- "2024-05-01T12:00:00.123+02:00", a space instead of T); a number, or a
--- string of digits, is taken as epoch seconds. Returns epoch seconds, or
--- nil and a reason.
function M.parse_iso8601(s)
  if type(s) == "number" then
    if s ~= s or s < -M.MAX_EPOCH or s > M.MAX_EPOCH then return nil, "out of range" end
    return s
  end
  if type(s) ~= "string" then return nil, "not a string" end
  if #s > M.MAX_LENGTH * 4 then return nil, "too long for a time" end
  s = trim(s)
  if #s > M.MAX_LENGTH then return nil, "too long for a time" end
  if s:find("^%d+$") then
    if #s > 12 then return nil, "out of range" end
    return tonumber(s)
  end
  local y, mo, d, hh, mi, ss, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil, "not an ISO 8601 time (expected 2024-05-01T12:00:00Z)" end
  local frac = rest:match("^(%.%d+)")
  if frac then rest = rest:sub(#frac + 1) end
  local offset
  if rest == "Z" or rest == "z" or rest == "" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil, "unreadable time zone" end
    oh, om = tonumber(oh), tonumber(om)
    if oh > 23 or om > 59 then return nil, "time zone offset out of range" end
    offset = (oh * 3600 + om * 60) * (sign == "+" and 1 or -1)
  end
  y, mo, d, hh, mi, ss = tonumber(y), tonumber(mo), tonumber(d), tonumber(hh), tonumber(mi), tonumber(ss)
  local bad = M.invalid(y, mo, d, hh, mi, ss, 1)
  if bad then return nil, bad end
  return epoch(y, mo, d, hh, mi, ss) + (frac and tonumber("0" .. frac) or 0) - offset
end

local function show(s)
  return require("aws_connect.redact").printable(s, 60)
end

--- parse_http_date, raising a typed error (code, default ResponseError;
--- `field` names the source, e.g. "Date header") when s is unreadable.
function M.require_http_date(s, field, code)
  local t, why = M.parse_http_date(s)
  if t then return t end
  errors.raise(code or "ResponseError", ("%s %q is not a valid HTTP date: %s"):format(field or "date", show(s), why),
    { field = field })
end

--- parse_iso8601, raising a typed error as require_http_date does.
function M.require_iso8601(s, field, code)
  local t, why = M.parse_iso8601(s)
  if t then return t end
  errors.raise(code or "ResponseError", ("%s %q is not a valid ISO 8601 time: %s"):format(field or "time", show(s), why),
    { field = field })
end

return M
