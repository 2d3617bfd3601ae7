-- The credential providers' STS calls go through the client's pipeline
-- (aws_connect.services): the client's sleep option times the retry
-- backoff, its retry mode and max_attempts apply, every attempt carries the
-- client's User-Agent and one invocation id, and what still fails is a
-- CredentialsError with the STS code, status, request id and attempts, the
-- web identity token scrubbed. A custom transport plays STS in-process:
-- nothing is sent anywhere.

local aws_connect = require("aws_connect")
local credentials = require("aws_connect.credentials")
local errors = aws_connect.errors
local helpers = require("spec.support.helpers")

local write = helpers.write

local dir
before_each(function() dir = helpers.tmpdir("stsprov", ".aws") end)
after_each(function() helpers.rmdir(dir) end)

local OK = [[<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials><AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>web-secret</SecretAccessKey>
      <SessionToken>web-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::210987654321:assumed-role/pod/s</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>]]

local function sts_error(code, message, status)
  return { status = status or 400, headers = { { "Content-Type", "text/xml" } },
    body = "<ErrorResponse><Error><Type>Sender</Type><Code>" .. code .. "</Code><Message>" .. message
      .. "</Message></Error><RequestId>rid-" .. code .. "</RequestId></ErrorResponse>" }
end

-- A transport answering from a script, recording every request.
local function scripted(answers)
  local t = { requests = {} }
  function t:request(req)
    self.requests[#self.requests + 1] = req
    local a = table.remove(answers, 1)
    if a == nil then return nil, "connect", "no more scripted answers" end
    if a == "timeout" then return nil, "timeout", "timed out" end
    return a
  end
  return t
end

local header = helpers.header

local function env(extra)
  local e = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true", AWS_ENDPOINT_URL_STS = "http://127.0.0.1:9",
    AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/token", AWS_ROLE_ARN = "arn:aws:iam::1:role/pod",
    AWS_ROLE_SESSION_NAME = "pod-session" }
  for k, v in pairs(extra or {}) do e[k] = v or nil end
  return e
end

local function client(t, opts)
  opts = opts or {}
  opts.region = opts.region or "eu-west-1"
  opts.transport = t
  opts.getenv = opts.getenv or env()
  return aws_connect.new(opts)
end

local function resolve(c)
  local r = aws_connect._private(c).resolver
  return pcall(r.get, r)
end

