-- Issue 12, the C core: what the audit broke in core.so and curl.so, each
-- against a local stand-in (spec/support/raw_http.py) on 127.0.0.1.

local core = require("aws_connect.core")
local fm = require("spec.support.fake_metadata")

describe("core.sha1_hex", function()
  it("is lower-case hex SHA-1 (FIPS 180 vectors)", function()
    assert.are.equal("da39a3ee5e6b4b0d3255bfef95601890afd80709", core.sha1_hex(""))
    assert.are.equal("a9993e364706816aba3e25717850c26c9cd0d89d", core.sha1_hex("abc"))
    assert.are.equal("84983e441c3bd26ebaae4aa1f95129e5e54670f1",
      core.sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    assert.are.equal("34aa973cd4c4daa4f61eeb2bdbad27316534016f", core.sha1_hex(("a"):rep(1000000)))
    assert.are.equal(40, #core.sha1_hex("a\0b"))
  end)
end)

describe("json_decode", function()
  it("refuses a raw NUL byte instead of cutting the string there", function()
    local v, err = core.json_decode('{"a":"x\0y"}')
    assert.is_nil(v)
    assert.truthy(err:find("NUL", 1, true), err)
    v, err = core.json_decode('"abc\0"')
    assert.is_nil(v)
    assert.truthy(err:find("NUL", 1, true), err)
  end)
end)

describe("json_encode", function()
  it("returns nil and a message (no raise, no leak) for values it cannot encode deep in a tree", function()
    for _ = 1, 300 do
      local v, err = core.json_encode({ a = { b = { 1, 2, { c = function() end } } }, z = ("x"):rep(100) })
      assert.is_nil(v)
      assert.truthy(err:find("function", 1, true), err)
    end
  end)
end)

describe("the libcurl session", function()
  local echo, big
  setup(function()
    echo = fm.launch(fm.dir .. "/raw_http.py", { "--mode", "echo" })
    big = fm.launch(fm.dir .. "/raw_http.py", { "--mode", "bigheader" })
  end)
  teardown(function()
    if echo then echo:stop() end
    if big then big:stop() end
  end)

  local function session() return require("aws_connect.curl").session() end

  it("refuses CR, LF, blanks or separators in the method", function()
    local s = session()
    for _, m in ipairs{ "GET\r\nX-Injected: 1", "GET /x HTTP/1.1\r\n", "GE T", "", "PUT\n", "GET\0" } do
      local ok, err = pcall(s.request, s, { method = m, url = echo.endpoint .. "/", timeout = 5, proxy = "" })
      assert.is_false(ok, ("%q was accepted"):format(m))
      assert.truthy(tostring(err):find("method", 1, true), tostring(err))
    end
    s:close()
  end)

  it("sends '.' and '..' path segments as given (libcurl must not squash what was signed)", function()
    local s = session()
    local resp = assert(s:request{ method = "GET", url = echo.endpoint .. "/instance/../x/./y/%2E%2E/z", timeout = 5,
      proxy = "" })
    assert.are.equal("GET /instance/../x/./y/%2E%2E/z HTTP/1.1\n", resp.body)
    s:close()
  end)

  it("takes a timeout of 1e308 (or inf, or NaN) without undefined behaviour", function()
    local s = session()
    for _, t in ipairs{ 1e308, math.huge, 0 / 0, -1e308 } do
      local resp, kind, msg = s:request{ method = "GET", url = echo.endpoint .. "/t", timeout = t,
        connect_timeout = t, proxy = "" }
      assert.is_table(resp, tostring(kind) .. " " .. tostring(msg))
      assert.are.equal(200, resp.status)
    end
    s:close()
  end)

  it("reports a response header line over libcurl's limit as too_large, not as out of memory", function()
    local s = session()
    local resp, kind, msg = s:request{ method = "GET", url = big.endpoint .. "/", timeout = 5, proxy = "" }
    assert.is_nil(resp)
    assert.are.equal("too_large", kind, tostring(msg))
    assert.falsy(tostring(msg):lower():find("out of memory", 1, true), msg)
    s:close()
  end)
end)
