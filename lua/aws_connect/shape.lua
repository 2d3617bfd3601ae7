-- aws_connect.shape: checks a caller's parameters against a model shape
-- and returns the normalised copy the protocols serialise.
--
-- Every constraint of the model is checked before anything is sent:
-- required members, types (integer vs number, boolean, list, map,
-- structure, union: exactly one member), lengths in code points, list and
-- map sizes, numeric ranges, enums and patterns (aws_connect.regex). A
-- failure is a ValidationError whose field is the full path
-- (routing_profile.queue_configs[2].priority, tags["aws:x"]).
--
-- Parameters are read raw (next/rawget: __pairs and __index are not
-- consulted) and copied into plain tables keyed by the AWS member names, so
-- what was checked is exactly what is sent. Structure keys may be the AWS
-- member name or its snake_case form (aws_connect.names), not both; map keys
-- are data and kept as given.

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local regex = require("aws_connect.regex")
local suggest = require("aws_connect.suggest")

local M = {}

local utf8_valid = core.utf8_valid
local null = core.null
local ARRAY_MT = { __jsontype = "array" }
M.ARRAY_MT = ARRAY_MT

local function fail(field, msg)
  errors.raise("ValidationError", field .. " " .. msg, { field = field })
end

--- Number of code points in a valid UTF-8 string.
local function ulen(s)
  if not s:find("[\128-\255]") then return #s end
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end
M.ulen = ulen

local function quote_key(k)
  return (("%q"):format(k):gsub("\\\n", "\\n"))
end

-- Pattern overrides: what the model's regular expressions do not say.
-- AWS reserves the "aws:" prefix of tag keys in every letter case, where
-- the model's look-ahead (?!aws:) is case-sensitive.
local function reserved_prefix(pattern, s)
  if pattern:find("(?!aws:)", 1, true) and s:sub(1, 4):lower() == "aws:" then
    return "must not start with 'aws:' in any letter case (the prefix is reserved for AWS)"
  end
  return nil
end

-- For patterns of the form ^[CLASS]*$ / ^[CLASS]+$ (after an optional
-- look-ahead), the first code point outside the class, for the message.
local class_of = {}
local function offending(pattern, s)
  local cls = class_of[pattern]
  if cls == nil then
    local c = pattern:match("^%^%(%?![^()]*%)(%[[^%[%]]*%])[%*%+]%$$") or pattern:match("^%^(%[[^%[%]]*%])[%*%+]%$$")
    cls = c and regex.compile_cached("^" .. c .. "$") or false
    class_of[pattern] = cls
  end
  if not cls then return nil end
  local i, n = 1, #s
  while i <= n do
    local b = s:byte(i)
    local len = b < 0x80 and 1 or b < 0xE0 and 2 or b < 0xF0 and 3 or 4
    local ch = s:sub(i, i + len - 1)
    if not cls:test(ch) then
      local cp = b
      if len > 1 then
        cp = b % (2 ^ (7 - len))
        for j = i + 1, i + len - 1 do cp = cp * 64 + (s:byte(j) - 0x80) end
      end
      return cp
    end
    i = i + len
  end
  return nil
end