describe("the web identity provider's STS call", function()
  it("waits between attempts through the client's sleep option, with the client's backoff", function()
    write(dir .. "/token", "jwt-token-1")
    local t = scripted{ sts_error("Throttling", "slow down"), sts_error("IDPCommunicationError", "idp away"),
      { status = 200, headers = {}, body = OK } }
    local slept = {}
    local c = client(t, { sleep = function(s) slept[#slept + 1] = s end, random = function() return 0.5 end })
    local ok, creds = resolve(c)
    assert.is_true(ok, tostring(creds))
    assert.are.equal("ASIAWEB", creds.access_key_id)
    assert.are.equal("210987654321", creds.account_id)
    assert.are.equal(1893456000, creds.expiration)
    assert.are.same({ 0.5, 1 }, slept)   -- standard mode: random * 2^(n-1), n = 1, 2
    assert.are.equal(3, #t.requests)
  end)

  it("sends every attempt with the client's User-Agent, one invocation id and the attempt count, unsigned", function()
    write(dir .. "/token", "jwt-token-1")
    local t = scripted{ sts_error("Throttling", "slow"), { status = 200, headers = {}, body = OK } }
    local c = client(t, { sleep = function() end, app_id = "my-tool" })
    assert.is_true((resolve(c)))
    local r1, r2 = t.requests[1], t.requests[2]
    assert.are.equal("POST", r1.method)
    assert.are.equal("http://127.0.0.1:9/", r1.url)
    assert.are.equal(aws_connect._private(c).user_agent, header(r1, "User-Agent"))
    assert.is_truthy(header(r1, "User-Agent"):find("app/my-tool", 1, true))
    assert.are.equal("application/x-www-form-urlencoded; charset=utf-8", header(r1, "Content-Type"))
    assert.is_nil(header(r1, "Authorization"))
    assert.are.equal(header(r1, "amz-sdk-invocation-id"), header(r2, "amz-sdk-invocation-id"))
    assert.are.equal("attempt=1; max=3", header(r1, "amz-sdk-request"))
    assert.are.equal("attempt=2; max=3", header(r2, "amz-sdk-request"))
    assert.are.equal("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fpod"
      .. "&RoleSessionName=pod-session&WebIdentityToken=jwt-token-1", r1.body)
  end)

  it("follows the client's retry settings: max_attempts = 1 sends once and does not sleep", function()
    write(dir .. "/token", "jwt-token-1")
    local t = scripted{ sts_error("InternalError", "oops", 500), { status = 200, headers = {}, body = OK } }
    local slept = 0
    local c = client(t, { max_attempts = 1, sleep = function() slept = slept + 1 end })
    local ok, e = resolve(c)
    assert.is_false(ok)
    assert.are.equal(1, #t.requests)
    assert.are.equal(0, slept)
    assert.are.equal("CredentialsError", e.code)
    assert.are.equal("InternalError", e.sts_code)
    assert.are.equal(1, e.attempts)
  end)

  it("raises a CredentialsError with the STS code, status and request id, the token scrubbed", function()
    write(dir .. "/token", "jwt-secret-token")
    local t = scripted{ sts_error("InvalidIdentityToken", "token jwt-secret-token is not valid") }
    local c = client(t, { sleep = function() error("a refused token is not retried") end })
    local ok, e = resolve(c)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "CredentialsError"))
    assert.are.equal("InvalidIdentityToken", e.sts_code)
    assert.are.equal(400, e.status)
    assert.are.equal("rid-InvalidIdentityToken", e.request_id)
    assert.are.equal(1, e.attempts)
    assert.is_nil(tostring(e):find("jwt-secret-token", 1, true))
    assert.is_truthy(e.message:find("token REDACTED is not valid", 1, true), e.message)
  end)

  it("turns a transport failure into a CredentialsError after the retries", function()
    write(dir .. "/token", "jwt-token-1")
    local t = scripted{ "timeout", "timeout", "timeout" }
    local slept = {}
    local c = client(t, { sleep = function(s) slept[#slept + 1] = s end, random = function() return 0 end })
    local ok, e = resolve(c)
    assert.is_false(ok)
    assert.are.equal("CredentialsError", e.code)
    assert.are.equal(3, e.attempts)
    assert.are.equal(2, #slept)
    assert.is_truthy(e.message:find("timed out", 1, true), e.message)
  end)

  it("validates the request against the STS model before sending", function()
    write(dir .. "/token", "jwt-token-1")
    local t = scripted{}
    local c = client(t, { getenv = env{ AWS_ROLE_SESSION_NAME = ("s"):rep(65) } })
    local ok, e = resolve(c)
    assert.is_false(ok)
    assert.are.equal("CredentialsError", e.code)
    assert.are.equal("RoleSessionName", e.field)
    assert.are.equal(0, #t.requests)
  end)
end)

describe("the assume-role provider's STS call", function()
  it("is signed for STS in the client's region and uses the client's sleep", function()
    write(dir .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\n"
      .. "credential_source = Environment\nduration_seconds = 1800\n")
    local body = OK:gsub("AssumeRoleWithWebIdentity", "AssumeRole")
    local t = scripted{ sts_error("Throttling", "slow"), { status = 200, headers = {}, body = body } }
    local slept = {}
    local c = client(t, { profile = "dev", sleep = function(s) slept[#slept + 1] = s end,
      random = function() return 0.25 end,
      getenv = env{ AWS_WEB_IDENTITY_TOKEN_FILE = false, AWS_ACCESS_KEY_ID = "AKIDSOURCE",
        AWS_SECRET_ACCESS_KEY = "source-secret" } })
    local ok, creds = resolve(c)
    assert.is_true(ok, tostring(creds))
    assert.are.equal("ASIAWEB", creds.access_key_id)
    assert.are.same({ 0.25 }, slept)
    local r = t.requests[1]
    assert.is_truthy(header(r, "Authorization"):find("Credential=AKIDSOURCE/%d+/eu%-west%-1/sts/aws4_request"))
    assert.is_truthy(r.body:find("&DurationSeconds=1800", 1, true))
  end)
end)

describe("a credentials resolver used without a client", function()
  it("calls STS through a pipeline of its own, sleeping through env.sleep", function()
    write(dir .. "/token", "jwt-token-1")
    local t = scripted{ sts_error("Throttling", "slow"), { status = 200, headers = {}, body = OK } }
    local slept = 0
    local e = env()
    local r = credentials.resolver({ transport = t, region = "eu-west-1", getenv = function(k) return e[k] end },
      function(k) return e[k] end, function() return 1800000000 end, nil, { sleep = function() slept = slept + 1 end })
    local creds = r:get()
    assert.are.equal("ASIAWEB", creds.access_key_id)
    assert.are.equal(1, slept)
    assert.are.equal(2, #t.requests)
  end)
end)
