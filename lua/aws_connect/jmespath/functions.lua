-- aws_connect.jmespath.functions: the built-in functions, their signatures and checks.
--
-- Signatures, argument checks and results follow python jmespath's
-- functions (the AWS CLI's): the function is looked up when it is called
-- (so `a || nosuch()` is fine when a is true), then arity, then types
-- (array-number, array-string: every element; "array-number|array-string":
-- the first element decides). Strings count and reverse by code point;
-- sorts are stable; max/min keep the first of equal values.

local values = require("aws_connect.jmespath.values")
local json = require("aws_connect.jmespath.json")

local M = {}

local type, rawget, tonumber, ipairs = type, rawget, tonumber, ipairs
local byte, sub, find, gsub, format = string.byte, string.sub, string.find, string.gsub, string.format
local concat = table.concat
local huge = math.huge

local NULL, jtype, fail = values.NULL, values.jtype, values.fail
local new_array, new_object, keys_of, len = values.new_array, values.new_object, values.keys, values.len

local function item(a, i)
  local x = rawget(a, i)
  if x == nil then return NULL end
  return x
end

-- ---- helpers ----------------------------------------------------------------

-- Stable bottom-up merge sort of a[1..n] (a Lua sort would not be stable).
local function stable_sort(a, n, less)
  local src, dst = a, {}
  local width = 1
  while width < n do
    local i = 1
    while i <= n do
      local mid = i + width
      if mid > n + 1 then mid = n + 1 end
      local hi = i + 2 * width
      if hi > n + 1 then hi = n + 1 end
      local l, r, o = i, mid, i
      while l < mid and r < hi do
        if less(src[r], src[l]) then
          dst[o] = src[r]
          r = r + 1
        else
          dst[o] = src[l]
          l = l + 1
        end
        o = o + 1
      end
      while l < mid do dst[o] = src[l]; l = l + 1; o = o + 1 end
      while r < hi do dst[o] = src[r]; r = r + 1; o = o + 1 end
      i = hi
    end
    src, dst = dst, src
    width = width * 2
  end
  return src
end

local function lt(a, b) return a < b end

local function utf8_length(s)
  local _, continuation = gsub(s, "[\128-\191]", "")
  return #s - continuation
end

local function utf8_reverse(s)
  if not find(s, "[\128-\255]") then return s:reverse() end
  local pieces, n, i = {}, 0, 1
  while i <= #s do
    local _, e = find(s, "^.[\128-\191]*", i)
    n = n + 1
    pieces[n] = sub(s, i, e)
    i = e + 1
  end
  local out = {}
  for k = 1, n do out[k] = pieces[n + 1 - k] end
  return concat(out)
end

-- python's int(s) then float(s) for a string: surrounding whitespace,
-- underscores between digits, inf/infinity/nan; nil when neither reads it.
local function is_space(b) return b == 32 or (b >= 9 and b <= 13) or (b >= 28 and b <= 31) end

local function digits_at(s, i, j)
  -- digits with single underscores between them; returns the index after them
  local k = i
  while k <= j do
    local b = byte(s, k)
    if b >= 48 and b <= 57 then
      k = k + 1
    elseif b == 95 and k > i then
      local nb = byte(s, k + 1)
      if k + 1 > j or not nb or nb < 48 or nb > 57 then break end
      k = k + 1
    else
      break
    end
  end
  return k
end

local function python_number(s)
  local i, j = 1, #s
  while i <= j and is_space(byte(s, i)) do i = i + 1 end
  while j >= i and is_space(byte(s, j)) do j = j - 1 end
  if i > j then return nil end
  local p = i
  local sign = byte(s, p)
  if sign == 43 or sign == 45 then p = p + 1 end
  local word = s:sub(p, j):lower()
  if word == "inf" or word == "infinity" then return sign == 45 and -huge or huge end
  if word == "nan" then return 0 / 0 end
  local int_end = digits_at(s, p, j)
  local has_int = int_end > p
  if has_int and int_end == j + 1 then
    return tonumber((gsub(sub(s, i, j), "_", "")))
  end
  local q = int_end
  local has_frac = false
  if q <= j and byte(s, q) == 46 then
    local frac_end = digits_at(s, q + 1, j)
    has_frac = frac_end > q + 1
    q = frac_end
  end
  if not has_int and not has_frac then return nil end
  if q <= j and (byte(s, q) == 101 or byte(s, q) == 69) then
    local e = q + 1
    local es = byte(s, e)
    if es == 43 or es == 45 then e = e + 1 end
    local exp_end = digits_at(s, e, j)
    if exp_end == e then return nil end
    q = exp_end
  end
  if q ~= j + 1 then return nil end
  local v = tonumber((gsub(sub(s, i, j), "_", "")))
  if v == nil then return nil end
  return v * 1.0  -- a float on 5.3+ (and -0.0 stays -0.0)
end

-- ---- signatures -------------------------------------------------------------

local FUNCS = {}

-- spec: a list of accepted types ("number", "array-string", ...), or false for any
local function parse_spec(list)
  if not list then return false end
  local spec = { tops = {}, subs = {}, text = concat(list, "|") }
  for _, t in ipairs(list) do
    local top, sub_t = t:match("^(%a+)%-(%a+)$")
    if top then
      spec.tops[top] = true
      spec.subs[#spec.subs + 1] = sub_t
    else
      spec.tops[t] = true
    end
  end
  return spec
end

local function def(name, arg_types, impl, variadic)
  local specs = {}
  for i = 1, #arg_types do specs[i] = parse_spec(arg_types[i]) end
  FUNCS[name] = { specs = specs, n = #arg_types, impl = impl, variadic = variadic }
end

local function type_error(name, i, spec, got)
  fail("invalid-type", format("%s(): argument %d must be %s, got %s", name, i, spec.text, got))
end

local function check(name, i, x, spec)
  local t = jtype(x)
  if not spec.tops[t] then type_error(name, i, spec, t) end
  local subs = spec.subs
  if #subs == 0 or t ~= "array" then return end
  local n = len(x)
  if #subs == 1 then
    local want = subs[1]
    for k = 1, n do
      local et = jtype(item(x, k))
      if et ~= want then type_error(name, i, spec, "an array holding " .. et) end
    end
  elseif n > 0 then
    local first = jtype(item(x, 1))
    local known = false
    for _, s in ipairs(subs) do if s == first then known = true end end
    if not known then type_error(name, i, spec, "an array holding " .. first) end
    for k = 2, n do
      local et = jtype(item(x, k))
      if et ~= first then type_error(name, i, spec, "an array holding " .. first .. " and " .. et) end
    end
  end
end

--- Calls a built-in with evaluated arguments args[1..n] (null as values.NULL).
function M.call(name, args, n)
  local f = FUNCS[name]
  if not f then fail("unknown-function", "unknown function: " .. name .. "()") end
  if f.variadic then
    if n < f.n then
      fail("invalid-arity", format("%s() takes at least %d argument%s, got %d", name, f.n, f.n == 1 and "" or "s", n))
    end
  elseif n ~= f.n then
    fail("invalid-arity", format("%s() takes %d argument%s, got %d", name, f.n, f.n == 1 and "" or "s", n))
  end
  local specs = f.specs
  for i = 1, n do
    local spec = specs[i]
    if spec == nil then spec = specs[f.n] end
    if spec then check(name, i, args[i], spec) end
  end
  return f.impl(args, n)
end

-- key of one element for *_by functions: a number or a string
local function key_of(name, ref, x, want)
  local k = ref.fn(x)
  if k == nil then k = NULL end
  local t = jtype(k)
  if t ~= "number" and t ~= "string" then
    fail("invalid-type", format("%s(): the expression must give a number or a string, got %s", name, t))
  end
  if want and t ~= want then
    fail("invalid-type", format("%s(): the expression gave %s and %s, which do not compare", name, want, t))
  end
  return k, t
end

local function extreme_by(name, better)
  return function(a)
    local arr, ref = a[1], a[2]
    local n = len(arr)
    if n == 0 then return NULL end
    local best = item(arr, 1)
    local best_key, want = key_of(name, ref, best)
    for i = 2, n do
      local x = item(arr, i)
      local k = key_of(name, ref, x, want)
      if better(k, best_key) then best, best_key = x, k end
    end
    return best
  end
end

local function extreme(better)
  return function(a)
    local arr = a[1]
    local n = len(arr)
    if n == 0 then return NULL end
    local best = item(arr, 1)
    for i = 2, n do
      local x = item(arr, i)
      if better(x, best) then best = x end
    end
    return best
  end
end

-- ---- the functions --------------------------------------------------------------

def("abs", { { "number" } }, function(a) return math.abs(a[1]) end)

def("avg", { { "array-number" } }, function(a)
  local arr = a[1]
  local n = len(arr)
  if n == 0 then return NULL end
  local s = 0
  for i = 1, n do s = s + arr[i] end
  return s / n
end)

-- python's math.ceil/floor give an int: NaN and the infinities have none
local function integral(name, round)
  return function(a)
    local x = a[1]
    if x ~= x or x == huge or x == -huge then
      fail("invalid-value", name .. "(): " .. json.number_text(x) .. " has no integral value")
    end
    return round(x)
  end
end
def("ceil", { { "number" } }, integral("ceil", math.ceil))
def("floor", { { "number" } }, integral("floor", math.floor))

def("contains", { { "array", "string" }, false }, function(a)
  local subject, search = a[1], a[2]
  if type(subject) == "string" then
    if type(search) ~= "string" then
      fail("invalid-type", "contains(): searching a string needs a string, got " .. jtype(search))
    end
    return find(subject, search, 1, true) ~= nil
  end
  for i = 1, len(subject) do
    if values.equal(item(subject, i), search) then return true end
  end
  return false
end)

def("ends_with", { { "string" }, { "string" } }, function(a)
  local s, suffix = a[1], a[2]
  if suffix == "" then return true end
  return #suffix <= #s and sub(s, -#suffix) == suffix
end)

def("starts_with", { { "string" }, { "string" } }, function(a)
  local s, prefix = a[1], a[2]
  return sub(s, 1, #prefix) == prefix
end)

def("join", { { "string" }, { "array-string" } }, function(a)
  return concat(a[2], a[1], 1, len(a[2]))
end)

def("keys", { { "object" } }, function(a)
  local keys, n = keys_of(a[1])
  local out = new_array({})
  for i = 1, n do out[i] = keys[i] end
  return out
end)

def("values", { { "object" } }, function(a)
  local obj = a[1]
  local keys, n = keys_of(obj)
  local out = new_array({})
  for i = 1, n do out[i] = rawget(obj, keys[i]) end
  return out
end)

def("length", { { "string", "array", "object" } }, function(a)
  local x = a[1]
  if type(x) == "string" then return utf8_length(x) end
  if jtype(x) == "array" then return len(x) end
  local _, n = keys_of(x)
  return n
end)

def("map", { { "expref" }, { "array" } }, function(a)
  local ref, arr = a[1], a[2]
  local out = new_array({})
  for i = 1, len(arr) do
    local r = ref.fn(item(arr, i))
    if r == nil then r = NULL end
    out[i] = r
  end
  return out
end)

def("max", { { "array-number", "array-string" } }, extreme(function(x, best) return x > best end))
def("min", { { "array-number", "array-string" } }, extreme(function(x, best) return x < best end))
def("max_by", { { "array" }, { "expref" } }, extreme_by("max_by", function(k, best) return k > best end))
def("min_by", { { "array" }, { "expref" } }, extreme_by("min_by", function(k, best) return k < best end))

def("merge", { { "object" } }, function(a, n)
  local order, no = {}, 0
  local out = new_object({}, order)
  for i = 1, n do
    local obj = a[i]
    local keys, nk = keys_of(obj)
    for j = 1, nk do
      local key = keys[j]
      if out[key] == nil then
        no = no + 1
        order[no] = key
      end
      out[key] = rawget(obj, key)
    end
  end
  return out
end, true)

def("not_null", { false }, function(a, n)
  for i = 1, n do
    if a[i] ~= NULL then return a[i] end
  end
  return NULL
end, true)

def("reverse", { { "array", "string" } }, function(a)
  local x = a[1]
  if type(x) == "string" then return utf8_reverse(x) end
  local n = len(x)
  local out = new_array({})
  for i = 1, n do out[i] = item(x, n + 1 - i) end
  return out
end)

def("sort", { { "array-string", "array-number" } }, function(a)
  local arr = a[1]
  local n = len(arr)
  local copy = {}
  for i = 1, n do copy[i] = arr[i] end
  return new_array(stable_sort(copy, n, lt))
end)

def("sort_by", { { "array" }, { "expref" } }, function(a)
  local arr, ref = a[1], a[2]
  local n = len(arr)
  if n == 0 then return arr end
  local _, want = key_of("sort_by", ref, item(arr, 1))
  local keys, perm = {}, {}
  for i = 1, n do
    keys[i] = key_of("sort_by", ref, item(arr, i), want)
    perm[i] = i
  end
  perm = stable_sort(perm, n, function(x, y) return keys[x] < keys[y] end)
  local out = new_array({})
  for i = 1, n do out[i] = item(arr, perm[i]) end
  return out
end)

def("sum", { { "array-number" } }, function(a)
  local arr = a[1]
  local s = 0
  for i = 1, len(arr) do s = s + arr[i] end
  return s
end)

def("to_array", { false }, function(a)
  local x = a[1]
  if jtype(x) == "array" then return x end
  return new_array({ x })
end)

def("to_number", { false }, function(a)
  local x = a[1]
  local t = type(x)
  if t == "number" then return x end
  if t == "string" then
    local v = python_number(x)
    if v == nil then return NULL end
    return v
  end
  if t == "table" and jtype(x) == "expref" then
    fail("invalid-type", "to_number(): cannot convert an expression reference")
  end
  return NULL
end)

def("to_string", { false }, function(a)
  local x = a[1]
  if type(x) == "string" then return x end
  return json.encode(x)
end)

local TYPE_NAMES = { string = "string", number = "number", boolean = "boolean", array = "array",
  object = "object", null = "null" }

def("type", { false }, function(a)
  -- python jmespath has no name for an expression reference: null
  return TYPE_NAMES[jtype(a[1])] or NULL
end)

return M
