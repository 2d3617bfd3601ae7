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
local find = string.find
local null = core.null
local ARRAY_MT = { __jsontype = "array" }
M.ARRAY_MT = ARRAY_MT

-- The path of the value being checked, kept as a stack (no string is
-- built unless a check fails): PART[i] is a member name, a list index or a
-- map key, KIND[i] says which.
local PART, KIND, depth = {}, {}, 0
local MEMBER, INDEX, KEY = 1, 2, 3

local function quote_key(k)
  if #k > 60 then k = k:sub(1, 60) .. "..." end
  return (("%q"):format(k):gsub("\\\n", "\\n"))
end

local function here()
  local out = {}
  for i = 1, depth do
    local kind, part = KIND[i], PART[i]
    if kind == MEMBER then
      if #out > 0 then out[#out + 1] = "." end
      out[#out + 1] = #part > 60 and part:sub(1, 60) .. "..." or part
    elseif kind == INDEX then
      out[#out + 1] = "[" .. part .. "]"
    else
      out[#out + 1] = "[" .. quote_key(part) .. "]"
    end
  end
  return table.concat(out)
end
M.path = here

-- Set while a map key is checked: its messages say "key must ...".
local key_check = false

local function fail(msg, field)
  field = field or here()
  if field == "" then field = "params" end
  if key_check then
    key_check = false
    if find(msg, "^must") then msg = "key " .. msg end
  end
  errors.raise("ValidationError", field .. " " .. msg, { field = field })
end

local function fail_member(name, msg)
  local base = here()
  fail(msg, base == "" and name or base .. "." .. name)
end

--- Number of code points in a valid UTF-8 string.
local function ulen(s)
  if not s:find("[\128-\255]") then return #s end
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end
M.ulen = ulen

-- Pattern overrides: what the model's regular expressions do not say.
-- AWS reserves the "aws:" prefix of tag keys in every letter case, where
-- the model's look-ahead (?!aws:) is case-sensitive.
local function reserved_prefix(shape, pattern, s)
  local r = shape.reserved
  if r == nil then
    r = pattern:find("(?!aws:)", 1, true) ~= nil
    shape.reserved = r
  end
  if r and s:sub(1, 4):lower() == "aws:" then
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

-- A pattern written between slashes (/^...$/, JavaScript's delimiters: the
-- Password shape) is the pattern between them; taken literally it matches
-- nothing, and every value would be refused.
local function effective_pattern(p)
  return p:match("^/(.+)/$") or p
end
M.effective_pattern = effective_pattern

local function check_pattern(shape, s)
  local p = shape.pattern
  local re = shape.re
  if re == nil then
    local err
    re, err = regex.compile_cached(effective_pattern(p))
    if not re then
      -- every model pattern compiles (spec/regex_spec.lua); a newer model
      -- with a construct the engine lacks must not pass unchecked
      fail(("cannot be checked: the model's pattern %s is not supported (%s)"):format(p, tostring(err)))
    end
    shape.re = re
  end
  local why = reserved_prefix(shape, p, s)
  if why then fail(why) end
  if not re:test(s) then
    local cp = offending(p, s)
    if cp then
      fail(("may not contain U+%04X (must match the pattern %s)"):format(cp, p))
    end
    fail("must match the pattern " .. p .. (shape.sensitive and "" or (", got %q"):format(
      #s > 60 and s:sub(1, 60) .. "..." or s)))
  end
end

local function check_string(shape, v)
  if type(v) ~= "string" then fail("must be a string, got " .. (v == null and "null" or type(v))) end
  local seen = shape.passed
  if seen and seen[v] then return v end
  local n
  if not find(v, "[\128-\255]") then
    n = #v
  else
    if not utf8_valid(v) then fail("must be valid UTF-8 text") end
    n = ulen(v)
  end
  local min, max = shape.min, shape.max
  if (min and n < min) or (max and n > max) then
    if min and max and min == max then
      fail(("must be exactly %d characters long, got %d"):format(min, n))
    elseif min and max and min > 0 then
      fail(("must be %d to %d characters long (at %s %d), got %d"):format(min, max,
        n < min and "least" or "most", n < min and min or max, n))
    elseif min and n < min then
      fail(("must be at least %d character%s long, got %d"):format(min, min == 1 and "" or "s", n))
    end
    fail(("must be at most %d characters long, got %d"):format(max, n))
  end
  if shape.enum_set and not shape.enum_set[v] then
    local list = shape.enum
    local shown = #list <= 12 and table.concat(list, ", ") or (table.concat(list, ", ", 1, 12) .. ", ...")
    fail(("must be one of %s, got %q"):format(shown, #v > 60 and v:sub(1, 60) .. "..." or v))
  end
  if shape.pattern then check_pattern(shape, v) end
  -- values repeat (ids, names): remember a bounded set that passed every
  -- check of the shape; never for a sensitive shape (passwords, aliases):
  -- the client keeps no secret beyond the call
  if #v <= 256 and not shape.sensitive then
    if not seen or shape.passed_n >= 256 then
      seen = {}
      shape.passed, shape.passed_n = seen, 0
    end
    seen[v] = true
    shape.passed_n = shape.passed_n + 1
  end
  return v
end

local INT_RANGE = { integer = 2147483647, long = 9007199254740992 }

local function check_number(shape, v)
  if type(v) ~= "number" then fail("must be a number, got " .. (v == null and "null" or type(v))) end
  if v ~= v or v == math.huge or v == -math.huge then fail("must be a finite number") end
  local lim = INT_RANGE[shape.type]
  if lim then
    if v ~= math.floor(v) then fail("must be an integer, got " .. tostring(v)) end
    if v > lim or v < -lim - 1 then fail("is out of range for a " .. shape.type) end
  end
  local min, max = shape.min, shape.max
  if (min and v < min) or (max and v > max) then
    if min and max then
      fail(("must be between %s and %s, got %s"):format(tostring(min), tostring(max), tostring(v)))
    elseif min then
      fail(("must be at least %s, got %s"):format(tostring(min), tostring(v)))
    end
    fail(("must be at most %s, got %s"):format(tostring(max), tostring(v)))
  end
  if lim and math.type and math.type(v) == "float" and v >= -2 ^ 53 and v <= 2 ^ 53 then
    v = math.floor(v)   -- 5.3+: 3.0 is sent as 3
  end
  return v
end

local check, CHECK

local function keys_of(shape)
  local list = {}
  for _, m in ipairs(shape.members) do list[#list + 1] = m.snake end
  return list
end

local function unknown_key(k, shape)
  local field = here()
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

local function check_structure(shape, v)
  if type(v) ~= "table" or v == null then
    fail("must be a table, got " .. (v == null and "null" or type(v)))
  end
  local by_key = shape.by_key
  local out = {}
  local given = 0
  local up = depth
  local d = up + 1
  KIND[d] = MEMBER   -- checks below write deeper levels only
  local k, x = next(v)
  while k ~= nil do
    local m = by_key[k]
    if not m then unknown_key(k, shape) end
    local name = m.name
    if out[name] ~= nil then
      fail_member(m.snake, ("and %s are the same parameter; give only one"):format(name))
    end
    depth = d
    PART[d] = k
    local ms = m.shape
    out[name] = CHECK[ms.type](ms, x)
    depth = up
    given = given + 1
    k, x = next(v, k)
  end
  local req = shape.required
  for i = 1, #req do
    if out[req[i]] == nil then
      fail_member(by_key[req[i]].snake, "is required")
    end
  end
  if shape.union and given ~= 1 then
    local names = keys_of(shape)
    fail(("must set exactly one of %s, got %d"):format(table.concat(names, ", "), given))
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

local function check_list(shape, v)
  if type(v) ~= "table" or v == null then
    fail("must be a list (a Lua array), got " .. (v == null and "null" or type(v)))
  end
  local n = is_array(v)
  if not n then fail("must be a list (a Lua array with keys 1..n)") end
  local min, max = shape.min, shape.max
  if (min and n < min) or (max and n > max) then
    if min and max then
      fail(("must have %d to %d entries, got %d"):format(min, max, n))
    elseif min then
      fail(("must have at least %d entr%s, got %d"):format(min, min == 1 and "y" or "ies", n))
    end
    fail(("must have at most %d entries, got %d"):format(max, n))
  end
  local out = setmetatable({}, ARRAY_MT)
  local ms = shape.member
  depth = depth + 1
  KIND[depth] = INDEX
  for i = 1, n do
    PART[depth] = i
    out[i] = check(ms, rawget(v, i))
  end
  depth = depth - 1
  return out
end

local function check_map(shape, v)
  if type(v) ~= "table" or v == null then
    fail("must be a table of key = value entries, got " .. (v == null and "null" or type(v)))
  end
  local out, n = {}, 0
  local ks, vs = shape.key, shape.value
  local k, x = next(v)
  while k ~= nil do
    if type(k) ~= "string" then fail("keys must be strings, got a " .. type(k) .. " key") end
    n = n + 1
    depth = depth + 1
    PART[depth], KIND[depth] = k, KEY
    if ks then
      key_check = true
      check_string(ks, k)
      key_check = false
    end
    out[k] = check(vs, x)
    depth = depth - 1
    k, x = next(v, k)
  end
  local min, max = shape.min, shape.max
  if (min and n < min) or (max and n > max) then
    if min and max then fail(("must have %d to %d entries, got %d"):format(min, max, n)) end
    if min then fail(("must have at least %d entries, got %d"):format(min, n)) end
    fail(("must have at most %d entries, got %d"):format(max, n))
  end
  return out
end

local function check_boolean(_, v)
  if type(v) ~= "boolean" then
    fail("must be a boolean (true or false), got " .. (v == null and "null" or type(v)))
  end
  return v
end

local function check_timestamp(_, v)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
    fail("must be a timestamp in epoch seconds (a number), got " .. (v == null and "null" or type(v)))
  end
  return v
end

local function check_blob(_, v)
  if type(v) ~= "string" then fail("must be a string of bytes, got " .. type(v)) end
  return v
end

CHECK = {
  structure = check_structure, list = check_list, map = check_map, string = check_string,
  integer = check_number, long = check_number, float = check_number, double = check_number,
  boolean = check_boolean, timestamp = check_timestamp, blob = check_blob,
}

check = function(shape, v)
  return CHECK[shape.type](shape, v)
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
  depth, key_check = 0, false
  return check_structure(op.input, params)
end

--- Checks one value against a shape (used by the CLI and specs); field
--- names it in errors.
function M.check(field, shape, v)
  depth, key_check = 1, false
  PART[1], KIND[1] = field, MEMBER
  local out = check(shape, v)
  depth = 0
  return out
end

return M
