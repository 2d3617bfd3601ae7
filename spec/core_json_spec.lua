-- The C core's JSON conversion (cJSON underneath): shapes, limits and
-- refusals.

local core = require("aws_connect.core")

describe("core.json_encode", function()
  it("encodes an empty table as an object", function()
    assert.are.equal("{}", core.json_encode({}))
    assert.are.equal('{"Tags":{}}', core.json_encode({ Tags = {} }))
  end)

  it("encodes sequences as arrays and sorts object keys", function()
    assert.are.equal('[1,2,"x"]', core.json_encode({ 1, 2, "x" }))
    assert.are.equal('{"a":1,"b":true,"c":false}', core.json_encode({ c = false, b = true, a = 1 }))
  end)

  it("honours an explicit array marker for empty lists", function()
    assert.are.equal("[]", core.json_encode(setmetatable({}, { __jsontype = "array" })))
  end)

  it("escapes control characters, quotes and embedded NULs", function()
    local s = core.json_encode({ k = 'a"b\\c\n\0d' })
    assert.are.equal('{"k":"a\\"b\\\\c\\nd"}', (s:gsub("\\u0000", "")))
    assert.is_truthy(s:find("\\u0000", 1, true))
    local v, err = core.json_decode(s)  -- cJSON cannot hold a NUL: refused, not cut short
    assert.is_nil(v)
    assert.is_truthy(err:find("NUL"))
    assert.are.equal('a"b\\c\n', core.json_decode((s:gsub("\\u0000d", ""))).k)
  end)

  it("keeps integers exact and numbers round-trippable", function()
    assert.are.equal("[10,-3,0.5]", core.json_encode({ 10, -3, 0.5 }))
    assert.are.equal(0.1, core.json_decode(core.json_encode({ 0.1 }))[1])
  end)

  it("refuses NaN and infinities with a clear message", function()
    local v, err = core.json_encode({ x = 0 / 0 })
    assert.is_nil(v)
    assert.is_truthy(err:find("NaN"))
    v, err = core.json_encode({ x = math.huge })
    assert.is_nil(v)
    assert.is_truthy(err:find("infinite"))
  end)

  it("refuses invalid UTF-8", function()
    local v, err = core.json_encode({ x = "\255" })
    assert.is_nil(v)
    assert.is_truthy(err:find("UTF%-8"))
    v, err = core.json_encode({ ["\192\128"] = 1 })
    assert.is_nil(v)
    assert.is_truthy(err:find("UTF%-8"))
  end)

  it("refuses cycles and deep nesting", function()
    local t = {}
    t.self = t
    local v, err = core.json_encode(t)
    assert.is_nil(v)
    assert.is_truthy(err:find("nested deeper"))
  end)

  it("refuses functions and mixed keys", function()
    assert.is_nil((core.json_encode({ f = print })))
    local v, err = core.json_encode({ 1, 2, x = 3 })
    assert.is_nil(v)
    assert.is_truthy(err:find("keys"))
  end)
end)

describe("core.json_decode", function()
  it("decodes objects, arrays, numbers and null", function()
    local v = core.json_decode('{"a":[1,2.5,null],"b":"\\u00e9","c":true}')
    assert.are.equal(1, v.a[1])
    assert.are.equal(2.5, v.a[2])
    assert.are.equal(core.null, v.a[3])
    assert.are.equal("\195\169", v.b)
    assert.are.equal(true, v.c)
  end)

  it("refuses invalid, empty and trailing input", function()
    for _, s in ipairs({ "", "{", "[1,]", "{} x", "nul", "\"abc" }) do
      local v, err = core.json_decode(s)
      assert.is_nil(v, s)
      assert.is_string(err)
    end
  end)

  it("refuses invalid UTF-8 inside strings", function()
    local v, err = core.json_decode('"\255\254"')
    assert.is_nil(v)
    assert.is_truthy(err:find("UTF%-8"))
    v = core.json_decode('"\\ud800"')
    assert.is_nil(v)
  end)

  it("refuses nesting past the depth limit", function()
    local deep = ("["):rep(200) .. ("]"):rep(200)
    local v, err = core.json_decode(deep)
    assert.is_nil(v)
    assert.is_truthy(err:find("deeper"))
    assert.is_table(core.json_decode(("["):rep(50) .. ("]"):rep(50)))
  end)
end)

describe("core.uuid4", function()
  it("gives distinct version-4 UUIDs", function()
    local seen = {}
    for _ = 1, 200 do
      local u = core.uuid4()
      assert.is_truthy(u:find("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"), u)
      assert.is_nil(seen[u])
      seen[u] = true
    end
  end)
end)

describe("decoded arrays", function()
  it("keep their kind, so [] and {} stay apart", function()
    local v = core.json_decode('{"a":[],"o":{}}')
    assert.are.equal("[]", core.json_encode(v.a))
    assert.are.equal("{}", core.json_encode(v.o))
    assert.are.equal("array", getmetatable(v.a).__jsontype)
    assert.is_nil(getmetatable(v.o))
  end)
end)
