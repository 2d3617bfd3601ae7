-- The official SigV4 test vectors, run through core.sign: canonical request,
-- string to sign, signature and Authorization must match the files exactly.
-- Suites: spec/vectors/aws4_testsuite (NAME/NAME.req, .creq, .sts, .authz)
-- and spec/vectors/aws-c-auth-v4 (NAME/request.txt, header-*.txt).

local core = require("aws_connect.core")
local helpers = require("spec.support.helpers")

local AKID = "AKIDEXAMPLE"
local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
local REGION = "us-east-1"
local SERVICE = "service"
local TIME = 1440938160 -- 2015-08-30T12:36:00Z

-- spec/vectors next to this file (busted runs from the repository root).
local function vectors_root()
  local src = debug.getinfo(1, "S").source or ""
  local dir = src:match("^@(.*)/[^/]*$")
  return (dir or "spec") .. "/vectors"
end

local ROOT = vectors_root()

local read_file = helpers.read

-- Expected outputs: the files end without a newline or with one; drop it.
local function read_expected(path)
  local s = read_file(path)
  if s == nil then return nil end
  return (s:gsub("\r?\n$", ""))
end

local function find(dir, pattern)
  local out = {}
  local p = io.popen('find "' .. dir .. '" -type f -name "' .. pattern .. '" 2>/dev/null')
  if p then
    for line in p:lines() do out[#out + 1] = line end
    p:close()
  end
  table.sort(out)
  return out
end

-- "METHOD target HTTP/1.1", then "Name:value" lines (a line starting with
-- whitespace continues the previous value), a blank line, the body.
local function parse_request(text)
  local pos, len = 1, #text
  local function next_line()
    if pos > len then return nil end
    local nl = text:find("\n", pos, true)
    local line
    if nl then
      line = text:sub(pos, nl - 1)
      pos = nl + 1
    else
      line = text:sub(pos)
      pos = len + 1
    end
    return (line:gsub("\r$", ""))
  end

  local first = next_line() or ""
  local method, target = first:match("^(%S+) (.*) HTTP/%d")
  assert(method, "bad request line: " .. first)
  local path, query = target:match("^([^?]*)%?(.*)$")
  if not path then path, query = target, "" end

  local headers = {}
  while true do
    local line = next_line()
    if line == nil or line == "" then break end
    if line:match("^[ \t]") and #headers > 0 then
      local h = headers[#headers]
      h[2] = h[2] .. "\n" .. line
    else
      local name, value = line:match("^([^:]*):(.*)$")
      assert(name, "bad header line: " .. line)
      headers[#headers + 1] = { name, value }
    end
  end
  local body = pos <= len and text:sub(pos) or ""
  return { method = method, path = path, query = query, headers = headers, body = body }
end

local function header_value(headers, wanted)
  wanted = wanted:lower()
  for _, h in ipairs(headers) do
    if h[1]:lower() == wanted then return h[2] end
  end
  return nil
end

local function sign(req, token)
  return core.sign{
    method = req.method, path = req.path, query = req.query,
    headers = req.headers, body = req.body,
    region = REGION, service = SERVICE,
    access_key_id = AKID, secret_access_key = SECRET,
    session_token = token,
    time = TIME,
  }
end

-- Each case: name, dir, request file, expected files, token, skip reason.
local function aws4_cases()
  local cases = {}
  for _, req in ipairs(find(ROOT .. "/aws4_testsuite", "*.req")) do
    local dir, name = req:match("^(.*)/([^/]+)%.req$")
    if dir and dir:match("[^/]+$") == name then
      local c = {
        name = name, dir = dir, request = req,
        creq = dir .. "/" .. name .. ".creq",
        sts = dir .. "/" .. name .. ".sts",
        authz = dir .. "/" .. name .. ".authz",
      }
      if name == "post-sts-header-after" then
        c.skip = "the token is added after signing; Connect signs it"
      end
      cases[#cases + 1] = c
    end
  end
  return cases
end

local function crt_cases()
  local cases = {}
  for _, ctx in ipairs(find(ROOT .. "/aws-c-auth-v4", "context.json")) do
    local dir = ctx:match("^(.*)/context%.json$")
    local name = dir:match("([^/]+)$")
    local json = read_file(ctx) or ""
    local c = {
      name = name, dir = dir, request = dir .. "/request.txt",
      creq = dir .. "/header-canonical-request.txt",
      sts = dir .. "/header-string-to-sign.txt",
      signature = dir .. "/header-signature.txt",
      token = json:match('"token"%s*:%s*"([^"]*)"'),
    }
    if name:match("%-unnormalized$") then
      c.skip = "S3-style unnormalized path"
    elseif name == "post-sts-header-after" then
      c.skip = "the token is added after signing; Connect signs it"
    elseif json:match('"sign_body"%s*:%s*true') then
      c.skip = "sign_body adds x-amz-content-sha256, which Connect does not use"
    end
    cases[#cases + 1] = c
  end
  return cases
end

describe("sigv4 vectors", function()
  local function run(c)
    local text = assert(read_file(c.request), "cannot read " .. c.request)
    local req = parse_request(text)
    local token = c.token or header_value(req.headers, "X-Amz-Security-Token")
    if token == nil and c.authz then
      -- get-vanilla-with-session-token: the token only appears in the .sreq
      -- (whose signature is wrong; the .authz is right).
      local sreq = read_file(c.dir .. "/" .. c.name .. ".sreq")
      if sreq then token = header_value(parse_request(sreq).headers, "X-Amz-Security-Token") end
    end
    local s = sign(req, token)
    assert.are.equal(read_expected(c.creq), s.canonical_request)
    assert.are.equal(read_expected(c.sts), s.string_to_sign)
    if c.authz then
      local authz = read_expected(c.authz)
      assert.are.equal(authz, s.authorization)
      assert.are.equal(authz:match("Signature=(%x+)$"), s.signature)
      assert.are.equal(authz:match("SignedHeaders=([^,]+),"), s.signed_headers)
    end
    if c.signature then
      assert.are.equal(read_expected(c.signature), s.signature)
    end
    assert.are.equal("20150830T123600Z", s.amz_date)
  end

  local suites = {
    { "aws4_testsuite", aws4_cases() },
    { "aws-c-auth-v4", crt_cases() },
  }
  for _, suite in ipairs(suites) do
    describe(suite[1], function()
      it("has cases", function()
        assert.is_true(#suite[2] > 0, "no vectors under " .. ROOT .. "/" .. suite[1])
      end)
      for _, c in ipairs(suite[2]) do
        if c.skip then
          pending(c.name .. " (" .. c.skip .. ")")
        else
          it(c.name, function() run(c) end)
        end
      end
    end)
  end
end)

describe("sigv4 sign", function()
  local function base(overrides)
    local t = {
      method = "PUT", path = "/instance", query = "",
      headers = { { "Host", "connect.us-east-1.amazonaws.com" }, { "Content-Type", "application/json" } },
      body = '{"IdentityManagementType":"CONNECT_MANAGED"}',
      region = "us-east-1", service = "connect",
      access_key_id = AKID, secret_access_key = SECRET,
      time = TIME,
    }
    for k, v in pairs(overrides or {}) do t[k] = v end
    return t
  end

  it("signs the session token as x-amz-security-token", function()
    local s = core.sign(base{ session_token = "TOKEN123" })
    assert.are.equal("content-type;host;x-amz-date;x-amz-security-token", s.signed_headers)
    assert.is_truthy(s.canonical_request:find("\nx-amz-security-token:TOKEN123\n", 1, true))
    assert.is_truthy(s.authorization:find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,", 1, true))
    assert.are_not.equal(core.sign(base()).signature, s.signature)
  end)

  it("replaces a caller's X-Amz-Date and drops a stale X-Amz-Security-Token", function()
    local t = base()
    t.headers[#t.headers + 1] = { "X-AMZ-DATE", "19990101T000000Z" }
    t.headers[#t.headers + 1] = { "x-amz-security-token", "stale" }
    local s = core.sign(t)
    assert.are.equal("20150830T123600Z", s.amz_date)
    assert.are.equal("content-type;host;x-amz-date", s.signed_headers)
    assert.is_truthy(s.canonical_request:find("\nx-amz-date:20150830T123600Z\n", 1, true))
    assert.is_falsy(s.canonical_request:find("19990101", 1, true))
    assert.is_falsy(s.canonical_request:find("stale", 1, true))
    assert.are.equal(core.sign(base()).signature, s.signature)
  end)

  it("gives the same signature twice (cached signing key)", function()
    local a = core.sign(base{ session_token = "TOKEN123" })
    local b = core.sign(base{ session_token = "TOKEN123" })
    assert.are.equal(a.signature, b.signature)
    assert.are.equal(a.authorization, b.authorization)
  end)

  it("keys the signing-key cache on the secret", function()
    local a = core.sign(base())
    local b = core.sign(base{ secret_access_key = SECRET:sub(1, -2) .. "Z" })
    assert.are_not.equal(a.signature, b.signature)
    assert.are.equal(a.string_to_sign, b.string_to_sign)
    assert.are.equal(a.signature, core.sign(base()).signature)
  end)

  it("keys the signing-key cache on date, region and service", function()
    local a = core.sign(base())
    assert.are_not.equal(a.signature, core.sign(base{ time = TIME + 86400 }).signature)
    assert.are_not.equal(a.signature, core.sign(base{ region = "us-west-2" }).signature)
    assert.are_not.equal(a.signature, core.sign(base{ service = "connects" }).signature)
    assert.are.equal(a.signature, core.sign(base()).signature)
  end)

  it("builds the Authorization value from credential scope, signed headers and signature", function()
    local s = core.sign(base())
    assert.are.equal("AWS4-HMAC-SHA256 Credential=" .. AKID .. "/20150830/us-east-1/connect/aws4_request, "
      .. "SignedHeaders=" .. s.signed_headers .. ", Signature=" .. s.signature, s.authorization)
    assert.is_truthy(s.signature:match("^%x+$"))
    assert.are.equal(64, #s.signature)
  end)
end)
