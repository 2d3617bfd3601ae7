-- aws_connect.cli.result: a library result (snake_case keys, epoch-second
-- timestamps) back into the document the AWS CLI prints: AWS member names
-- in the output shape's member order (header members first, then the body,
-- as botocore parses), map keys in the order the response body had them,
-- timestamps as cli_timestamp_format says (iso8601: python's
-- datetime.fromtimestamp(t, tzlocal()).isoformat(); wire: as received).
-- Documents use the JMESPath data model (aws_connect.jmespath.values):
-- ordered objects, arrays with the array metatable, values.NULL.
--
-- Also the ISO 8601 formatting of timestamps and the skeleton generator
-- (botocore's ArgumentGenerator) for --generate-cli-skeleton.

local values = require("aws_connect.jmespath.values")
local times = require("aws_connect.times")

local M = {}

local NULL = values.NULL
local new_object, new_array, jtype = values.new_object, values.new_array, values.jtype
local floor = math.floor
local math_type = math.type  -- luacheck: ignore 143 (5.3+)

-- Civil date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
local function civil(days)
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

-- python's _PyTime_Round with ROUND_HALF_EVEN
local function round_half_even(x)
  local r = floor(x + 0.5)
  if math.abs(x - (r - 0.5)) == 0 and r % 2 ~= 0 then r = r - 1 end
  return r
end

--- Seconds east of UTC of the local time zone at epoch second s (the TZ of
--- the process, as python's tzlocal); 0 when the C library cannot tell.
function M.local_offset(s)
  local ok, l = pcall(os.date, "*t", s)
  local ok2, u = pcall(os.date, "!*t", s)
  if not (ok and ok2 and type(l) == "table" and type(u) == "table") then return 0 end
  return times.epoch(l.year, l.month, l.day, l.hour, l.min, l.sec) - times.epoch(u.year, u.month, u.day, u.hour, u.min,
    u.sec)
end

--- python's datetime.fromtimestamp(t, tzlocal()).isoformat():
--- 2026-12-01T18:16:40.606432+00:00 (microseconds only when not zero).
--- offset (seconds east of UTC) defaults to the local zone's.
function M.iso8601(t, offset)
  local int = t >= 0 and floor(t) or -floor(-t)      -- modf
  local us = round_half_even((t - int) * 1e6)
  if us >= 1e6 then us = us - 1e6; int = int + 1 elseif us < 0 then us = us + 1e6; int = int - 1 end
  offset = offset or M.local_offset(int)
  local s = int + offset
  local days = floor(s / 86400)
  local rem = s - days * 86400
  local y, mo, d = civil(days)
  local out = ("%04d-%02d-%02dT%02d:%02d:%02d"):format(y, mo, d, floor(rem / 3600), floor(rem % 3600 / 60), rem % 60)
  if us ~= 0 then out = out .. (".%06d"):format(us) end
  local sign = offset < 0 and "-" or "+"
  local a = math.abs(offset)
  out = out .. ("%s%02d:%02d"):format(sign, floor(a / 3600), floor(a % 3600 / 60))
  if a % 60 ~= 0 then out = out .. (":%02d"):format(a % 60) end
  return out
end

local function as_float(v)
  if math_type and math_type(v) == "integer" then return v + 0.0 end
  return v
end

local convert

local function convert_structure(shape, v, raw, opts)
  local out, order = {}, {}
  local raw_obj = jtype(raw) == "object" and raw or nil
  local function put(m)
    local x = v[m.snake]
    if x == nil or x == NULL then return end
    out[m.name] = convert(m.shape, x, (not m.location and raw_obj) and raw_obj[m.wire] or nil, opts)
    order[#order + 1] = m.name
  end
  -- botocore: header (and status code) members, then the body's
  for _, m in ipairs(shape.members) do if m.location then put(m) end end
  for _, m in ipairs(shape.members) do if not m.location then put(m) end end
  return new_object(out, order)
end

convert = function(shape, v, raw, opts)
  local t = shape.type
  if t == "structure" then
    if type(v) ~= "table" then return v end
    return convert_structure(shape, v, raw, opts)
  elseif t == "list" then
    local out = new_array({})
    if type(v) ~= "table" then return v end
    local rawl = jtype(raw) == "array" and raw or nil
    local j = 0
    for i = 1, #v do
      local r
      if rawl then
        repeat j = j + 1; r = rawl[j] until r ~= NULL
      end
      out[i] = convert(shape.member, v[i], r, opts)
    end
    return out
  elseif t == "map" then
    if type(v) ~= "table" then return v end
    local out, order, seen = {}, {}, {}
    local rawo = jtype(raw) == "object" and raw or nil
    if rawo then
      local keys, n = values.keys(rawo)
      for i = 1, n do
        local k = keys[i]
        if v[k] ~= nil and not seen[k] then
          seen[k] = true
          order[#order + 1] = k
          out[k] = convert(shape.value, v[k], rawo[k], opts)
        end
      end
    end
    local rest = {}
    for k in pairs(v) do if type(k) == "string" and not seen[k] then rest[#rest + 1] = k end end
    table.sort(rest)
    for _, k in ipairs(rest) do
      order[#order + 1] = k
      out[k] = convert(shape.value, v[k], rawo and rawo[k], opts)
    end
    return new_object(out, order)
  elseif t == "timestamp" then
    if opts.timestamp_format == "wire" and raw ~= nil and raw ~= NULL then return raw end
    if type(v) ~= "number" then return v end
    return M.iso8601(v, opts.offset)
  elseif t == "float" or t == "double" then
    if type(raw) == "number" and raw == v then return raw end
    if type(v) == "number" then return as_float(v) end
    return v
  end
  return v
end

--- The output document of op for a library result. raw is the response
--- body decoded with key order (aws_connect.jmespath.json), or nil; opts:
--- timestamp_format ("iso8601" | "wire"), offset (tests).
function M.document(op, result, raw, opts)
  opts = opts or {}
  if not op.output or type(result) ~= "table" then return new_object({}, {}) end
  return convert_structure(op.output, result, raw, opts)
end

--- Any value of a shape (the instance commands convert parts of results).
function M.value(shape, v, raw, opts)
  return convert(shape, v, raw, opts or {})
end

--- botocore's ResponseMetadata: RequestId, HTTPStatusCode, HTTPHeaders
--- (lower-case names in the order received, repeats joined by ","),
--- RetryAttempts.
function M.response_metadata(meta, status, headers)
  local h, order = {}, {}
  for _, p in ipairs(headers or {}) do
    local k = p[1]:lower()
    if h[k] == nil then order[#order + 1] = k; h[k] = p[2] else h[k] = h[k] .. "," .. p[2] end
  end
  local out, o = {}, {}
  local function put(k, v) if v ~= nil then out[k] = v; o[#o + 1] = k end end
  put("RequestId", meta and meta.request_id)
  put("HTTPStatusCode", status or (meta and meta.status))
  put("HTTPHeaders", new_object(h, order))
  put("RetryAttempts", meta and meta.attempts and meta.attempts - 1 or 0)
  return new_object(out, o)
end

-- Skeletons ---------------------------------------------------------------------

local EPOCH_NAIVE = "1970-01-01T00:00:00"   -- isoformat() of the naive datetime(1970, 1, 1)

local function skeleton(shape, stack, name, member_names)
  stack[#stack + 1] = shape.name
  local t = shape.type
  local out
  if t == "structure" then
    local count = 0
    for _, s in ipairs(stack) do if s == shape.name then count = count + 1 end end
    local o, order = {}, {}
    if count <= 1 then
      for _, m in ipairs(shape.members) do
        o[m.name] = skeleton(m.shape, stack, m.name, member_names)
        order[#order + 1] = m.name
      end
    end
    out = new_object(o, order)
  elseif t == "list" then
    out = new_array({ skeleton(shape.member, stack, member_names and shape.member.name or "", member_names) })
  elseif t == "map" then
    out = new_object({ KeyName = skeleton(shape.value, stack, "", member_names) }, { "KeyName" })
  elseif t == "string" then
    if member_names then out = name
    elseif shape.enum then out = shape.enum[1]
    else out = "" end
  elseif t == "integer" or t == "long" then
    out = 0
  elseif t == "float" or t == "double" then
    out = 0.0
  elseif t == "boolean" then
    out = true
  elseif t == "timestamp" then
    out = EPOCH_NAIVE
  else
    out = NULL
  end
  stack[#stack] = nil
  return out
end

--- botocore's ArgumentGenerator: the input skeleton of a shape (empty
--- strings, the first enum value, 0, 0.0, true), or with member_names the
--- output sample (strings are their member names).
function M.skeleton(shape, member_names)
  if not shape then return new_object({}, {}) end
  return skeleton(shape, {}, "", member_names)
end

return M
