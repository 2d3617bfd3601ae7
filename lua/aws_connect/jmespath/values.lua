-- aws_connect.jmespath.values: the JMESPath data model over the SDK's Lua values.
--
-- The JSON decoder's convention (design.md, core json_decode): null is
-- core.null, arrays carry a metatable with __jsontype = "array", objects are
-- plain tables. Objects JMESPath builds carry { __jsontype = "object",
-- __order = {keys} } so printers keep python's insertion order. Plain Lua
-- arrays (keys exactly 1..n) are accepted as input too. This file owns the
-- type of a value, truthiness, python's equality, key order and the typed
-- runtime error; nothing here recurses deeper than MAX_DATA_DEPTH.

local M = {}

local type, next, rawget, getmetatable, setmetatable = type, next, rawget, getmetatable, setmetatable
local sort = table.sort

local has_core, core = pcall(require, "aws_connect.core")
local errors = require("aws_connect.errors")

-- JSON null: the decoder's light userdata; a sentinel when the C core is absent.
local NULL = has_core and core.null or setmetatable({}, { __tostring = function() return "null" end })
M.NULL = NULL

-- Arrays we build share the decoder's array metatable when it is available,
-- so results and decoded data look alike to every consumer.
local ARRAY_MT
if has_core then
  local ok, probe = pcall(core.json_decode, "[]")
  if ok and type(probe) == "table" then ARRAY_MT = getmetatable(probe) end
end
if type(ARRAY_MT) ~= "table" or rawget(ARRAY_MT, "__jsontype") ~= "array" then
  ARRAY_MT = { __jsontype = "array" }
end
M.ARRAY_MT = ARRAY_MT

-- Expression references (&expr) are values of their own type.
local EXPREF_MT = { __jsontype = "expref" }
M.EXPREF_MT = EXPREF_MT

-- Walking data (equality, to_string) stops here: plain Lua tables may be cyclic.
M.MAX_DATA_DEPTH = 512

-- The error every failure is reported as: kind is the compliance suite's type.
function M.new_error(kind, message, fields)
  local f = { kind = kind }
  if fields then for k, v in pairs(fields) do f[k] = v end end
  return errors.new("JMESPathError", message, f)
end

-- Raised inside the interpreter and caught once by search().
function M.fail(kind, message)
  error(M.new_error(kind, message), 0)
end

function M.is_error(x)
  return errors.is_error(x) and x.code == "JMESPathError"
end

function M.new_array(t)
  return setmetatable(t or {}, ARRAY_MT)
end

-- An object with an explicit key order (python dict insertion order).
function M.new_object(t, order)
  return setmetatable(t or {}, { __jsontype = "object", __order = order or {} })
end

function M.new_expref(fn)
  return setmetatable({ fn = fn }, EXPREF_MT)
end

local rawlen = rawlen or function(t) return #t end  -- luacheck: ignore 113 (5.1 has no rawlen)

-- "null", "boolean", "number", "string", "array", "object" or "expref".
local function jtype(v)
  local tv = type(v)
  if tv == "string" then return "string" end
  if tv == "number" then return "number" end
  if tv == "boolean" then return "boolean" end
  if tv ~= "table" or v == NULL then return "null" end
  local mt = getmetatable(v)
  if mt ~= nil then
    if mt == ARRAY_MT then return "array" end
    if mt == EXPREF_MT then return "expref" end
    if type(mt) == "table" then
      local jt = rawget(mt, "__jsontype")
      if jt == "array" then return "array" end
      if jt == "object" then return "object" end
    end
  end
  -- plain table: an array when its keys are exactly 1..n, n > 0
  if rawget(v, 1) == nil then return "object" end
  local n, count = rawlen(v), 0
  for k in next, v do
    if type(k) ~= "number" then return "object" end
    count = count + 1
  end
  if count == n then return "array" end
  return "object"
end
M.jtype = jtype

