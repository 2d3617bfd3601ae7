-- aws_connect.jmespath: every case of the JMESPath compliance suite
-- (spec/data/jmespath-compliance, one `it` per case), then the behaviour the
-- AWS CLI's python jmespath has beyond the suite: the data model (array
-- markers, key order), python's numbers, typed errors that never raise,
-- bounded nesting and linear scans.

local core = require("aws_connect.core")
local jmespath = require("aws_connect.jmespath")
local values = require("aws_connect.jmespath.values")

local NULL = core.null
local HAS_INTEGERS = math.type ~= nil  -- luacheck: ignore 143 (Lua 5.3+)

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local SUITE_DIR = here .. "data/jmespath-compliance/"
local SUITE_FILES = {
  "basic", "boolean", "current", "escape", "filters", "functions", "identifiers", "indices",
  "literal", "multiselect", "pipe", "slice", "syntax", "unicode", "wildcard",
}

local function read_json(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return assert(core.json_decode(text))
end

local function show(v)
  local ok, s = pcall(core.json_encode, v)
  if ok and s then return s end
  return tostring(v)
end

-- nil when actual is the same data as expected, else where they differ.
-- Arrays must carry the array marker (or be the input's own arrays), objects
-- JMESPath built must list exactly their keys in __order.
local function differs(expected, actual, path)
  local te, ta = values.jtype(expected), values.jtype(actual)
  if te ~= ta then return path .. ": expected " .. te .. ", got " .. ta end
  if te == "null" then
    if actual ~= NULL then return path .. ": null must be core.null" end
  elseif te == "array" then
    local mt = getmetatable(actual)
    if type(mt) ~= "table" or mt.__jsontype ~= "array" then return path .. ": array without the array marker" end
    if #expected ~= #actual then return path .. ": expected " .. #expected .. " items, got " .. #actual end
    for i = 1, #expected do
      local d = differs(expected[i], actual[i], path .. "[" .. (i - 1) .. "]")
      if d then return d end
    end
  elseif te == "object" then
    for k, v in pairs(expected) do
      if actual[k] == nil then return path .. ": missing key " .. k end
      local d = differs(v, actual[k], path .. "." .. k)
      if d then return d end
    end
    local count = 0
    for k in pairs(actual) do
      if expected[k] == nil then return path .. ": unexpected key " .. tostring(k) end
      count = count + 1
    end
    local mt = getmetatable(actual)
    if type(mt) == "table" and mt.__jsontype == "object" then
      local order, seen = mt.__order, {}
      if type(order) ~= "table" or #order ~= count then return path .. ": __order does not list the keys" end
      for _, k in ipairs(order) do
        if actual[k] == nil or seen[k] then return path .. ": __order does not list the keys" end
        seen[k] = true
      end
    end
  elseif expected ~= actual then
    return path .. ": expected " .. show(expected) .. ", got " .. show(actual)
  end
  return nil
end

local function order_of(t)
  local mt = getmetatable(t)
  return mt and mt.__order
end

local function search(expression, data)
  local r, err = jmespath.search(expression, data)
  if r == nil then error("unexpected error: " .. tostring(err), 2) end
  return r
end

local function search_error(expression, data)
  local r, err = jmespath.search(expression, data)
  assert.is_nil(r, "expected an error for " .. expression)
  assert.is_table(err)
  return err
end

describe("the JMESPath compliance suite", function()
  local total = 0
  for _, name in ipairs(SUITE_FILES) do
    local file = name .. ".json"
    local suite = read_json(SUITE_DIR .. file)
    for g, group in ipairs(suite) do
      for c, case in ipairs(group.cases) do
        total = total + 1
        local label = ("%s #%d.%d: %s"):format(file, g, c, case.expression)
        if case.error then
          it(label .. " -> " .. case.error, function()
            local expr, err = jmespath.compile(case.expression)
            local result
            if expr then result, err = expr:search(group.given) end
            assert.is_nil(result, "expected a " .. case.error .. " error, got " .. show(result))
            assert.are.equal(case.error, err.kind, tostring(err))
          end)
        else
          it(label, function()
            local expr, err = jmespath.compile(case.expression)
            assert.is_truthy(expr, tostring(err))
            local result
            result, err = expr:search(group.given)
            assert.is_truthy(result ~= nil, tostring(err))
            local d = differs(case.result, result, "$")
            assert.is_nil(d, d and (d .. " (result " .. show(result) .. ")"))
          end)
        end
      end
    end
  end

  it("has all its 892 cases here", function()
    assert.are.equal(892, total)
  end)
end)

describe("jmespath data model", function()
  it("returns core.null for a null result, never nil", function()
    assert.are.equal(NULL, search("missing", { a = 1 }))
    assert.are.equal(NULL, search("a.b.c", NULL))
    assert.are.equal(NULL, search("@", nil))
  end)

  it("marks the arrays it builds, also when empty", function()
    local r = search("a[?b > `5`]", core.json_decode('{"a":[{"b":1}]}'))
    assert.are.equal("array", getmetatable(r).__jsontype)
    assert.are.equal("[]", core.json_encode(r))
    assert.are.equal("array", getmetatable(search("keys(@)", {})).__jsontype)
  end)

  it("keeps the order of a multi-select hash in __order", function()
    local r = search("{zeta: a, alpha: b, mid: c}", { a = 1, b = 2, c = 3 })
    assert.are.same({ "zeta", "alpha", "mid" }, order_of(r))
    assert.are.equal("object", getmetatable(r).__jsontype)
    assert.are.same({ "zeta", "alpha", "mid" }, search("keys({zeta: a, alpha: b, mid: c})", { a = 1 }))
  end)

  it("keeps a repeated multi-select key where python's dict puts it", function()
    local r = search("{a: `1`, b: `2`, a: `3`}", {})
    assert.are.same({ "a", "b" }, order_of(r))
    assert.are.equal(3, r.a)
  end)

  it("gives an empty built object an empty __order", function()
    local r = search("merge(`{}`)", {})
    assert.are.same({}, order_of(r))
    assert.are.equal("{}", core.json_encode(r))
  end)

  it("follows an input object's __order through keys, values, * and merge", function()
    local obj = values.new_object({ b = 1, a = 2, c = 3 }, { "b", "a", "c" })
    assert.are.same({ "b", "a", "c" }, search("keys(@)", obj))
    assert.are.same({ 1, 2, 3 }, search("values(@)", obj))
    assert.are.same({ 1, 2, 3 }, search("*", obj))
    local merged = search("merge(@, `{\"z\": 0, \"a\": 9}`)", obj)
    assert.are.same({ "b", "a", "c", "z" }, order_of(merged))
    assert.are.equal(9, merged.a)
  end)

  it("orders the keys of a plain object as the JSON encoder writes them (sorted)", function()
    assert.are.same({ "a", "b", "c" }, search("keys(@)", { c = 1, a = 2, b = 3 }))
    assert.are.same({ 2, 3, 1 }, search("values(@)", { c = 1, a = 2, b = 3 }))
    assert.are.equal('{"a":2,"b":3,"c":1}', search("to_string(@)", { c = 1, a = 2, b = 3 }))
  end)

  it("takes plain Lua arrays as input and tells {} (object) from a marked []", function()
    assert.are.same({ "x", "y" }, search("[*].name", { { name = "x" }, { name = "y" } }))
    assert.are.equal(2, search("length(@)", { 10, 20 }))
    assert.are.equal("object", search("type(@)", {}))
    assert.are.equal("array", search("type(@)", values.new_array({})))
    assert.are.equal("object", search("type(@)", { 1, 2, x = 3 }))
  end)

  it("reads JSON literals with key order, null and arrays in the decoder's convention", function()
    local r = search('`{"b": [], "a": null}`', {})
    assert.are.same({ "b", "a" }, order_of(r))
    assert.are.equal("array", getmetatable(r.b).__jsontype)
    assert.are.equal(NULL, r.a)
  end)
end)

describe("jmespath numbers as python prints them", function()
  it("writes floats with python's repr in to_string", function()
    assert.are.equal("[1e+300,1.5e+16,0.0001,1e-05,1.5e-07,123456789.125,0.1,2.5e-300,5e-324]",
      search("to_string(`[1e300, 1.5e16, 0.0001, 0.00001, 1.5e-7, 123456789.125, 0.1, 2.5e-300, 5e-324]`)", {}))
    assert.are.equal("1.2", search("to_string(`1.2`)", {}))
    assert.are.equal("-1.5", search("to_string(`-1.5`)", {}))
  end)

  it("keeps 1.0 a float on Lua 5.3+ (on 5.1 and LuaJIT every integral number prints as an integer)", function()
    if HAS_INTEGERS then
      assert.are.equal("1.0", search("to_string(`1.0`)", {}))
      assert.are.equal("[1,2.0,3]", search("to_string(`[1, 2.0, 3]`)", {}))
      assert.are.equal("[1e+16,1000000000000000.0,-0.0]", search("to_string(`[1e16, 1e15, -0.0]`)", {}))
      assert.are.equal("float", math.type(search("to_number('1.0')", {})))  -- luacheck: ignore 143
      assert.are.equal("integer", math.type(search("to_number('4')", {})))  -- luacheck: ignore 143
    else
      assert.are.equal("1", search("to_string(`1.0`)", {}))
    end
  end)

  it("gives integers where python does (length, sum of integers, floor, ceil) and a float for avg", function()
    if not HAS_INTEGERS then return end
    local mt = math.type  -- luacheck: ignore 143
    assert.are.equal("integer", mt(search("length('abc')", {})))
    assert.are.equal("integer", mt(search("sum(`[1, 2]`)", {})))
    assert.are.equal("float", mt(search("sum(`[1, 2.5]`)", {})))
    assert.are.equal("integer", mt(search("floor(`1.5`)", {})))
    assert.are.equal("integer", mt(search("ceil(`1.5`)", {})))
    assert.are.equal("float", mt(search("avg(`[1, 2]`)", {})))
    assert.are.equal(1.5, search("avg(`[1, 2]`)", {}))
  end)

  it("reads strings in to_number as python's int() then float() do", function()
    assert.are.equal(1000, search("to_number(' 1_000 ')", {}))
    assert.are.equal(-3.5, search("to_number('-3.5')", {}))
    assert.are.equal(0.5, search("to_number('.5')", {}))
    assert.are.equal(1e5, search("to_number('1e5')", {}))
    assert.are.equal(4, search("to_number('+4')", {}))
    assert.are.equal(math.huge, search("to_number('inf')", {}))
    for _, s in ipairs({ "0x10", "1__0", "_1", "1_", "", "  ", "1e", "e5", ".", "abc", "1 2" }) do
      assert.are.equal(NULL, search("to_number(@)", s), s)
    end
  end)

  it("refuses NaN and the infinities in floor and ceil (python has no int for them)", function()
    assert.are.equal("invalid-value", search_error("floor(`NaN`)", {}).kind)
    assert.are.equal("invalid-value", search_error("ceil(to_number('inf'))", {}).kind)
  end)

  it("escapes non-ASCII in to_string as json.dumps does", function()
    assert.are.equal('{"a":"\\u00e9\\ud83d\\ude00\127\\u0001\\n"}',
      search("to_string(@)", { a = "\195\169\240\159\152\128\127\1\n" }))
    assert.are.equal("\195\169", search("to_string(@)", "\195\169"))
  end)

  it("counts and reverses strings by code point", function()
    assert.are.equal(5, search("length('h\195\169llo')", {}))
    assert.are.equal("oll\195\169h", search("reverse('h\195\169llo')", {}))
  end)
end)

describe("jmespath semantics of python jmespath beyond the suite", function()
  it("looks a function up only when it is called", function()
    assert.are.equal(1, search("a || nosuch()", { a = 1 }))
    assert.are.equal("unknown-function", search_error("b || nosuch()", { a = 1 }).kind)
  end)

  it("compares nested booleans and numbers as python does, but never at the top", function()
    assert.are.equal(false, search("a == `1`", { a = true }))
    assert.are.equal(true, search("a == b", { a = { true }, b = { 1 } }))
    assert.are.equal(true, search("contains(`[1]`, `true`)", {}))
    assert.are.equal(true, search("`1` == `1.0`", {}))
  end)

  it("fails ordering a number against a string (python raises there), null for other types", function()
    assert.are.equal("invalid-type", search_error("`1` < 'a'", {}).kind)
    assert.are.equal(NULL, search("`1` < `null`", {}))
    assert.are.equal(NULL, search("`true` < `false`", {}))
    assert.are.equal(true, search("'a' < 'b'", {}))
  end)

  it("sorts stably and keeps the first of equal values in max_by and min_by", function()
    local data = core.json_decode('[{"k":2,"n":"a"},{"k":1,"n":"b"},{"k":2,"n":"c"},{"k":1,"n":"d"}]')
    assert.are.same({ "b", "d", "a", "c" }, search("sort_by(@, &k)[*].n", data))
    assert.are.equal("a", search("max_by(@, &k).n", data))
    assert.are.equal("b", search("min_by(@, &k).n", data))
  end)

  it("accepts what python jmespath accepts: f(a b), {a: a b: b}, bare `foo` strings, raw strings", function()
    assert.are.equal(1, search("not_null(a b)", { a = 1, b = 2 }))
    local r = search("{a: a b: b}", { a = 1, b = 2 })
    assert.are.same({ a = 1, b = 2 }, r)
    assert.are.equal("foo", search("` foo`", {}))
    assert.are.equal("1 2", search("`1 2`", {}))
    assert.are.equal("01", search("`01`", {}))
    assert.are.equal("a\\\\", search("'a\\\\'", {}))
    assert.are.equal("it's", search("'it\\'s'", {}))
  end)
end)

describe("jmespath errors", function()
  it("returns syntax errors as typed error objects naming the offset, in one line", function()
    local expr, err = jmespath.compile("foo.bar baz")
    assert.is_nil(expr)
    assert.are.equal("syntax", err.kind)
    assert.are.equal("JMESPathError", err.code)
    assert.are.equal(8, err.offset)
    assert.is_truthy(tostring(err):find("offset 8", 1, true))
    assert.is_falsy(tostring(err):find("\n"))
    assert.are.equal(4, select(2, jmespath.compile("foo\nbar")).offset)
    assert.are.equal("syntax", select(2, jmespath.compile("")).kind)
    assert.are.equal("invalid-value", select(2, jmespath.compile(nil)).kind)
  end)

  it("returns runtime errors from search as nil, err", function()
    local expr = assert(jmespath.compile("abs(@)"))
    local r, err = expr:search("x")
    assert.is_nil(r)
    assert.are.equal("invalid-type", err.kind)
    assert.is_truthy(err:is("JMESPathError"))
    assert.are.equal("invalid-arity", search_error("abs(`1`, `2`)", {}).kind)
    assert.are.equal("invalid-value", search_error("[::0]", { 1, 2 }).kind)
    assert.are.equal(NULL, search("[::0]", { a = 1 }))  -- not an array: null before the step is looked at
  end)

  it("makes 10,000 nested brackets, parens, braces or nots a syntax error, not a stack overflow", function()
    local n = 10000
    for _, e in ipairs({
      string.rep("[", n) .. "a" .. string.rep("]", n),
      string.rep("(", n) .. "a" .. string.rep(")", n),
      string.rep("{a:", n) .. "a" .. string.rep("}", n),
      string.rep("!", n) .. "a",
      string.rep("a | ", n) .. "a",
      string.rep("a || ", n) .. "a",
      string.rep("abs(", n) .. "a" .. string.rep(")", n),
      "`" .. string.rep("[", n) .. string.rep("]", n) .. "`",
    }) do
      local expr, err = jmespath.compile(e)
      assert.is_true(expr == nil, e:sub(1, 20))
      assert.are.equal("syntax", err.kind, e:sub(1, 20))
    end
  end)

  it("evaluates the deepest expression it accepts", function()
    local e = string.rep("[", 100) .. "a" .. string.rep("]", 100)
    local r = search(e, { a = 1 })
    for _ = 1, 99 do r = r[1] end
    assert.are.same({ 1 }, r)
    local path = string.rep("a[0].", 10000) .. "a"  -- long, but flat: a.b.c chains do not nest
    assert.are.equal(NULL, search(path, { a = { { a = 1 } } }))
  end)

  it("never raises on random bytes as an expression", function()
    local seed = 12345
    local function rnd(m)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % m
    end
    local alphabet = "ab.*[]?,:@(){}|&!=<>`'\"-0123456789 \t\n\\\0\255"
    for _ = 1, 2000 do
      local parts = {}
      for i = 1, rnd(12) + 1 do
        local j = rnd(#alphabet) + 1
        parts[i] = alphabet:sub(j, j)
      end
      local e = table.concat(parts)
      local ok, r, err = pcall(jmespath.search, e, { a = { 1, 2 }, b = "x" })
      assert.is_true(ok, e)
      assert.is_truthy(r ~= nil or (type(err) == "table" and err.kind), e)
    end
  end)

  it("fails on cyclic Lua tables with an error, not a stack overflow", function()
    local t, u = { name = "x" }, { name = "x" }
    t.self, u.self = t, u
    assert.are.equal("invalid-value", search_error("to_string(@)", t).kind)
    assert.are.equal("invalid-value", search_error("a == b", { a = t, b = u }).kind)
  end)

  it("scans long expressions in one pass (64 KiB tokens compile)", function()
    local n = 60000
    for _, e in ipairs({
      '"' .. string.rep("\\\"", n / 2) .. '"',
      "'" .. string.rep("\\'", n / 2) .. "'",
      "`\"" .. string.rep("\\`", n / 2) .. "\"`",
      string.rep("a", n),
      "a" .. string.rep(" ", n) .. ".b",
      "to_number('" .. string.rep("1", n) .. "x')",
      "to_number('1" .. string.rep(" ", n) .. "x')",
    }) do
      local expr, err = jmespath.compile(e)
      assert.is_true(expr ~= nil, tostring(err))
      assert.is_true(expr:search({}) ~= nil, e:sub(1, 20))
    end
    assert.are.equal("syntax", select(2, jmespath.compile(string.rep("a", 70000))).kind)
  end)
end)
