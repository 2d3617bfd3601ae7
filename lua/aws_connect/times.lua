-- aws_connect.times: dates on the wire as epoch seconds (UTC): HTTP dates
-- (the Date and Retry-After headers), ISO 8601 / RFC 3339 times (STS and
-- container credentials, some Connect emulators' timestamps). Pure
-- functions; nil for anything unreadable.

local M = {}

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

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

--- An HTTP date (RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT").
function M.parse_http_date(s)
  if type(s) ~= "string" then return nil end
  local d, mon, y, hh, mm, ss = s:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d or not MONTHS[mon] then return nil end
  return epoch(tonumber(y), MONTHS[mon], tonumber(d), tonumber(hh), tonumber(mm), tonumber(ss))
end

--- An ISO 8601 / RFC 3339 time ("2024-05-01T12:00:00Z",
--- "2024-05-01T12:00:00.123+02:00", a space instead of T); a number, or a
--- string of digits, is taken as epoch seconds.
function M.parse_iso8601(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" then return nil end
  s = s:match("^%s*(.-)%s*$")
  if s:find("^%d+$") then return tonumber(s) end
  local y, mo, d, hh, mi, ss, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  local frac = rest:match("^(%.%d+)")
  if frac then rest = rest:sub(#frac + 1) end
  local offset
  if rest == "Z" or rest == "z" or rest == "" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  y, mo, d, hh, mi, ss = tonumber(y), tonumber(mo), tonumber(d), tonumber(hh), tonumber(mi), tonumber(ss)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or hh > 23 or mi > 59 or ss > 60 then return nil end
  return epoch(y, mo, d, hh, mi, ss) + (frac and tonumber("0" .. frac) or 0) - offset
end

return M
