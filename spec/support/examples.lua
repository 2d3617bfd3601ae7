-- Test helper: generated inputs for a model shape (aws_connect.model's
-- resolved shapes), for the conformance specs.
--
--   local examples = require("spec.support.examples")
--   examples.valid(shape, { seed = 1, full = false, names = "snake" })
--     a valid value, the same for the same seed: strings from the pattern
--     (re:example) within min/max, enums, numbers in range (integers for
--     integer/long, a fraction for float/double), booleans, timestamps (epoch
--     seconds), lists and maps with `min` entries (at least 1; full: lists
--     of scalars at least 2, where max allows), structures
--     with every required member (full: every member), unions with exactly
--     one member; a shape met again below itself gets its required members
--     only (unions: a member that does not recurse), so recursion ends.
--     names = "aws" keys structures by the AWS member names.
--   examples.violations(op, base, opts)
--     for every constraint of op's input, reached from base (a full valid
--     example; every union member is visited too): { kind, field, params,
--     suggest } where params break exactly that constraint and field is the
--     ValidationError path expected (routing_profile.queue_configs[1].priority,
--     tags["k"]; list indexes 1-based; a map key longer than 60 bytes is shown
--     as its first 60 bytes and "...").
--   examples.aws(shape, value, wire)
--     the value with AWS member names (wire: the members' wire names), as the
--     fake server decodes an input and as the body carries it.
--
-- Uses only the model and the regex engine's generators; never the
-- validator or the protocol under test.

local regex = require("aws_connect.regex")

local M = {}

M.BASE_TIME = 1700000000
M.MAX_DEPTH = 14

local function ulen(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end
M.ulen = ulen

local function fail(msg)
  error("examples: " .. msg, 0)
end

local function key_of(m, names)
  if names == "aws" then return m.name end
  return m.snake
end

local function printable_ascii(s)
  return not s:find("[^\32-\126]")
end

local function reserved(shape, s)
  return shape.pattern and shape.pattern:find("(?!aws:)", 1, true) and s:sub(1, 4):lower() == "aws:"
end

-- A pattern between slashes (/^...$/, the Password shape) means the
-- pattern between them (taken literally it matches nothing).
local function compiled(shape)
  local p = shape.pattern
  if p:sub(1, 1) == "/" and p:sub(-1) == "/" and #p > 2 then p = p:sub(2, -2) end
  local re, err = regex.compile_cached(p)
  if not re then fail("pattern " .. shape.pattern .. " does not compile: " .. tostring(err)) end
  return re
end

local ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

local function alnum(len, seed)
  local out = {}
  local x = seed
  for i = 1, len do
    x = (x * 16807 + 11) % 2147483647
    local j = x % #ALNUM + 1
    out[i] = ALNUM:sub(j, j)
  end
  return table.concat(out)
end

-- Characters a string without a pattern gets one of (at its second place),
-- so that percent-encoding, JSON escaping and UTF-8 show on the wire.
local SPECIAL = { " ", "/", ":", "+", "&", "=", "%", "?", "#", "\"", "\\", "~", ".", ",", ";", "@", "\195\169",
  "\226\130\172" }

-- A string of the shape; plain: printable ASCII only, no SPECIAL (a map
-- key becomes part of an error path; a header value is sent as it is).
local function gen_string(shape, seed, plain)
  if shape.enum then return shape.enum[seed % #shape.enum + 1] end
  local lo = math.max(shape.min or 0, 1)
  local hi = shape.max
  if hi and hi < lo then lo = hi end
  if shape.pattern then
    local re = compiled(shape)
    for s = seed, seed + 40 do
      local v = re:example(lo, hi, s)
      if v and not reserved(shape, v) and (not plain or printable_ascii(v)) then return v end
    end
    if lo > 0 and (shape.min or 0) == 0 and re:test("") then return "" end
    fail(("no example of length %s..%s for the pattern %s"):format(lo, tostring(hi), shape.pattern))
  end
  local len = lo
  if not hi or hi > lo then len = lo + seed % math.min(8, (hi or lo + 8) - lo + 1) end
  if len < 3 or plain then return alnum(len, seed + 1) end
  return alnum(1, seed + 1) .. SPECIAL[seed % #SPECIAL + 1] .. alnum(len - 2, seed + 2)
end

local function gen_integer(shape, seed)
  local lo, hi = shape.min, shape.max
  if lo and hi then return lo + seed % (hi - lo + 1) end
  if lo then return lo + seed % 10 end
  if hi then return hi - seed % 10 end
  return 1 + seed % 100
end

local function gen_double(shape, seed)
  local lo, hi = shape.min, shape.max
  if lo and hi then return lo + (hi - lo) * ((seed % 7) + 1) / 8 end
  if lo then return lo + 0.5 + seed % 10 end
  if hi then return hi - 0.5 - seed % 10 end
  return 1.5 + seed % 100
end

local function count_of(shape)
  local n = math.max(shape.min or 0, 1)
  if shape.max and n > shape.max then n = shape.max end
  return n
end

local gen

-- Does a member's shape lead back to a shape on the stack?
local function recurses(shape, stack, seen)
  if stack[shape] then return true end
  seen = seen or {}
  if seen[shape] then return false end
  seen[shape] = true
  local t = shape.type
  if t == "structure" then
    for _, m in ipairs(shape.members) do
      if recurses(m.shape, stack, seen) then return true end
    end
  elseif t == "list" then
    return recurses(shape.member, stack, seen)
  elseif t == "map" then
    return recurses(shape.value, stack, seen)
  end
  return false
end

local function gen_structure(shape, seed, opts, stack, depth)
  local out = {}
  local again = stack[shape] or depth > M.MAX_DEPTH
  stack[shape] = (stack[shape] or 0) + 1
  if shape.union then
    local members = shape.members
    local pick = members[seed % #members + 1]
    if again then
      pick = nil
      for _, m in ipairs(members) do
        if not recurses(m.shape, stack) then pick = m; break end
      end
      if not pick then fail("union " .. tostring(shape.name) .. " has no member that ends the recursion") end
    end
    out[key_of(pick, opts.names)] = gen(pick.shape, seed + 1, opts, stack, depth + 1)
  else
    if depth > 2 * M.MAX_DEPTH then fail("recursion through required members at " .. tostring(shape.name)) end
    for i, m in ipairs(shape.members) do
      if m.required or (opts.full and not again) then
        out[key_of(m, opts.names)] = gen(m.shape, seed + i, opts, stack, depth + 1, m.location == "header")
      end
    end
  end
  stack[shape] = stack[shape] > 1 and stack[shape] - 1 or nil
  return out
end

gen = function(shape, seed, opts, stack, depth, plain)
  local t = shape.type
  if t == "structure" then
    return gen_structure(shape, seed, opts, stack, depth)
  elseif t == "list" then
    local out, n = {}, count_of(shape)
    local mt = shape.member.type
    if opts.full and n < 2 and (not shape.max or shape.max >= 2) and mt ~= "structure" and mt ~= "list"
        and mt ~= "map" then
      n = 2   -- lists of scalars: two entries, so repeated keys and order show
    end
    for i = 1, n do out[i] = gen(shape.member, seed + i, opts, stack, depth + 1) end
    return out
  elseif t == "map" then
    local out, n, want = {}, 0, count_of(shape)
    for s = seed, seed + 200 do
      local k = gen_string(shape.key, s, true)
      if out[k] == nil then
        out[k] = gen(shape.value, s, opts, stack, depth + 1)
        n = n + 1
        if n == want then return out end
      end
    end
    fail("cannot make " .. want .. " distinct keys for map " .. tostring(shape.name))
  elseif t == "string" then
    return gen_string(shape, seed, plain)
  elseif t == "integer" or t == "long" then
    return gen_integer(shape, seed)
  elseif t == "float" or t == "double" then
    return gen_double(shape, seed)
  elseif t == "boolean" then
    return seed % 2 == 0
  elseif t == "timestamp" then
    return M.BASE_TIME + (seed % 1000) * 3600
  elseif t == "blob" then
    return alnum(4, seed)
  end
  fail("no example for type " .. tostring(t))
end

--- A valid value of shape (see the top of the file).
function M.valid(shape, opts)
  opts = opts or {}
  return gen(shape, opts.seed or 1, { full = opts.full, names = opts.names }, {}, 0)
end

--- The value with AWS member names (wire = true: the wire names).
function M.aws(shape, v, wire)
  local t = shape.type
  if t == "structure" then
    local out = {}
    for k, x in pairs(v) do
      local m = shape.by_key[k]
      if not m then fail("unknown member " .. tostring(k) .. " of " .. tostring(shape.name)) end
      out[wire and m.wire or m.name] = M.aws(m.shape, x, wire)
    end
    return out
  elseif t == "list" then
    local out = {}
    for i = 1, #v do out[i] = M.aws(shape.member, v[i], wire) end
    return out
  elseif t == "map" then
    local out = {}
    for k, x in pairs(v) do out[k] = M.aws(shape.value, x, wire) end
    return out
  end
  return v
end

-- Violations -----------------------------------------------------------------

local function join(field, name)
  if field == "" then return name end
  return field .. "." .. name
end

--- The path text of a map key (printable ASCII keys), as errors show it.
local function key_path(field, k)
  if #k > 60 then k = k:sub(1, 60) .. "..." end
  return field .. '["' .. k:gsub('[\\"]', "\\%0") .. '"]'
end
M.key_path = key_path

-- A copy of root with the value at steps[1..n] replaced by v (nil removes
-- it); only the tables along the path are copied.
local function set_at(root, steps, n, v)
  if n == 0 then return v end
  local function rec(t, i)
    local c = {}
    for k, x in pairs(t) do c[k] = x end
    local k = steps[i]
    if i == n then c[k] = v else c[k] = rec(t[k], i + 1) end
    return c
  end
  return rec(root, 1)
end

local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local d = prev[j - 1] + (a:byte(i) == b:byte(j) and 0 or 1)
      if prev[j] + 1 < d then d = prev[j] + 1 end
      if cur[j - 1] + 1 < d then d = cur[j - 1] + 1 end
      cur[j] = d
    end
    prev = cur
  end
  return prev[#b]
end

-- A key one edit away from a member's name that no member has; the names
-- a suggestion may then give (every member as close).
local function near_miss(shape)
  for _, m in ipairs(shape.members) do
    local s = m.snake
    if #s >= 4 then
      local last = s:sub(-1)
      local k = s:sub(1, -2) .. (last == "x" and "y" or "x")
      if not shape.by_key[k] then
        local best = {}
        for _, o in ipairs(shape.members) do
          if distance(k:lower(), o.snake:lower()) <= 1 then best[o.snake] = true end
        end
        return k, best
      end
    end
  end
  return nil
end

local WRONG = {
  string = 42, integer = "12", long = "12", float = "1.5", double = "1.5", boolean = "true",
  timestamp = "2024-01-01T00:00:00Z", list = "x", map = "x", structure = "x", blob = 7,
}

local function string_violations(add, shape, replace, field, seed)
  local min, max = shape.min, shape.max
  if min and min > 0 then add("too_short", replace(("a"):rep(min - 1)), field) end
  if max then add("too_long", replace(("a"):rep(max + 1)), field) end
  if shape.enum then
    local base = shape.enum[1]
    local v = base .. "X"
    if max and ulen(v) > max then v = base:sub(1, -2) .. (base:sub(-1) == "X" and "Y" or "X") end
    if not shape.enum_set[v] and (not min or ulen(v) >= min) and (not max or ulen(v) <= max) then
      add("enum", replace(v), field)
    else
      add("skipped", nil, field, "enum")
    end
  elseif shape.pattern then
    local re = compiled(shape)
    local v
    for s = seed, seed + 20 do
      v = re:counterexample(min or 0, max, s)
      if v == nil or printable_ascii(v) then break end
    end
    if v then add("pattern", replace(v), field) else add("skipped", nil, field, "pattern " .. shape.pattern) end
  end
end

local function number_violations(add, shape, replace, field)
  local min, max, t = shape.min, shape.max, shape.type
  local integral = t == "integer" or t == "long"
  if min then add("below_min", replace(integral and min - 1 or min - 0.5), field) end
  if max then add("above_max", replace(integral and max + 1 or max + 0.5), field) end
  if integral then
    add("fraction", replace((min or max or 1) + 0.5), field)
    if t == "integer" and not max then add("int_range", replace(2147483648), field) end
  end
end

local walk

local function structure_violations(ctx, root, steps, field, shape, value)
  local add = ctx.add
  local n = #steps
  local function replace(v) return set_at(root, steps, n, v) end
  if ctx.visited[shape] then return end
  ctx.visited[shape] = true
  local where = field ~= "" and field or "params"
  if shape.union then
    local current
    for _, m in ipairs(shape.members) do
      if value[key_of(m, ctx.names)] ~= nil then current = m end
    end
    add("union_none", replace({}), where)
    for _, m in ipairs(shape.members) do
      if m ~= current then
        local two = {}
        for k, x in pairs(value) do two[k] = x end
        two[key_of(m, ctx.names)] = gen(m.shape, ctx.seed, ctx.gen_opts, {}, 0)
        add("union_two", replace(two), where)
        break
      end
    end
    -- every member's own constraints, each member set alone
    for _, m in ipairs(shape.members) do
      local k = key_of(m, ctx.names)
      local alt = { [k] = m == current and value[k] or gen(m.shape, ctx.seed, ctx.gen_opts, {}, 0) }
      local r2 = replace(alt)
      steps[n + 1] = k
      walk(ctx, r2, steps, join(field, k), m.shape, alt[k])
      steps[n + 1] = nil
    end
    return
  end
  for _, r in ipairs(shape.required) do
    local m = shape.by_key[r]
    -- a required idempotency token is filled by the client when absent
    -- (as botocore does), so leaving it out is no violation
    if not m.idempotencyToken then
      local k = key_of(m, ctx.names)
      local without = {}
      for kk, x in pairs(value) do if kk ~= k then without[kk] = x end end
      add("required", replace(without), join(field, m.snake))
    end
  end
  local miss, best = near_miss(shape)
  if miss then
    local with = {}
    for k, x in pairs(value) do with[k] = x end
    with[miss] = true
    add("unknown_key", replace(with), join(field, miss), best)
  end
  for _, m in ipairs(shape.members) do
    local k = key_of(m, ctx.names)
    local other = k == m.snake and m.name or m.snake
    if value[k] ~= nil and other ~= k then
      local both = {}
      for kk, x in pairs(value) do both[kk] = x end
      both[other] = value[k]
      add("both_spellings", replace(both), join(field, m.snake))
      break
    end
  end
  for _, m in ipairs(shape.members) do
    local k = key_of(m, ctx.names)
    if value[k] ~= nil then
      steps[n + 1] = k
      walk(ctx, root, steps, join(field, k), m.shape, value[k])
      steps[n + 1] = nil
    end
  end
end

walk = function(ctx, root, steps, field, shape, value)
  local add = ctx.add
  local n = #steps
  local function replace(v) return set_at(root, steps, n, v) end
  local t = shape.type
  if n > 0 then add("type", replace(WRONG[t]), field) end
  if t == "structure" then
    structure_violations(ctx, root, steps, field, shape, value)
  elseif t == "list" then
    local min, max = shape.min, shape.max
    if min and min > 0 then
      local short = {}
      for i = 1, min - 1 do short[i] = value[1] end
      add("too_few", replace(short), field)
    end
    if max then
      local long = {}
      for i = 1, max + 1 do long[i] = value[1] end
      add("too_many", replace(long), field)
    end
    add("not_array", replace({ x = value[1] }), field)
    steps[n + 1] = 1
    walk(ctx, root, steps, field .. "[1]", shape.member, value[1])
    steps[n + 1] = nil
  elseif t == "map" then
    local k1 = next(value)
    local v1 = value[k1]
    local min, max = shape.min, shape.max
    if min and min > 0 then add("too_few", replace({}), field) end
    if max then
      local long, count = {}, 0
      for s = 1, 10 * max + 100 do
        local k = gen_string(shape.key, ctx.seed + s, true)
        if long[k] == nil then long[k] = v1; count = count + 1 end
        if count > max then break end
      end
      if count > max then add("too_many", replace(long), field) else add("skipped", nil, field, "map size") end
    end
    add("key_type", replace({ v1 }), field)
    local ks = shape.key
    local function key_add(kind, bad, _, extra)
      if bad == nil then return add(kind, nil, field, extra) end
      add("key_" .. kind, replace({ [bad] = v1 }), key_path(field, bad))
    end
    string_violations(key_add, ks, function(k) return k end, field, ctx.seed)
    steps[n + 1] = k1
    walk(ctx, root, steps, key_path(field, k1), shape.value, v1)
    steps[n + 1] = nil
  elseif t == "string" then
    string_violations(add, shape, replace, field, ctx.seed)
  elseif t == "integer" or t == "long" or t == "float" or t == "double" then
    number_violations(add, shape, replace, field)
  end
end

--- Every violation of op's input reachable from base (see the top).
function M.violations(op, base, opts)
  opts = opts or {}
  local out, skipped = {}, {}
  local ctx = {
    visited = {}, names = opts.names, seed = opts.seed or 7,
    gen_opts = { full = true, names = opts.names },
  }
  ctx.add = function(kind, params, field, extra)
    if kind == "skipped" then
      skipped[#skipped + 1] = { field = field, why = extra }
      return
    end
    out[#out + 1] = { kind = kind, params = params, field = field, suggest = extra }
  end
  out[#out + 1] = { kind = "params_type", params = "x", field = "params" }
  if op.input then walk(ctx, base, {}, "", op.input, base) end
  return out, skipped
end

return M