-- JMESPath false: null, false, "", [] and {} (numbers, even 0, are true).
function M.is_false(v)
  local tv = type(v)
  if tv == "boolean" then return not v end
  if tv == "string" then return v == "" end
  if tv == "number" then return false end
  if tv == "table" then
    if v == NULL then return true end
    if getmetatable(v) == EXPREF_MT then return false end
    return next(v) == nil
  end
  return true  -- nil, null
end

-- The length of an array (its raw border).
function M.len(a)
  return rawlen(a)
end

-- The keys of an object in their order: an __order the object carries (python's
-- insertion order), then any other string keys, sorted; a plain table's keys
-- sorted (byte order, as the JSON encoder writes them).
function M.keys(t)
  local keys, n = {}, 0
  local mt = getmetatable(t)
  local order = type(mt) == "table" and rawget(mt, "__order") or nil
  if type(order) == "table" then
    local seen = {}
    for i = 1, rawlen(order) do
      local k = rawget(order, i)
      if type(k) == "string" and not seen[k] and rawget(t, k) ~= nil then
        seen[k] = true
        n = n + 1
        keys[n] = k
      end
    end
    local listed = n
    for k in next, t do
      if type(k) == "string" and not seen[k] then
        n = n + 1
        keys[n] = k
      end
    end
    if n > listed then
      local extra = {}
      for i = listed + 1, n do extra[#extra + 1] = keys[i] end
      sort(extra)
      for i = 1, #extra do keys[listed + i] = extra[i] end
    end
    return keys, n
  end
  for k in next, t do
    if type(k) == "string" then
      n = n + 1
      keys[n] = k
    end
  end
  sort(keys)
  return keys, n
end

-- python's ==: 1 == 1.0, deep lists and dicts; inside containers a boolean
-- equals 1 or 0 (python's True == 1), as the AWS CLI's jmespath compares.
local function deep_eq(a, b, depth)
  if depth > M.MAX_DATA_DEPTH then M.fail("invalid-value", "value nested too deeply to compare") end
  local ta, tb = jtype(a), jtype(b)
  if ta ~= tb then
    if ta == "boolean" and tb == "number" then return (a and 1 or 0) == b end
    if ta == "number" and tb == "boolean" then return a == (b and 1 or 0) end
    return false
  end
  if ta == "null" then return true end
  if ta == "array" then
    local n = rawlen(a)
    if rawlen(b) ~= n then return false end
    for i = 1, n do
      local x, y = rawget(a, i), rawget(b, i)
      if x == nil then x = NULL end
      if y == nil then y = NULL end
      if not deep_eq(x, y, depth + 1) then return false end
    end
    return true
  end
  if ta == "object" then
    local count = 0
    for k, x in next, a do
      if type(k) == "string" then
        count = count + 1
        local y = rawget(b, k)
        if y == nil or not deep_eq(x, y, depth + 1) then return false end
      end
    end
    for k in next, b do
      if type(k) == "string" then count = count - 1 end
    end
    return count == 0
  end
  if ta == "expref" then return rawequal(a, b) end
  return a == b
end

-- Equality inside containers (contains(), nested values).
function M.equal(a, b)
  if a == b then return true end
  return deep_eq(a, b, 1)
end

-- The == operator: as above, but a number never equals a boolean at the top
-- (python jmespath special-cases 0/1 against true/false).
function M.top_equal(a, b)
  if a == b then return true end
  -- different values: only two tables can still be equal (a number and a
  -- boolean never are at the top, and NULL is one value)
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  return deep_eq(a, b, 1)
end

-- Lua 5.3+ tells integers from floats; 5.1/LuaJIT have doubles only.
local math_type = math.type  -- luacheck: ignore 143
function M.is_integer(x)
  if math_type then return math_type(x) == "integer" end
  return x == x and x % 1 == 0 and x >= -9007199254740992 and x <= 9007199254740992
end

return M
