-- IAM Identity Center (SSO) credentials, as an AWS CLI user has them: a
-- profile written by `aws configure sso`, a token cached by `aws sso login`
-- (~/.aws/sso/cache), SSO-OIDC CreateToken refreshing a session's token,
-- SSO GetRoleCredentials on the portal, the role credentials shared through
-- ~/.aws/cli/cache. A local stand-in for the portal and OIDC
-- (spec/support/fake_sso.py) runs on 127.0.0.1; nothing else is reached.

local aws_connect = require("aws_connect")
local errors = aws_connect.errors
local services = require("aws_connect.services")
local fm = require("spec.support.fake_metadata")
local fake = require("spec.support.fake_server")
local nginx = require("spec.support.nginx")
local cjson = require("cjson")
local helpers = require("spec.support.helpers")

local q, capture, write, read = helpers.q, helpers.capture, helpers.write, helpers.read

-- independent of the code under test: the sha1sum tool
local function sha1(s) return (capture("printf %s " .. q(s) .. " | sha1sum"):match("^(%x+)")) end

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) end

local function mode_of(path) return (capture("stat -c %a " .. q(path)):gsub("%s+", "")) end

local function tmpdir() return helpers.tmpdir("sso", ".aws/sso/cache") end
local rmdir = helpers.rmdir

-- ~/.aws/config exactly as `aws configure sso` writes it
local CONFIG = [[
[profile my-dev-profile]
sso_session = my-sso
sso_account_id = 111122223333
sso_role_name = SampleRole
region = us-west-2
output = json
[sso-session my-sso]
sso_start_url = https://my-sso-portal.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
]]

local LEGACY = [[
[profile legacy]
sso_start_url = https://legacy-portal.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 111122223333
sso_role_name = SampleRole
region = eu-west-1
]]

local START_URL = "https://my-sso-portal.awsapps.com/start"

