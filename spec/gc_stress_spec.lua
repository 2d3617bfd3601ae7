-- Issue 12, item 1: the C bindings keep every string they read from an
-- option table anchored while they use it. The tables here are proxies
-- whose __index builds each value on the fly and runs a full collection
-- first, then fills the freed memory with other strings: a binding that
-- kept a pointer to an earlier field (popped from the stack, referenced by
-- nothing) would sign or send those other bytes. Run under ASan with the
-- GC-stress helper (make test-gc-stress) it is also a use-after-free check.
-- json_encode reads tables and metatables raw: no metamethod runs at all.
-- (core.authorize, the positional form, was folded into sign{lean = true}.)

local core = require("aws_connect.core")
local fm = require("spec.support.fake_metadata")

-- Values are rebuilt from parts on every read, so each is a new string that
-- only the binding references once __index has returned.
local function build(parts)
  local out = {}
  for i = 1, #parts do out[i] = parts[i] end
  return table.concat(out)
end

local junk = {}
local function churn()
  collectgarbage("collect")
  collectgarbage("collect")
  -- reuse the freed blocks for other bytes of every common size
  for i = 1, 160 do junk[#junk + 1] = ("Z"):rep(i % 80 + 1) .. i end
end

local function proxy(recipes, extra)
  return setmetatable({}, { __index = function(_, k)
    churn()
    if extra and extra[k] ~= nil then return extra[k] end
    local r = recipes[k]
    if r == nil then return nil end
    return build(r)
  end })
end

local function plain(recipes, extra)
  local t = {}
  for k, r in pairs(recipes) do t[k] = build(r) end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local SIGN = {
  method = { "P", "UT" }, path = { "/instance/", "abc", "/x" }, query = { "a=", "1&b=", "2" },
  body = { '{"InstanceAlias":"', ("gc"):rep(30), '"}' },
  region = { "us-", "east-1" }, service = { "con", "nect" },
  access_key_id = { "AKID", "EXAMPLE" },
  secret_access_key = { "wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY" },
  session_token = { "FQoGZXIvYXdzE", ("Tok"):rep(40) },
}

describe("GC stress: option tables whose __index collects", function()
  after_each(function() junk = {} end)

  it("core.sign signs exactly what a plain table gives", function()
    local extra = { time = 1440938160, headers = { { "Host", "connect.us-east-1.amazonaws.com" } } }
    local want = core.sign(plain(SIGN, extra))
    local want_auth, want_creq = want.authorization, want.canonical_request
    want = nil -- luacheck: ignore
    collectgarbage("collect")
    for _ = 1, 3 do
      local got = core.sign(proxy(SIGN, extra))
      assert.are.equal(want_creq, got.canonical_request)
      assert.are.equal(want_auth, got.authorization)
    end
  end)

  it("core.sign keeps header names and values alive while it signs", function()
    local function headers()
      return { { build{ "Ho", "st" }, build{ "connect.", "us-east-1.amazonaws.com" } },
               { build{ "X-Amz-", "Target" }, build{ "Connect.", ("Op"):rep(30) } } }
    end
    local base = plain(SIGN, { time = 1440938160 })
    base.headers = headers()
    local want = core.sign(base).authorization
    base = nil -- luacheck: ignore
    local t = setmetatable({}, { __index = function(_, k)
      churn()
      if k == "headers" then return headers() end
      if k == "time" then return 1440938160 end
      local r = SIGN[k]
      return r and build(r)
    end })
    assert.are.equal(want, core.sign(t).authorization)
  end)

  it("core.sign{lean = true} (the request loop's form) signs what a plain table gives", function()
    local extra = { time = 1440938160, lean = true, headers = { { "Host", "h.example" } } }
    local want = core.sign(plain(SIGN, extra))
    local want_auth = type(want) == "table" and want.authorization or want
    want = nil -- luacheck: ignore
    collectgarbage("collect")
    for _ = 1, 3 do
      local got = core.sign(proxy(SIGN, extra))
      assert.are.equal(want_auth, type(got) == "table" and got.authorization or got)
    end
  end)

  it("json_encode reads tables and their metatables raw (no metamethod runs, none can raise)", function()
    local calls = 0
    local meta = setmetatable({}, { __index = function() calls = calls + 1; churn(); error("metamethod ran") end })
    local t = setmetatable({ a = build{ "x", ("y"):rep(50) }, list = { 1, 2 } }, meta)
    local out = assert(core.json_encode(t))
    assert.are.equal('{"a":"x' .. ("y"):rep(50) .. '","list":[1,2]}', out)
    assert.are.equal(0, calls)
    -- an __index on the object itself is not consulted either
    local p = setmetatable({}, { __index = function() calls = calls + 1; return "leak" end })
    assert.are.equal("{}", core.json_encode(p))
    assert.are.equal(0, calls)
  end)

  describe("the libcurl session's request", function()
    local srv
    setup(function() srv = fm.launch(fm.dir .. "/raw_http.py", { "--mode", "echo" }) end)
    teardown(function() if srv then srv:stop() end end)

    it("sends exactly the method, URL and body the proxy gave", function()
      local session = require("aws_connect.curl").session()
      local body = { '{"Data":"', ("b"):rep(300), '"}' }
      local recipes = {
        method = { "PO", "ST" }, url = { srv.endpoint, "/echo/", ("p"):rep(60) }, body = body,
      }
      local extra = { headers = { { "Content-Type", "application/json" } }, timeout = 5, connect_timeout = 2,
                      proxy = "" }
      for _ = 1, 3 do
        local resp, kind, msg = session:request(proxy(recipes, extra))
        assert.is_table(resp, tostring(kind) .. " " .. tostring(msg))
        assert.are.equal("POST /echo/" .. ("p"):rep(60) .. " HTTP/1.1\n" .. build(body), resp.body)
      end
      session:close()
    end)
  end)
end)
