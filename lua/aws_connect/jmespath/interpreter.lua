-- aws_connect.jmespath.interpreter: AST -> a Lua closure evaluating it.
--
-- Each node becomes one function(value) -> value; evaluation follows python
-- jmespath's TreeInterpreter (the AWS CLI's): projections drop nulls,
-- multi-selects of null are null, ordering comparisons of anything but two
-- numbers or two strings are null, == is python's equality. Runtime errors
-- are raised as typed errors (values.fail) and caught once by search().
-- The closures nest as deep as the tree, which the parser bounds.

local values = require("aws_connect.jmespath.values")
local functions = require("aws_connect.jmespath.functions")

local M = {}

local type, rawget, ipairs, getmetatable = type, rawget, ipairs, getmetatable

local NULL, jtype, is_false = values.NULL, values.jtype, values.is_false
local new_array, new_object, keys_of, len = values.new_array, values.new_object, values.keys, values.len
local top_equal, fail = values.top_equal, values.fail

local compile

local ARRAY_MT = values.ARRAY_MT

-- field lookup on a value: objects only. A plain table holding the (string)
-- key is an object; without a metatable, indexing it is a raw read.
local function get_field(v, name)
  if type(v) ~= "table" then return NULL end
  local r
  if getmetatable(v) == nil then
    r = v[name]
  elseif jtype(v) == "object" then
    r = rawget(v, name)
  else
    return NULL
  end
  if r == nil then return NULL end
  return r
end

-- The items of an array as a table safe to index directly (no metamethods):
-- the array itself for plain and decoded arrays, else a raw copy.
local function items_of(a, n)
  local mt = getmetatable(a)
  if mt == nil or mt == ARRAY_MT then return a end
  local copy = {}
  for i = 1, n do copy[i] = rawget(a, i) end
  return copy
end

local function seq(fns)
  local n = #fns
  if n == 1 then return fns[1] end
  if n == 2 then
    local a, b = fns[1], fns[2]
    return function(v) return b(a(v)) end
  end
  return function(v)
    for i = 1, n do v = fns[i](v) end
    return v
  end
end

local function compile_children(node)
  local fns = {}
  for i, child in ipairs(node) do fns[i] = compile(child) end
  return fns
end

local C = {}

C.literal = function(node)
  local v = node.v
  return function() return v end
end

C.field = function(node)
  local name = node.v
  return function(v) return get_field(v, name) end
end

C.identity = function() return function(v) return v end end
C.current = C.identity

C.subexpression = function(node)
  -- a plain path (a.b.c) walks without a closure per step
  local names, all_fields = {}, true
  for i, child in ipairs(node) do
    if child.k ~= "field" then all_fields = false break end
    names[i] = child.v
  end
  if all_fields then
    local n = #names
    return function(v)
      for i = 1, n do
        v = get_field(v, names[i])
        if v == NULL then return NULL end
      end
      return v
    end
  end
  return seq(compile_children(node))
end
C.index_expression = C.subexpression
C.pipe = function(node) return seq(compile_children(node)) end

C.index = function(node)
  local i = node.v
  return function(v)
    if jtype(v) ~= "array" then return NULL end
    local n = len(v)
    local at = i
    if at < 0 then at = n + at end
    if at < 0 or at >= n then return NULL end
    local r = rawget(v, at + 1)
    if r == nil then return NULL end
    return r
  end
end

-- python's slice.indices()
local function slice_bounds(n, start, stop, step)
  local lower, upper
  if step < 0 then lower, upper = -1, n - 1 else lower, upper = 0, n end
  local function clamp(x, default)
    if x == nil then return default end
    if x < 0 then
      x = x + n
      if x < lower then x = lower end
    elseif x > upper then
      x = upper
    end
    return x
  end
  return clamp(start, step < 0 and upper or lower), clamp(stop, step < 0 and lower or upper)
end

C.slice = function(node)
  local start, stop, step = node.start, node.stop, node.step or 1
  return function(v)
    if jtype(v) ~= "array" then return NULL end
    if step == 0 then fail("invalid-value", "slice step cannot be 0") end
    local a, b = slice_bounds(len(v), start, stop, step)
    local out, n = new_array({}), 0
    local i = a
    if step > 0 then
      while i < b do
        n = n + 1
        local x = rawget(v, i + 1)
        if x == nil then x = NULL end
        out[n] = x
        i = i + step
      end
    else
      while i > b do
        n = n + 1
        local x = rawget(v, i + 1)
        if x == nil then x = NULL end
        out[n] = x
        i = i + step
      end
    end
    return out
  end
end

-- An array projection: step(x) of each element of left's array (nil for
-- a missing element is null), results that are null or nil dropped.
local function array_projection(left, step)
  return function(v)
    local base = left(v)
    if jtype(base) ~= "array" then return NULL end
    local out, n = new_array({}), 0
    local count = len(base)
    local items = items_of(base, count)
    for i = 1, count do
      local x = items[i]
      if x == nil then x = NULL end
      x = step(x)
      if x ~= NULL and x ~= nil then
        n = n + 1
        out[n] = x
      end
    end
    return out
  end
end

C.projection = function(node)
  local left, right = compile(node[1]), compile(node[2])
  if node[2].k == "identity" then return array_projection(left, function(x) return x end) end
  return array_projection(left, right)