local function check_pattern(field, shape, s)
  local p = shape.pattern
  local re = shape.re
  if re == nil then
    local err
    re, err = regex.compile_cached(p)
    if not re then
      -- every model pattern compiles (spec/regex_spec.lua); a newer model
      -- with a construct the engine lacks must not pass unchecked
      errors.raise("ValidationError", ("%s cannot be checked: the model's pattern %s is not supported (%s)"):format(
        field, p, tostring(err)), { field = field })
    end
    shape.re = re
  end
  local why = reserved_prefix(p, s)
  if why then fail(field, why) end
  if not re:test(s) then
    local cp = offending(p, s)
    if cp then
      fail(field, ("may not contain U+%04X (must match the pattern %s)"):format(cp, p))
    end
    fail(field, "must match the pattern " .. p .. (shape.sensitive and "" or (", got %q"):format(
      #s > 60 and s:sub(1, 60) .. "..." or s)))
  end
end

local function check_string(field, shape, v)
  if type(v) ~= "string" then fail(field, "must be a string, got " .. (v == null and "null" or type(v))) end
  local n
  if not v:find("[\128-\255]") then
    n = #v
  else
    if not utf8_valid(v) then fail(field, "must be valid UTF-8 text") end
    n = ulen(v)
  end
  local min, max = shape.min, shape.max
  if (min and n < min) or (max and n > max) then
    if min and max and min == max then
      fail(field, ("must be exactly %d characters long, got %d"):format(min, n))
    elseif min and max and min > 0 then
      fail(field, ("must be %d to %d characters long (at %s %d), got %d"):format(min, max,
        n < min and "least" or "most", n < min and min or max, n))
    elseif min and n < min then
      fail(field, ("must be at least %d character%s long, got %d"):format(min, min == 1 and "" or "s", n))
    end
    fail(field, ("must be at most %d characters long, got %d"):format(max, n))
  end
  if shape.enum_set and not shape.enum_set[v] then
    local list = shape.enum
    local shown = #list <= 12 and table.concat(list, ", ") or (table.concat(list, ", ", 1, 12) .. ", ...")
    fail(field, ("must be one of %s, got %q"):format(shown, #v > 60 and v:sub(1, 60) .. "..." or v))
  end
  if shape.pattern then check_pattern(field, shape, v) end
  return v
end

local INT_RANGE = { integer = 2147483647, long = 9007199254740992 }

local function check_number(field, shape, v)
  if type(v) ~= "number" then fail(field, "must be a number, got " .. (v == null and "null" or type(v))) end
  if v ~= v or v == math.huge or v == -math.huge then fail(field, "must be a finite number") end
  local lim = INT_RANGE[shape.type]
  if lim then
    if v ~= math.floor(v) then fail(field, "must be an integer, got " .. tostring(v)) end
    if v > lim or v < -lim - 1 then fail(field, "is out of range for a " .. shape.type) end
  end
  local min, max = shape.min, shape.max
  if (min and v < min) or (max and v > max) then
    if min and max then
      fail(field, ("must be between %s and %s, got %s"):format(tostring(min), tostring(max), tostring(v)))
    elseif min then
      fail(field, ("must be at least %s, got %s"):format(tostring(min), tostring(v)))
    end
    fail(field, ("must be at most %s, got %s"):format(tostring(max), tostring(v)))
  end
  if lim and math.type and math.type(v) == "float" and v >= -2 ^ 53 and v <= 2 ^ 53 then
    v = math.floor(v)   -- 5.3+: 3.0 is sent as 3
  end
  return v
end

local check

local function keys_of(shape)
  local list = {}
  for _, m in ipairs(shape.members) do list[#list + 1] = m.snake end
  return list
end

local function unknown_key(field, k, shape)
  local where = field ~= "" and (" in " .. field) or ""
  if type(k) ~= "string" then
    local shown = tostring(k)
    errors.raise("ValidationError", ("unknown parameter %s%s: parameter names are strings, got a %s key"):format(
      shown, where, type(k)), { field = field ~= "" and (field .. "." .. shown) or shown })
  end
  local shown = #k > 60 and k:sub(1, 60) .. "..." or k
  local best = suggest.closest(k, keys_of(shape))
  local msg = ("unknown parameter '%s'%s"):format(shown, where)
  if best then
    msg = msg .. ("; did you mean '%s'?"):format(best)
  else
    msg = msg .. "; known parameters: " .. table.concat(keys_of(shape), ", ")
  end
  local path = field ~= "" and (field .. "." .. shown) or shown
  errors.raise("ValidationError", msg, { field = path })
end

local function join(field, name)
  if field == "" then return name end
  return field .. "." .. name
end

local function check_structure(field, shape, v)
  if type(v) ~= "table" or v == null then
    fail(field ~= "" and field or "params", "must be a table, got " .. (v == null and "null" or type(v)))
  end
  local by_key = shape.by_key
  local out = {}
  local given = 0
  local k, x = next(v)
  while k ~= nil do
    local m = by_key[k]
    if not m then unknown_key(field, k, shape) end
    if out[m.name] ~= nil then
      fail(join(field, m.snake), ("and %s are the same parameter; give only one"):format(m.name))
    end
    out[m.name] = check(join(field, k), m.shape, x)
    given = given + 1
    k, x = next(v, k)
  end
  local req = shape.required
  for i = 1, #req do
    if out[req[i]] == nil then
      fail(join(field, by_key[req[i]].snake), "is required")
    end
  end
  if shape.union and given ~= 1 then
    local names = keys_of(shape)
    fail(field ~= "" and field or "params", ("must set exactly one of %s, got %d"):format(table.concat(names, ", "), given))
  end
  return out
end

local function is_array(v)
  local n = 0
  local k = next(v)
  while k ~= nil do
    if type(k) ~= "number" then return nil end
    n = n + 1
    k = next(v, k)
  end
  for i = 1, n do if rawget(v, i) == nil then return nil end end
  return n
end

local function check_list(field, shape, v)
  if type(v) ~= "table" or v == null then
    fail(field, "must be a list (a Lua array), got " .. (v == null and "null" or type(v)))
  end
  local n = is_array(v)
  if not n then fail(field, "must be a list (a Lua array with keys 1..n)") end
  local min, max = shape.min, shape.max
  if (min and n < min) or (max and n > max) then
    if min and max then
      fail(field, ("must have %d to %d entries, got %d"):format(min, max, n))
    elseif min then
      fail(field, ("must have at least %d entr%s, got %d"):format(min, min == 1 and "y" or "ies", n))
    end
    fail(field, ("must have at most %d entries, got %d"):format(max, n))
  end
  local out = setmetatable({}, ARRAY_MT)
  local ms = shape.member
  for i = 1, n do out[i] = check(field .. "[" .. i .. "]", ms, rawget(v, i)) end
  return out
end

local function check_map(field, shape, v)
  if type(v) ~= "table" or v == null then
    fail(field, "must be a table of key = value entries, got " .. (v == null and "null" or type(v)))
  end
  local out, n = {}, 0
  local ks, vs = shape.key, shape.value
  local k, x = next(v)
  while k ~= nil do
    if type(k) ~= "string" then fail(field, "keys must be strings, got a " .. type(k) .. " key") end
    local kf = field .. "[" .. quote_key(#k > 60 and k:sub(1, 60) .. "..." or k) .. "]"
    n = n + 1
    if ks then
      local ok, err = pcall(check_string, kf, ks, k)
      if not ok then
        err.message = err.message:gsub("^(" .. kf:gsub("%p", "%%%0") .. ") must", "%1 key must")
        error(err, 0)
      end
    end
    out[k] = check(kf, vs, x)
    k, x = next(v, k)
  end
  local min, max = shape.min, shape.max
  if (min and n < min) or (max and n > max) then
    if min and max then fail(field, ("must have %d to %d entries, got %d"):format(min, max, n)) end
    if min then fail(field, ("must have at least %d entries, got %d"):format(min, n)) end
    fail(field, ("must have at most %d entries, got %d"):format(max, n))
  end
  return out
end

local function check_boolean(field, _, v)
  if type(v) ~= "boolean" then
    fail(field, "must be a boolean (true or false), got " .. (v == null and "null" or type(v)))
  end
  return v
end

local function check_timestamp(field, _, v)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
    fail(field, "must be a timestamp in epoch seconds (a number), got " .. (v == null and "null" or type(v)))
  end
  return v
end

local function check_blob(field, _, v)
  if type(v) ~= "string" then fail(field, "must be a string of bytes, got " .. type(v)) end
  return v
end

local CHECK = {
  structure = check_structure, list = check_list, map = check_map, string = check_string,
  integer = check_number, long = check_number, float = check_number, double = check_number,
  boolean = check_boolean, timestamp = check_timestamp, blob = check_blob,
}

check = function(field, shape, v)
  return CHECK[shape.type](field, shape, v)
end

--- Checks params against an operation's input shape; returns the
--- normalised copy (AWS member names). what names the call in messages.
function M.input(op, params, what)
  if params == nil then params = {} end
  if type(params) ~= "table" then
    errors.raise("ValidationError", ("%s expects a table of parameters, got %s"):format(what or op.snake, type(params)),
      { field = "params" })
  end
  if not op.input then
    if next(params) ~= nil then
      local k = next(params)
      errors.raise("ValidationError", ("%s takes no parameters, got '%s'"):format(what or op.snake, tostring(k)),
        { field = tostring(k) })
    end
    return {}
  end
  return check_structure("", op.input, params)
end

--- Checks one value against a shape (used by the CLI and specs).
function M.check(field, shape, v)
  return check(field, shape, v)
end

return M
