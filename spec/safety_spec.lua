-- Safe defaults (issue 3): the secret key and the session token never reach
-- an error message, tostring(err), tostring(client) or the logger, across
-- the whole fault matrix and when a server echoes them back; CR or LF in
-- anything that becomes a header or the URL is refused before anything is
-- sent.

local aws_connect = require("aws_connect")
local matrix = require("spec.support.fault_matrix")
local fake = require("spec.support.fake_server")
local url = require("aws_connect.url")
local cjson = require("cjson")

local SECRETS = { matrix.SECRET, matrix.TOKEN }

-- every 12-character piece of each secret, raw and percent-encoded
local PIECES = {}
for _, s in ipairs(SECRETS) do
  for _, v in ipairs({ s, url.encode_segment(s) }) do
    for i = 1, #v - 11 do PIECES[#PIECES + 1] = v:sub(i, i + 11) end
  end
end

local function leak_in(text)
  if type(text) ~= "string" then return nil end
  for _, piece in ipairs(PIECES) do
    if text:find(piece, 1, true) then return piece end
  end
  return nil
end

-- Collects every string an error object holds (fields, nested tables) plus
-- its tostring.
local function strings_of(v, out, depth)
  out = out or {}
  depth = depth or 0
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and depth < 5 then
    for k, x in pairs(v) do
      strings_of(k, out, depth + 1)
      strings_of(x, out, depth + 1)
    end
  end
  return out
end

local function assert_clean(what, texts)
  for _, t in ipairs(texts) do
    local piece = leak_in(t)
    assert.is_nil(piece, ("%s leaks a secret (%q) in: %s"):format(what, tostring(piece), t))
  end
end