end

C.value_projection = function(node)
  local left, right = compile(node[1]), compile(node[2])
  return function(v)
    local base = left(v)
    if jtype(base) ~= "object" then return NULL end
    local keys, nk = keys_of(base)
    local out, n = new_array({}), 0
    for i = 1, nk do
      local x = right(rawget(base, keys[i]))
      if x ~= NULL and x ~= nil then
        n = n + 1
        out[n] = x
      end
    end
    return out
  end
end

C.filter_projection = function(node)
  local left, right, cond = compile(node[1]), compile(node[2]), compile(node[3])
  local right_field = node[2].k == "field" and node[2].v or nil
  return array_projection(left, function(x)
    local c = cond(x)
    if c == true or (c ~= false and not is_false(c)) then
      if right_field then return get_field(x, right_field) end
      return right(x)
    end
    return nil
  end)
end

C.flatten = function(node)
  local inner = compile(node[1])
  return function(v)
    local base = inner(v)
    if jtype(base) ~= "array" then return NULL end
    local out, n = new_array({}), 0
    for i = 1, len(base) do
      local x = rawget(base, i)
      if x == nil then x = NULL end
      if type(x) == "table" and jtype(x) == "array" then
        for j = 1, len(x) do
          local y = rawget(x, j)
          if y == nil then y = NULL end
          n = n + 1
          out[n] = y
        end
      else
        n = n + 1
        out[n] = x
      end
    end
    return out
  end
end

C["not"] = function(node)
  local inner = compile(node[1])
  return function(v) return is_false(inner(v)) end
end

C["or"] = function(node)
  local a, b = compile(node[1]), compile(node[2])
  return function(v)
    local r = a(v)
    if is_false(r) then return b(v) end
    return r
  end
end

C["and"] = function(node)
  local a, b = compile(node[1]), compile(node[2])
  return function(v)
    local r = a(v)
    if is_false(r) then return r end
    return b(v)
  end
end

-- ordering: two numbers (booleans are not numbers) or two strings; null when
-- either is anything else; a number against a string is an error (python
-- jmespath raises a TypeError there, which fails the AWS CLI's --query)
local function orderable(a, b)
  local ta, tb = type(a), type(b)
  if ta == tb then return ta == "number" or ta == "string" end
  if (ta == "number" and tb == "string") or (ta == "string" and tb == "number") then
    fail("invalid-type", "cannot order a " .. jtype(a) .. " against a " .. jtype(b))
  end
  return false
end

-- the common filter `field == 'scalar'`: equality with a literal that is not
-- a container is plain Lua equality (true ~= 1 in Lua, as at python's top)
local function field_vs_scalar(node)
  local f, l = node[1], node[2]
  if f.k == "literal" then f, l = l, f end
  if f.k ~= "field" or l.k ~= "literal" or type(l.v) == "table" then return nil end
  return f.v, l.v
end

C.comparator = function(node)
  local op = node.v
  if op == "eq" or op == "ne" then
    local name, lit = field_vs_scalar(node)
    if name ~= nil then
      if op == "eq" then return function(v) return get_field(v, name) == lit end end
      return function(v) return get_field(v, name) ~= lit end
    end
  end
  local a, b = compile(node[1]), compile(node[2])
  if op == "eq" then return function(v) return top_equal(a(v), b(v)) end end
  if op == "ne" then return function(v) return not top_equal(a(v), b(v)) end end
  if op == "lt" then
    return function(v)
      local x, y = a(v), b(v)
      if not orderable(x, y) then return NULL end
      return x < y
    end
  elseif op == "lte" then
    return function(v)
      local x, y = a(v), b(v)
      if not orderable(x, y) then return NULL end
      return x <= y
    end
  elseif op == "gt" then
    return function(v)
      local x, y = a(v), b(v)
      if not orderable(x, y) then return NULL end
      return x > y
    end
  end
  return function(v)
    local x, y = a(v), b(v)
    if not orderable(x, y) then return NULL end
    return x >= y
  end
end

C.multi_select_list = function(node)
  local fns = compile_children(node)
  local n = #fns
  return function(v)
    if v == NULL or v == nil then return NULL end
    local out = new_array({})
    for i = 1, n do
      local x = fns[i](v)
      if x == nil then x = NULL end
      out[i] = x
    end
    return out
  end
end

C.multi_select_hash = function(node)
  local fns = compile_children(node)
  local names = node.keys
  local n = #fns
  return function(v)
    if v == NULL or v == nil then return NULL end
    local order, no = {}, 0
    local out = new_object({}, order)
    for i = 1, n do
      local name = names[i]
      local x = fns[i](v)
      if x == nil then x = NULL end
      if out[name] == nil then
        no = no + 1
        order[no] = name
      end
      out[name] = x
    end
    return out
  end
end

C.expref = function(node)
  local ref = values.new_expref(compile(node[1]))
  return function() return ref end
end

C["function"] = function(node)
  local fns = compile_children(node)
  local name = node.v
  local n = #fns
  local call = functions.call
  return function(v)
    local args = {}
    for i = 1, n do
      local x = fns[i](v)
      if x == nil then x = NULL end
      args[i] = x
    end
    return call(name, args, n)
  end
end

compile = function(node)
  return C[node.k](node)
end

--- The closure evaluating an AST.
M.compile = compile

return M
