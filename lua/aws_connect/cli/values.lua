-- aws_connect.cli.values: from the text of a flag to the parameter the
-- library gets, as the AWS CLI unpacks arguments (awscli/argprocess.py,
-- paramfile.py, customizations/cliinput.py):
--   file://PATH (text: UTF-8, newlines normalised, ~ and $VARS expanded)
--   and fileb://PATH (bytes) values, read bounded (16 MiB);
--   structures and maps: JSON when the text starts with "{", else the
--   shorthand syntax; lists of structures: shorthand per value unless the
--   first starts with "[" or "{"; lists of scalars: the values, or one
--   JSON array; numbers as python's int() and float() read them;
--   timestamps (ISO 8601, a date, or epoch seconds) to epoch seconds,
--   which the library takes;
--   --cli-input-json: a JSON object whose keys fill what the flags left.
-- Errors are argv usage errors in CLI terms ("Error parsing parameter
-- '--tags': ...", exit code 252).

local core = require("aws_connect.core")
local values = require("aws_connect.jmespath.values")
local jjson = require("aws_connect.jmespath.json")
local times = require("aws_connect.times")
local argv = require("aws_connect.cli.argv")

local M = {}

local jtype, new_array = values.jtype, values.new_array
local usage, shown = argv.usage, argv.shown

M.MAX_FILE = 16 * 1024 * 1024

local trim = require("aws_connect.text").trim
M.trim = trim

local function digits_ok(t)
  return not t:find("__", 1, true) and not t:find("^_") and not t:find("_$") and not t:find("[^%d]_")
    and not t:find("_[^%d]")
end

--- python's int(text): blanks around, a sign, digits with single
--- underscores between them. nil when python would raise.
function M.py_int(s)
  if type(s) == "number" then return s end
  local t = trim(s)
  if not t:find("^[+-]?%d[%d_]*$") or not digits_ok(t) then return nil end
  t = t:gsub("_", "")
  local n = tonumber(t)
  if math.tointeger and math.tointeger(n) then return math.tointeger(n) end
  return n
end

--- python's float(text): decimal or exponent notation, inf, infinity, nan.
function M.py_float(s)
  if type(s) == "number" then return s end
  local t = trim(s)
  local l = t:lower()
  local sign, word = l:match("^([+-]?)(%a+)$")
  if word == "inf" or word == "infinity" then return sign == "-" and -math.huge or math.huge end
  if word == "nan" then return 0 / 0 end
  if not digits_ok(t) then return nil end
  t = t:gsub("_", "")
  if not (t:find("^[+-]?%d+%.?%d*$") or t:find("^[+-]?%d*%.%d+$") or t:find("^[+-]?%d+%.?%d*[eE][+-]?%d+$")
    or t:find("^[+-]?%d*%.%d+[eE][+-]?%d+$")) then
    return nil
  end
  return tonumber(t) + 0.0
end

--- Epoch seconds of a timestamp the AWS CLI accepts: epoch seconds
--- (digits, a fraction), ISO 8601 (with or without zone: UTC), a date.
function M.timestamp(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" then return nil end
  local t = trim(s)
  local n = tonumber(t)
  if n and t:find("^[+-]?[%d.]+$") then return n end
  local y, mo, d = t:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if y then
    y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
    if times.invalid(y, mo, d, 0, 0, 0) then return nil end
    return times.epoch(y, mo, d, 0, 0, 0)
  end
  local v = times.parse_iso8601(t)
  if not v and t:find("^%d%d%d%d%-%d%d%-%d%d[Tt ]%d%d:%d%d$") then v = times.parse_iso8601(t .. ":00") end
  return v
end

-- Files -------------------------------------------------------------------------------

-- os.path.expandvars: $NAME and ${NAME} of set variables; others kept
local function expandvars(path, getenv)
  path = path:gsub("%${([%w_]+)}", function(k) return getenv(k) end)
  return (path:gsub("%$([%a_][%w_]*)", function(k) return getenv(k) end))
end

local function expanduser(path, getenv)
  if path == "~" or path:sub(1, 2) == "~/" then
    local home = getenv("HOME")
    if home and home ~= "" then return home .. path:sub(2) end
  end
  return path
end

--- The contents of a file:// or fileb:// value, or nil for other text.
--- ctx.getenv reads the environment; name is the flag (for messages).
function M.paramfile(v, ctx, name)
  if type(v) ~= "string" then return nil end
  local prefix = v:sub(1, 7) == "file://" and "file://" or v:sub(1, 8) == "fileb://" and "fileb://" or nil
  if not prefix then return nil end
  local path = expandvars(expanduser(v:sub(#prefix + 1), ctx.getenv), ctx.getenv)
  local data, kind, msg = core.read_bounded(path, M.MAX_FILE)
  if not data then
    local why = kind == "missing" and "No such file or directory"
      or kind == "too_large" and ("larger than %d bytes"):format(M.MAX_FILE)
      or kind == "not_file" and "not a regular file" or shown(msg or kind)
    usage("Error parsing parameter '%s': Unable to load paramfile %s: %s", name, shown(v), why)
  end
  if prefix == "file://" then
    if not core.utf8_valid(data) then
      usage("Error parsing parameter '%s': Unable to load paramfile (%s), text contents could not be decoded. "
        .. "If this is a binary file, please use the fileb:// prefix instead of the file:// prefix.", name, shown(path))
    end
    data = data:gsub("\r\n?", "\n")
  end
  return data
end

-- JSON ----------------------------------------------------------------------------------

local function json(text, name)
  local v, err = jjson.decode(text)
  if v == nil then
    usage("Error parsing parameter '%s': Invalid JSON: %s; JSON received: %s", name,
      err == "too-deep" and "nested too deeply" or "not valid JSON", shown(text))
  end
  return v
end
M.json = json

-- Unpacking ------------------------------------------------------------------------------

local SCALAR = { string = true, integer = true, long = true, float = true, double = true, boolean = true,
  timestamp = true, blob = true }

local function is_complex(shape)
  local t = shape.type
  if t == "list" then return not SCALAR[shape.member.type] end
  return t == "structure" or t == "map"
end

local function first_char(s)
  local t = s:match("^[ \t\n\r\v\f]*(.)")
  return t
end

local function scalar(shape, v, name)
  local t = shape.type
  if type(v) ~= "string" then return v end
  if t == "integer" or t == "long" then
    local n = M.py_int(v)
    if n == nil then usage("Error parsing parameter '%s': invalid literal for int() with base 10: '%s'", name, shown(v)) end
    return n
  elseif t == "float" or t == "double" then
    local n = M.py_float(v)
    if n == nil then usage("Error parsing parameter '%s': could not convert string to float: '%s'", name, shown(v)) end
    return n
  elseif t == "timestamp" then
    local n = M.timestamp(v)
    if n == nil then
      usage("Error parsing parameter '%s': invalid timestamp '%s' (ISO 8601, e.g. 2024-05-01T12:00:00Z, "
        .. "or epoch seconds)", name, shown(v))
    end
    return n
  elseif t == "boolean" then
    return v:lower() ~= "false" and v ~= ""
  end
  return v
end

local shorthand

local function parse_shorthand(text, name)
  shorthand = shorthand or require("aws_connect.cli.shorthand")
  local ok, v = pcall(shorthand.parse, text)
  if not ok then
    if type(v) == "table" and v.message then usage("Error parsing parameter '%s': %s", name, v.message) end
    error(v, 0)
  end
  return v
end

local function visit(v, shape, name)
  shorthand = shorthand or require("aws_connect.cli.shorthand")
  local ok, r = pcall(shorthand.visit, v, shape)
  if not ok then
    if argv.is_usage(r) then error(r, 0) end
    usage("Error parsing parameter '%s': %s", name, tostring(type(r) == "table" and r.message or r))
  end
  return r
end

--- A flag's value (a string, or a list of strings for list members) as
--- the parameter of the member shape.
function M.unpack(shape, v, name)
  local t = shape.type
  if t == "structure" or t == "map" then
    local c = first_char(v)
    if c == "{" then return json(v, name) end
    if c == "[" then usage("Error parsing parameter '%s': Invalid JSON: %s", name, shown(v)) end
    if t == "structure" and #shape.members == 1 and shape.members[1].name == "Value"
      and shape.members[1].shape.type == "string" and not v:find("=", 1, true) then
      return values.new_object({ Value = v }, { "Value" })
    end
    return visit(parse_shorthand(v, name), shape, name)
  elseif t == "list" then
    if type(v) == "string" then
      if first_char(v) == "[" then return json(v, name) end
      v = { v }
    end
    local c = v[1] and first_char(v[1])
    if #v == 1 and c == "[" then return json(v[1], name) end
    if is_complex(shape) and c ~= "[" and c ~= "{" then
      local list = {}
      for i, x in ipairs(v) do list[i] = parse_shorthand(x, name) end
      return visit(new_array(list), shape, name)
    end
    local list = {}
    for i, x in ipairs(v) do
      if is_complex(shape.member) or shape.member.type == "list" then
        list[i] = M.unpack(shape.member, x, name)
      else
        list[i] = scalar(shape.member, x, name)
      end
    end
    return new_array(list)
  end
  return scalar(shape, v, name)
end

--- Turns what JSON or shorthand gave into what the library takes:
--- timestamps as epoch seconds, numbers from strings where the shape wants
--- numbers (shorthand leaves none), at every depth. Unknown keys are left
--- for the library to refuse.
function M.coerce(shape, v)
  local t = shape.type
  local jt = jtype(v)
  if t == "structure" and jt == "object" then
    for k, x in next, v do
      local m = shape.by_key[k]
      if m and m.name == k then v[k] = M.coerce(m.shape, x) end
    end
  elseif t == "list" and jt == "array" then
    for i = 1, values.len(v) do v[i] = M.coerce(shape.member, v[i]) end
  elseif t == "map" and jt == "object" then
    for k, x in next, v do v[k] = M.coerce(shape.value, x) end
  elseif t == "timestamp" and type(v) == "string" then
    return M.timestamp(v) or v
  end
  return v
end

return M