-- the token file as `aws sso login` caches it (Python's json.dumps)
local function session_token_json(o)
  return ('{"startUrl": "%s", "region": "us-east-1", "accessToken": "%s", "expiresAt": "%s", '
    .. '"clientId": "client-1", "clientSecret": "client-secret-1", "registrationExpiresAt": "%s", '
    .. '"refreshToken": "%s"}'):format(START_URL, o.access or "sso-access-0", o.expires,
    o.registration or "2099-03-01T00:00:00Z", o.refresh or "refresh-0")
end

describe("SSO credentials", function()
  local srv, sts, dir, now, logs

  setup(function()
    srv = fm.launch(fm.dir .. "/fake_sso.py", { "--host", "127.0.0.1", "--port", "0" })
  end)
  teardown(function()
    if srv then srv:stop() end
    if sts then sts:stop() end
  end)

  before_each(function()
    srv:reset()
    dir = tmpdir()
    write(dir .. "/.aws/config", CONFIG)
    now = os.time()
    logs = {}
  end)
  after_each(function() rmdir(dir) end)

  local function token_path(name) return dir .. "/.aws/sso/cache/" .. sha1(name) .. ".json" end

  local function env(extra)
    local e = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true",
      AWS_ENDPOINT_URL_SSO = srv.endpoint, AWS_ENDPOINT_URL_SSO_OIDC = srv.endpoint }
    for k, v in pairs(extra or {}) do e[k] = v end
    for k, v in pairs(e) do if v == false then e[k] = nil end end
    return e
  end

  local function client(opts)
    opts = opts or {}
    local o = { profile = "my-dev-profile", getenv = env(opts.env), clock = function() return now end,
      logger = function(level, msg) logs[#logs + 1] = level .. ": " .. msg end }
    for k, v in pairs(opts) do if k ~= "env" then o[k] = v end end
    return aws_connect.new(o)
  end

  local function creds(opts)
    local c = client(opts)
    return aws_connect._private(c).resolver:get(), c
  end

  local function cred_error(opts)
    local c = client(opts)
    local ok, e = pcall(aws_connect._private(c).resolver.get, aws_connect._private(c).resolver)
    assert.is_false(ok, "expected a CredentialsError")
    assert.is_true(errors.is(e, "CredentialsError"), tostring(e))
    return e
  end

  local function by_channel(channel)
    local out = {}
    for _, r in ipairs(srv:requests()) do if r.channel == channel then out[#out + 1] = r end end
    return out
  end

  local function session_token(o)
    o = o or {}
    o.expires = o.expires or iso(now + 8 * 3600)
    write(token_path("my-sso"), session_token_json(o))
  end

  it("gives working credentials for a profile written by aws configure sso and a token cached by aws sso login", function()
    session_token()
    srv:config{ expiration_ms = (now + 3600) * 1000 + 250 }
    local c = creds()
    assert.are.equal("ASIASSO0001", c.access_key_id)
    assert.are.equal("sso-secret-1", c.secret_access_key)
    assert.are.equal("sso-session-1", c.session_token)
    assert.are.equal(now + 3600.25, c.expiration)   -- milliseconds on the wire
    assert.are.equal("111122223333", c.account_id)
    assert.are.equal(0, #by_channel("oidc"))        -- 8 hours left: no refresh
    local r = by_channel("portal")
    assert.are.equal(1, #r)
    assert.are.same({ role_name = "SampleRole", account_id = "111122223333" }, r[1].query)
    assert.are.equal("sso-access-0", r[1].token)
    assert.is_false(r[1].signed)
    -- and a Connect call is signed with them
    local connect = fake.start{ access_key = "ASIASSO0001", secret_key = "sso-secret-1",
      session_token = "sso-session-1", region = "us-west-2" }
    finally(function() connect:stop() end)
    client{ endpoint = connect.endpoint }:list_instances{}
    assert.is_true(connect:requests()[1].signature_valid)
  end)

  it("refreshes a session's token with fewer than 15 minutes left through SSO-OIDC CreateToken "
    .. "and rewrites the cache file", function()
    session_token{ expires = iso(now + 14 * 60) }
    local c = creds()
    assert.are.equal("ASIASSO0001", c.access_key_id)
    local o = by_channel("oidc")
    assert.are.equal(1, #o)
    assert.is_false(o[1].signed)
    assert.are.same({ clientId = "client-1", clientSecret = "client-secret-1", grantType = "refresh_token",
      refreshToken = "refresh-0" }, o[1].json)
    assert.are.equal("sso-access-1", by_channel("portal")[1].token)
    local doc = cjson.decode(read(token_path("my-sso")))
    assert.are.equal("sso-access-1", doc.accessToken)
    assert.are.equal("refresh-1", doc.refreshToken)
    assert.are.equal(iso(now + 28800), doc.expiresAt)
    assert.are.equal("client-1", doc.clientId)
    assert.are.equal("client-secret-1", doc.clientSecret)
    assert.are.equal("2099-03-01T00:00:00Z", doc.registrationExpiresAt)
    assert.are.equal(START_URL, doc.startUrl)
    assert.are.equal("us-east-1", doc.region)
    assert.are.equal("600", mode_of(token_path("my-sso")))
    -- no temporary file left next to it
    assert.are.equal(sha1("my-sso") .. ".json\n", capture("ls " .. q(dir .. "/.aws/sso/cache")))
  end)

  it("keeps a token with 15 minutes or more left", function()
    session_token{ expires = iso(now + 15 * 60) }
    creds()
    assert.are.equal(0, #by_channel("oidc"))
    assert.are.equal("sso-access-0", by_channel("portal")[1].token)
  end)

  it("uses the cached token while it lasts when the refresh fails, and logs why", function()
    session_token{ expires = iso(now + 5 * 60), refresh = "refresh-revoked" }
    local c = creds()
    assert.are.equal("ASIASSO0001", c.access_key_id)
    assert.are.equal(1, #by_channel("oidc"))
    assert.are.equal("sso-access-0", by_channel("portal")[1].token)
    local text = table.concat(logs, "\n")
    assert.is_truthy(text:find("InvalidGrantException", 1, true), text)
    assert.is_nil(text:find("refresh-revoked", 1, true))
    assert.is_nil(text:find("client-secret-1", 1, true))
    assert.are.equal("sso-access-0", cjson.decode(read(token_path("my-sso"))).accessToken)
  end)

  it("asks for aws sso login when a session's token expired and cannot be refreshed", function()
    session_token{ expires = iso(now - 60), registration = iso(now - 1) }   -- registration expired too
    local e = cred_error()
    assert.is_truthy(e.message:find("run `aws sso login --profile my-dev-profile`", 1, true), e.message)
    assert.is_truthy(e.message:find('"my-sso"', 1, true), e.message)
    assert.are.equal("my-dev-profile", e.profile)
    assert.are.equal(0, #srv:requests())
  end)

  it("reads a legacy profile's token under the SHA-1 of its start URL, as older aws sso login wrote it", function()
    write(dir .. "/.aws/config", LEGACY)
    write(token_path("https://legacy-portal.awsapps.com/start"),
      ('{"startUrl": "https://legacy-portal.awsapps.com/start", "region": "eu-west-1", '
      .. '"accessToken": "sso-access-0", "expiresAt": "%s"}'):format(os.date("!%Y-%m-%dT%H:%M:%SUTC", now + 120)))
    local c = creds{ profile = "legacy" }
    assert.are.equal("ASIASSO0001", c.access_key_id)
    assert.are.equal(0, #by_channel("oidc"))   -- legacy tokens are never refreshed
  end)

  it("asks for aws sso login --profile NAME when a legacy token expired, without calling anything", function()
    write(dir .. "/.aws/config", LEGACY)
    write(token_path("https://legacy-portal.awsapps.com/start"),
      ('{"startUrl": "https://legacy-portal.awsapps.com/start", "region": "eu-west-1", '
      .. '"accessToken": "sso-access-0", "expiresAt": "%s"}'):format(iso(now - 1)))
    local e = cred_error{ profile = "legacy" }
    assert.is_truthy(e.message:find("run `aws sso login --profile legacy`", 1, true), e.message)
    assert.is_truthy(e.message:find("expired", 1, true), e.message)
    assert.are.equal(0, #srv:requests())
  end)

  it("asks for aws sso login when no token is cached, naming the profile and the file", function()
    local e = cred_error()
    assert.is_truthy(e.message:find('profile "my-dev-profile"', 1, true), e.message)
    assert.is_truthy(e.message:find(sha1("my-sso") .. ".json", 1, true), e.message)
    assert.is_truthy(e.message:find("run `aws sso login --profile my-dev-profile`", 1, true), e.message)
    assert.are.equal(0, #srv:requests())
  end)

  it("asks for aws sso login when the portal refuses the token", function()
    session_token{ access = "sso-access-revoked" }
    local e = cred_error()
    assert.are.equal("UnauthorizedException", e.sso_code)
    assert.are.equal(401, e.status)
    assert.is_truthy(e.message:find("run `aws sso login --profile my-dev-profile`", 1, true), e.message)
    assert.is_nil(e.message:find("sso-access-revoked", 1, true))
  end)

  it("raises other portal errors as CredentialsErrors with sso_code, status and request id, never showing the token", function()
    session_token()
    srv:script("portal", { { status = 404, body = '{"message":"no role for token sso-access-0"}',
      headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException:" } } })
    local e = cred_error()
    assert.are.equal("ResourceNotFoundException", e.sso_code)
    assert.are.equal(404, e.status)
    assert.is_string(e.request_id)
    assert.is_truthy(e.message:find("SampleRole", 1, true), e.message)
    assert.is_nil(tostring(e):find("sso-access-0", 1, true), tostring(e))
    assert.is_truthy(e.message:find("REDACTED", 1, true), e.message)
  end)

  it("retries a throttled or failing portal as the client's retry mode says", function()
    session_token()
    srv:script("portal", { { status = 500, body = "{}" },
      { status = 429, body = '{"message":"slow down"}', headers = { ["x-amzn-ErrorType"] = "TooManyRequestsException" } } })
    local c = creds{ sleep = function() end }
    assert.are.equal("ASIASSO0001", c.access_key_id)
    assert.are.equal(3, #by_channel("portal"))
  end)

  it("refuses broken configuration with a CredentialsError naming the profile, before any request", function()
    session_token()
    local cases = {
      { "[profile p]\nsso_session = s\nsso_account_id = 1\nsso_role_name = R\n[sso-session s]\nsso_start_url = https://x\n",
        "missing sso_region" },
      { "[profile p]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = R\n", "[sso-session nowhere]" },
      { "[profile p]\nsso_session = s\nsso_account_id = 1\nsso_role_name = R\nsso_start_url = https://other\n"
        .. "[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\n", "sso_start_url differs" },
      { "[profile p]\nsso_session = s\n[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\n",
        "no sso_account_id and sso_role_name" },
      { "[profile p]\nsso_start_url = https://x\nsso_region = us-east-1\nsso_account_id = 1\n", "missing sso_role_name" },
      { "[profile p]\nsso_start_url = https://x\nsso_region = ../../x\nsso_account_id = 1\nsso_role_name = R\n",
        "not a region name" },
    }
    for _, case in ipairs(cases) do
      write(dir .. "/.aws/config", case[1])
      local e = cred_error{ profile = "p", region = "us-east-1" }
      assert.is_truthy(e.message:find(case[2], 1, true), case[2] .. ": " .. e.message)
      assert.is_truthy(e.message:find('profile "p"', 1, true), e.message)
    end
    write(dir .. "/.aws/config", CONFIG)
    write(token_path("my-sso"), "not json {")
    local e = cred_error()
    assert.is_truthy(e.message:find("not a JSON object", 1, true), e.message)
    assert.is_truthy(e.message:find("aws sso login", 1, true), e.message)
    write(token_path("my-sso"), '{"accessToken": "a\\r\\nX-Evil: 1", "expiresAt": "2099-01-01T00:00:00Z"}')
    e = cred_error()
    assert.is_truthy(e.message:find("no usable accessToken", 1, true), e.message)
    assert.are.equal(0, #srv:requests())
  end)

  it("refreshes the role credentials before they expire", function()
    session_token{ expires = iso(now + 12 * 3600) }
    srv:config{ expiration_ms = (now + 3600) * 1000 }
    local c = client()
    local r = aws_connect._private(c).resolver
    assert.are.equal("ASIASSO0001", r:get().access_key_id)
    now = now + 30 * 60
    assert.are.equal("ASIASSO0001", r:get().access_key_id)   -- 30 minutes left
    srv:config{ expiration_ms = (now + 2 * 3600) * 1000 }
    now = now + 21 * 60                                       -- 9 minutes left: must refresh
    assert.are.equal("ASIASSO0002", r:get().access_key_id)
    assert.are.equal(2, #by_channel("portal"))
  end)

  it("shares the role credentials with other processes through ~/.aws/cli/cache as the AWS CLI does", function()
    session_token()
    srv:config{ expiration_ms = (now + 3600) * 1000 }
    assert.are.equal("ASIASSO0001", creds().access_key_id)
    -- the AWS CLI's file name: SHA-1 of the compact sorted JSON of the arguments
    local path = dir .. "/.aws/cli/cache/"
      .. sha1('{"accountId":"111122223333","roleName":"SampleRole","sessionName":"my-sso"}') .. ".json"
    local doc = cjson.decode((assert(read(path), "no cache file")))
    assert.are.equal("sso", doc.ProviderType)
    assert.are.equal("ASIASSO0001", doc.Credentials.AccessKeyId)
    assert.are.equal(iso(now + 3600), doc.Credentials.Expiration)
    assert.are.equal("600", mode_of(path))
    -- a second client (another process) takes them from there
    local c2 = creds()
    assert.are.equal("ASIASSO0001", c2.access_key_id)
    assert.are.equal("111122223333", c2.account_id)
    assert.are.equal(1, #by_channel("portal"))
    -- unless the cache is turned off
    assert.are.equal("ASIASSO0002", creds{ credential_cache = false }.access_key_id)
    -- and cached credentials within 15 minutes of their expiry are not used
    now = now + 50 * 60
    assert.are.equal("ASIASSO0003", creds().access_key_id)
  end)

  it("writes nothing to ~/.aws/cli/cache with credential_cache = false", function()
    session_token()
    creds{ credential_cache = false }
    creds{ credential_cache = false }
    assert.are.equal(2, #by_channel("portal"))
    assert.is_nil(read(dir .. "/.aws/cli/cache"))
    assert.are.equal("", capture("ls -A " .. q(dir .. "/.aws/cli") .. " 2>/dev/null"))
  end)

  it("gives an SSO profile's credentials to a role that names it as source_profile", function()
    sts = sts or fm.start()
    sts:reset()
    sts:config{ sts_secrets = { ASIASSO0001 = "sso-secret-1" } }
    session_token()
    write(dir .. "/.aws/config", CONFIG .. "[profile admin]\nrole_arn = arn:aws:iam::111122223333:role/Admin\n"
      .. "source_profile = my-dev-profile\n")
    local c = creds{ profile = "admin", region = "us-east-1", env = { AWS_ENDPOINT_URL_STS = sts.endpoint } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    local r = sts:requests()
    assert.are.equal(1, #r)
    assert.is_true(r[1].signature_valid, r[1].signature_check)
    assert.are.equal(1, #by_channel("portal"))
  end)

  it("finds the portal and OIDC by AWS_ENDPOINT_URL_SSO / _SSO_OIDC, the [services] keys sso and sso_oidc, "
    .. "AWS_ENDPOINT_URL, else sso_region's endpoints", function()
    assert.are.equal("https://portal.sso.eu-west-1.amazonaws.com", services.endpoint("sso", { region = "eu-west-1" }).url)
    assert.are.equal("https://oidc.eu-west-1.amazonaws.com", services.endpoint("sso_oidc", { region = "eu-west-1" }).url)
    -- [services] keys
    session_token{ expires = iso(now + 60) }
    write(dir .. "/.aws/config", CONFIG:gsub("output = json\n", "output = json\nservices = local\n")
      .. "[services local]\nsso =\n  endpoint_url = " .. srv.endpoint .. "\nsso_oidc =\n  endpoint_url = "
      .. srv.endpoint .. "\n")
    local c = creds{ env = { AWS_ENDPOINT_URL_SSO = false, AWS_ENDPOINT_URL_SSO_OIDC = false } }
    assert.are.equal("ASIASSO0001", c.access_key_id)
    assert.are.equal(1, #by_channel("oidc"))
    assert.are.equal(1, #by_channel("portal"))
    -- AWS_ENDPOINT_URL for both
    srv:reset()
    rmdir(dir)
    dir = tmpdir()
    write(dir .. "/.aws/config", CONFIG)
    session_token{ expires = iso(now + 60) }
    c = creds{ env = { AWS_ENDPOINT_URL_SSO = false, AWS_ENDPOINT_URL_SSO_OIDC = false,
      AWS_ENDPOINT_URL = srv.endpoint }, endpoint = "http://127.0.0.1:9" }
    assert.are.equal("ASIASSO0001", c.access_key_id)
    assert.are.equal(1, #by_channel("oidc"))
    -- ignore_configured_endpoint_urls turns them off: the real portal's name, which is not called here
    local e = services.endpoint("sso", { region = "us-east-1", getenv = function(k) return env()[k] end,
      ignore_configured_endpoint_urls = true })
    assert.are.equal("https://portal.sso.us-east-1.amazonaws.com", e.url)
  end)

  it("still refuses login_session profiles with a CredentialsError saying so", function()
    write(dir .. "/.aws/config", "[profile l]\nlogin_session = arn:aws:iam::1:user/u\n")
    local e = cred_error{ profile = "l", region = "us-east-1" }
    assert.is_truthy(e.message:find("login_session", 1, true), e.message)
    assert.is_truthy(e.message:find("not support", 1, true), e.message)
  end)
end)

describe("SSO credentials inside nginx", function()
  local modules, missing = nginx.available()
  if not modules then
    it("needs nginx with ngx_http_lua", function() pending("nginx is not available: " .. tostring(missing)) end)
    return
  end
  local srv, ngx_srv, dir

  teardown(function()
    if ngx_srv then ngx_srv:stop() end
    if srv then srv:stop() end
    rmdir(dir)
  end)

  it("fetches SSO credentials over cosockets without blocking the worker", function()
    srv = fm.launch(fm.dir .. "/fake_sso.py", { "--host", "127.0.0.1", "--port", "0" })
    dir = tmpdir()
    write(dir .. "/.aws/config", CONFIG)
    write(dir .. "/.aws/sso/cache/" .. sha1("my-sso") .. ".json",
      session_token_json{ expires = iso(os.time() + 8 * 3600) })
    local delay = 0.5
    srv:config{ portal_delay = delay }
    local handler = ([[
      local aws_connect = require("aws_connect")
      local c = aws_connect.new{ profile = "my-dev-profile", credential_cache = false,
        getenv = { HOME = %q, AWS_EC2_METADATA_DISABLED = "true", AWS_ENDPOINT_URL_SSO = %q } }
      local ok, cr = pcall(function() return aws_connect._private(c).resolver:get() end)
      ngx.say(ok and cr.access_key_id or ("ERROR " .. tostring(cr)))
    ]]):format(dir, srv.endpoint)
    ngx_srv = nginx.start{ server = "location /sso { content_by_lua_block {" .. handler .. "} }" }
    local n = 6
    local paths = {}
    for i = 1, n do paths[i] = "/sso?i=" .. i end
    local res, out = ngx_srv:get_parallel(paths)
    for i, r in ipairs(res) do
      assert.are.equal(200, r.status, "request " .. i .. ": " .. tostring(r.body) .. "\n" .. out
        .. "\n" .. ngx_srv:log():sub(-2000))
      assert.is_truthy(r.body:find("^ASIASSO%d+"), r.body .. "\n" .. ngx_srv:log():sub(-2000))
    end
    local first, last = math.huge, -math.huge
    local portal = 0
    for _, r in ipairs(srv:requests()) do
      if r.channel == "portal" then
        portal = portal + 1
        first, last = math.min(first, r.time), math.max(last, r.time)
      end
    end
    assert.are.equal(n, portal)
    -- one worker: had a fetch blocked it, the portal would have seen the
    -- requests one answer (0.5 s) apart, over 2.5 s
    assert.is_true(last - first < delay * (n - 1) / 2, ("portal requests arrived over %.2f s"):format(last - first))
  end)
end)