local function scan_outcome(name, out)
  local texts = {}
  for _, l in ipairs(out.logs or {}) do texts[#texts + 1] = l end
  texts[#texts + 1] = tostring(out.client)
  for _, e in ipairs(out.errors or { out.err }) do
    texts[#texts + 1] = tostring(e)
    strings_of(e, texts)
  end
  if out.followup_err then texts[#texts + 1] = tostring(out.followup_err) end
  strings_of(out.meta, texts)
  strings_of(out.result, texts)
  assert.is_true(#texts > 1)
  assert_clean(name, texts)
  return #texts
end

describe("secrets across the fault matrix", function()
  local ctx

  setup(function() ctx = matrix.context() end)
  teardown(function() if ctx then ctx.stop() end end)

  it("never appear in errors, tostring(err), tostring(client) or log lines", function()
    local scanned, logged = 0, 0
    for _, case in ipairs(matrix.cases) do
      local out = matrix.run(ctx, case)
      scanned = scanned + scan_outcome(case.name, out)
      logged = logged + #(out.logs or {})
    end
    assert.is_true(logged >= #matrix.cases, "the logger was called along the way")
    assert.is_true(scanned > 100)
  end)

  it("are scrubbed when the server echoes the canonical request (session token included)", function()
    local out = {}
    local client = matrix.client(ctx, out, {
      credentials = { access_key_id = matrix.KEY, secret_access_key = "wrong/secret+key/000000000000000",
        session_token = matrix.TOKEN },
      max_attempts = 1,
    })
    ctx.srv:reset()
    local ok, err = pcall(client.list_instances, client)
    assert.is_false(ok)
    assert.are.equal("InvalidSignatureException", err.code)
    -- the server did quote the token: it was sent and signed
    local reqs = ctx.srv:requests()
    assert.truthy(reqs[1].canonical_request:find(matrix.TOKEN, 1, true))
    assert.truthy(err.message:find("REDACTED", 1, true), err.message)
    out.err, out.client = err, client
    scan_outcome("signature mismatch", out)
  end)

  it("are scrubbed from a hostile error body, its Reason, code and request id", function()
    local out = {}
    local client = matrix.client(ctx, out, { max_attempts = 1 })
    ctx.srv:reset()
    ctx.srv:script{ {
      status = 400,
      headers = { ["x-amzn-ErrorType"] = "Bad" .. matrix.TOKEN, ["x-amzn-RequestId"] = matrix.SECRET },
      body = cjson.encode{ message = "your key is " .. matrix.SECRET .. " and token "
        .. url.encode_segment(matrix.TOKEN), Reason = { Detail = matrix.TOKEN } },
    } }
    local ok, err = pcall(client.list_instances, client)
    assert.is_false(ok)
    assert.truthy(err.message:find("your key is REDACTED and token REDACTED", 1, true), err.message)
    out.err, out.client = err, client
    scan_outcome("hostile body", out)
  end)

  it("are scrubbed from a transport's error message", function()
    local logs = {}
    local client = aws_connect.new{
      region = "us-east-1", endpoint = "https://connect.example.test", getenv = {}, max_attempts = 2,
      credentials = { access_key_id = matrix.KEY, secret_access_key = matrix.SECRET, session_token = matrix.TOKEN },
      transport = { request = function() return nil, "recv", "proxy said: " .. matrix.TOKEN end },
      logger = function(level, msg) logs[#logs + 1] = level .. " " .. msg end,
      sleep = function() end,
    }
    local ok, err = pcall(client.list_instances, client)
    assert.is_false(ok)
    assert.are.equal(2, err.attempts)
    assert.is_true(#logs >= 2)
    scan_outcome("transport message", { err = err, logs = logs, client = client })
  end)

  it("are not in tostring(client), nor in the client's public fields", function()
    local client = aws_connect.new{
      region = "us-east-1", endpoint = "https://connect.example.test", getenv = {},
      credentials = { access_key_id = matrix.KEY, secret_access_key = matrix.SECRET, session_token = matrix.TOKEN },
    }
    assert_clean("client", strings_of(client, { tostring(client) }))
  end)
end)

describe("CR or LF in anything that becomes a header or the URL", function()
  local sent
  local function recorder()
    sent = 0
    return { request = function() sent = sent + 1; return { status = 200, headers = {}, body = "{}" } end }
  end

  -- options for new(); a field set to false in extra is left out
  local function base(extra)
    local opts = {
      region = "us-east-1", endpoint = "https://connect.example.test", getenv = {},
      credentials = { access_key_id = "AKIDCRLF", secret_access_key = "crlf-secret-key" },
      transport = recorder(),
    }
    for k, v in pairs(extra or {}) do
      if v == false then opts[k] = nil else opts[k] = v end
    end
    return opts
  end

  local function refused(codes, fn)
    local ok, err = pcall(fn)
    assert.is_false(ok, "accepted")
    assert.is_table(err, "a typed error, got " .. tostring(err))
    local want = {}
    for _, c in ipairs(codes) do want[c] = true end
    assert.is_true(want[err.code] == true, "got " .. tostring(err.code) .. ": " .. tostring(err.message))
    assert.are.equal(0, err.attempts)
    assert.are.equal(0, sent, "nothing is sent")
    return err
  end

  for _, bad in ipairs({ "\r\n", "\n", "\r", "\0" }) do
    local shown = bad:gsub("\r", "CR"):gsub("\n", "LF"):gsub("%z", "NUL")

    it("refuses " .. shown .. " in app_id", function()
      refused({ "ConfigError", "ValidationError" }, function()
        aws_connect.new(base{ app_id = "game" .. bad .. "X-Injected: 1" })
      end)
    end)

    it("refuses " .. shown .. " in the endpoint", function()
      refused({ "ConfigError", "ValidationError" }, function()
        aws_connect.new(base{ endpoint = "https://connect.example.test" .. bad .. "X-Injected: 1" })
      end)
      refused({ "ConfigError", "ValidationError" }, function()
        aws_connect.new(base{ endpoint = "https://connect.example.test/" .. bad, getenv = {} })
      end)
      refused({ "ConfigError", "ValidationError" }, function()
        aws_connect.new(base{ endpoint = false, getenv = { AWS_ENDPOINT_URL = "https://x.test" .. bad .. "y" } })
      end)
    end)

    it("refuses " .. shown .. " in the session token, without quoting it", function()
      local token = "token-value-" .. bad .. "X-Injected: 1"
      local err = refused({ "CredentialsError", "ConfigError", "ValidationError" }, function()
        local c = aws_connect.new(base{ credentials = { access_key_id = "AKIDCRLF", secret_access_key = "crlf-secret-key",
          session_token = token } })
        c:list_instances()
      end)
      assert.is_nil(err.message:find("token-value", 1, true), err.message)
      err = refused({ "CredentialsError", "ConfigError", "ValidationError" }, function()
        local c = aws_connect.new(base{ credentials = function()
          return { access_key_id = "AKIDCRLF", secret_access_key = "crlf-secret-key", session_token = token }
        end })
        c:list_instances()
      end)
      assert.is_nil(err.message:find("token-value", 1, true), err.message)
      refused({ "CredentialsError", "ConfigError", "ValidationError" }, function()
        local c = aws_connect.new(base{ credentials = false, getenv = { AWS_ACCESS_KEY_ID = "AKIDCRLF",
          AWS_SECRET_ACCESS_KEY = "crlf-secret-key", AWS_SESSION_TOKEN = token } })
        c:list_instances()
      end)
    end)

    it("refuses " .. shown .. " in the region", function()
      refused({ "ConfigError", "ValidationError" }, function()
        aws_connect.new(base{ region = "us-east-1" .. bad })
      end)
    end)
  end

  it("stops a header value with CR/LF at the last step before the wire, whatever its source", function()
    local c = aws_connect.new(base())
    aws_connect._private(c).user_agent = "lua-aws-connect\r\nX-Injected: 1"
    local err = refused({ "ValidationError" }, function() c:list_instances() end)
    assert.are.equal("User-Agent", err.field)
  end)

  it("keeps instance ids with CR/LF out of the URL (percent-encoded or refused)", function()
    local srv = fake.start{ access_key = "AKIDCRLF", secret_key = "crlf-secret-key" }
    local ok, err = pcall(function()
      local c = aws_connect.new(base{ endpoint = srv.endpoint, transport = false, max_attempts = 1 })
      return c:describe_instance("abc\r\nX-Injected: 1")
    end)
    local reqs = srv:requests()
    srv:stop()
    assert.is_false(ok)
    assert.is_table(err)
    for _, r in ipairs(reqs) do
      for _, h in ipairs(r.headers) do assert.are_not.equal("x-injected", h[1]:lower()) end
      assert.is_nil(r.path:find("[\r\n]"))
    end
  end)
end)
