-- The credential settings AWS users set besides the chain's sources:
-- mfa_serial with the mfa_code option, role_session_name / external_id /
-- duration_seconds, sts_regional_endpoints, aws_account_id /
-- AWS_ACCOUNT_ID, the instance metadata timeout, attempts, endpoint mode
-- and IMDSv1 fallback, ignore_configured_endpoint_urls and the FIPS
-- pseudo-regions. Local stand-ins on 127.0.0.1 (spec/support/fake_metadata.py)
-- play STS and IMDS; a recording transport stands for endpoints that must
-- not be reached.

local aws_connect = require("aws_connect")
local errors = aws_connect.errors
local services = require("aws_connect.services")
local imds = require("aws_connect.providers.imds")
local fm = require("spec.support.fake_metadata")
local helpers = require("spec.support.helpers")

local write, rmdir = helpers.write, helpers.rmdir
local function tmpdir() return helpers.tmpdir("credset", ".aws") end

local resolver_of, creds_of, cred_error = helpers.resolver_of, helpers.creds_of, helpers.cred_error

local function config_error(opts) return helpers.expect_error("ConfigError", aws_connect.new, opts) end

local srv, dir

setup(function() srv = fm.start() end)
teardown(function() if srv then srv:stop() end end)
before_each(function()
  srv:reset()
  dir = tmpdir()
end)
after_each(function() rmdir(dir) end)

local function env(extra)
  local e = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true", AWS_ENDPOINT_URL_STS = srv.endpoint }
  for k, v in pairs(extra or {}) do e[k] = v end
  for k, v in pairs(e) do if v == false then e[k] = nil end end
  return e
end

local ROLE = "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"

local function sts_requests()
  local out = {}
  for _, r in ipairs(srv:requests()) do if r.channel == "sts" then out[#out + 1] = r end end
  return out
end

describe("mfa_serial", function()
  before_each(function()
    srv:config{ sts_secrets = { AKIDBASE = "base-secret" } }
    write(dir .. "/.aws/config", ROLE .. "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
      .. "source_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n")
  end)

  it("asks the mfa_code function for the code and sends SerialNumber and TokenCode with AssumeRole", function()
    local asked = {}
    local c = creds_of{ profile = "mfa", getenv = env(), credential_cache = false,
      mfa_code = function(serial, profile) asked[#asked + 1] = { serial, profile }; return " 123456\n" end }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.same({ { "arn:aws:iam::123456789012:mfa/alice", "mfa" } }, asked)
    local r = sts_requests()
    assert.are.equal(1, #r)
    assert.is_true(r[1].signature_valid, r[1].signature_check)
    assert.are.equal("arn:aws:iam::123456789012:mfa/alice", r[1].params.SerialNumber)
    assert.are.equal("123456", r[1].params.TokenCode)
  end)

  it("does not ask for a code again while the credentials cached in ~/.aws/cli/cache last", function()
    local asked = 0
    local function code() asked = asked + 1; return "654321" end
    assert.are.equal("ASIAFAKE0001", creds_of{ profile = "mfa", getenv = env(), mfa_code = code }.access_key_id)
    assert.are.equal("ASIAFAKE0001", creds_of{ profile = "mfa", getenv = env(), mfa_code = code }.access_key_id)
    -- also without an mfa_code function: the cached credentials need no code
    assert.are.equal("ASIAFAKE0001", creds_of{ profile = "mfa", getenv = env() }.access_key_id)
    assert.are.equal(1, asked)
    assert.are.equal(1, #sts_requests())
  end)

  it("is a CredentialsError without an mfa_code function, before anything is called", function()
    local e = cred_error{ profile = "mfa", getenv = env() }
    assert.is_truthy(e.message:find("mfa_code", 1, true), e.message)
    assert.is_truthy(e.message:find('profile "mfa"', 1, true), e.message)
    assert.are.equal(0, #srv:requests())
  end)

  it("refuses a code that is not a string and reports a failing function", function()
    local e = cred_error{ profile = "mfa", getenv = env(), mfa_code = function() return 123456 end }
    assert.is_truthy(e.message:find("as a string, got number", 1, true), e.message)
    e = cred_error{ profile = "mfa", getenv = env(), mfa_code = function() error("no terminal") end }
    assert.is_truthy(e.message:find("mfa_code function failed: ", 1, true), e.message)
    assert.is_truthy(e.message:find("no terminal", 1, true), e.message)
    e = cred_error{ profile = "mfa", getenv = env(), mfa_code = function() return "12345" end }
    assert.is_truthy(e.message:find("TokenCode", 1, true) or e.message:find("token_code", 1, true), e.message)
    assert.are.equal(0, #sts_requests())
    e = config_error{ region = "us-east-1", mfa_code = "123456" }
    assert.are.equal("mfa_code", e.field)
  end)
end)

describe("role settings", function()
  before_each(function() srv:config{ sts_secrets = { AKIDBASE = "base-secret" } } end)

  it("sends role_session_name, external_id and duration_seconds with AssumeRole", function()
    write(dir .. "/.aws/config", ROLE .. "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
      .. "source_profile = base\nrole_session_name = alice-laptop\nexternal_id = ext-42\nduration_seconds = 3600\n"
      .. "[profile plain]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n")
    creds_of{ profile = "r", getenv = env() }
    local p = sts_requests()[1].params
    assert.are.equal("alice-laptop", p.RoleSessionName)
    assert.are.equal("ext-42", p.ExternalId)
    assert.are.equal("3600", p.DurationSeconds)
    srv:reset()
    srv:config{ sts_secrets = { AKIDBASE = "base-secret" } }
    creds_of{ profile = "plain", getenv = env(), clock = function() return 1700000000 end }
    p = sts_requests()[1].params
    assert.are.equal("aws-connect-lua-1700000000", p.RoleSessionName)
    assert.is_nil(p.ExternalId)
    assert.is_nil(p.DurationSeconds)
  end)
end)

describe("sts_regional_endpoints", function()
  -- a transport that records the STS request and answers it: nothing leaves the process
  local function recording(seen)
    return { request = function(_, req)
      seen[#seen + 1] = req
      return { status = 200, reason = "OK", headers = { { "Content-Type", "text/xml" } }, body =
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAREC</AccessKeyId>"
        .. "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>"
        .. "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>" }
    end }
  end

  local function sts_call(region, extra_env, profile_extra)
    write(dir .. "/.aws/config", ROLE .. "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
      .. (profile_extra or ""))
    local seen = {}
    local e = env(extra_env)
    e.AWS_ENDPOINT_URL_STS = nil
    local c = creds_of{ profile = "r", region = region, getenv = e, transport = recording(seen),
      endpoint = "http://127.0.0.1:9", credential_cache = false }
    assert.are.equal("ASIAREC", c.access_key_id)
    local auth
    for _, h in ipairs(seen[1].headers) do if h[1]:lower() == "authorization" then auth = h[2] end end
    return seen[1].url, auth:match("Credential=[^/]+/%d+/([^/]+)/")
  end

  it("uses the regional endpoint by default", function()
    assert.are.same({ "https://sts.us-west-2.amazonaws.com/", "us-west-2" }, { sts_call("us-west-2") })
  end)

  it("uses the global endpoint for botocore's legacy regions when set to legacy", function()
    assert.are.same({ "https://sts.amazonaws.com/", "us-east-1" },
      { sts_call("us-west-2", { AWS_STS_REGIONAL_ENDPOINTS = "legacy" }) })
    assert.are.same({ "https://sts.amazonaws.com/", "us-east-1" },
      { sts_call("eu-west-1", nil, "sts_regional_endpoints = legacy\n") })
    -- a region outside the legacy list stays regional
    assert.are.same({ "https://sts.ap-east-1.amazonaws.com/", "ap-east-1" },
      { sts_call("ap-east-1", { AWS_STS_REGIONAL_ENDPOINTS = "legacy" }) })
    assert.are.same({ "https://sts.eu-west-1.amazonaws.com/", "eu-west-1" },
      { sts_call("eu-west-1", { AWS_STS_REGIONAL_ENDPOINTS = "regional" }, "sts_regional_endpoints = legacy\n") })
  end)

  it("refuses another value with a ConfigError", function()
    local e = config_error{ region = "us-east-1", getenv = { AWS_STS_REGIONAL_ENDPOINTS = "global" } }
    assert.is_truthy(e.message:find("AWS_STS_REGIONAL_ENDPOINTS", 1, true), e.message)
    assert.are.equal("https://sts.amazonaws.com",
      services.endpoint("sts", { region = "ap-northeast-1", sts_regional_endpoints = "legacy" }).url)
  end)
end)

describe("account id", function()
  it("is carried on credentials from AWS_ACCOUNT_ID, aws_account_id and an assumed role's ARN", function()
    local c = creds_of{ getenv = env{ AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "s",
      AWS_ACCOUNT_ID = "111111111111" } }
    assert.are.equal("111111111111", c.account_id)
    write(dir .. "/.aws/credentials", "[acct]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n"
      .. "aws_account_id = 222222222222\n")
    write(dir .. "/.aws/config", ROLE .. "[profile acct]\n[profile r]\nrole_arn = arn:aws:iam::1:role/r\n"
      .. "source_profile = base\n")
    c = creds_of{ profile = "acct", getenv = env() }
    assert.are.equal("222222222222", c.account_id)
    srv:config{ sts_secrets = { AKIDBASE = "base-secret" }, account_id = "333333333333" }
    c = creds_of{ profile = "r", getenv = env() }
    assert.are.equal("333333333333", c.account_id)
  end)
end)

describe("instance metadata settings", function()
  local function imds_env(extra)
    local e = env{ AWS_EC2_METADATA_DISABLED = false, AWS_EC2_METADATA_SERVICE_ENDPOINT = srv.endpoint }
    for k, v in pairs(extra or {}) do e[k] = v end
    return e
  end
  local function channels()
    local out = {}
    for _, r in ipairs(srv:requests()) do out[#out + 1] = r.channel end
    return out
  end

  it("tries each request metadata_service_num_attempts times", function()
    srv:script("imds_creds", { { status = 500, body = "" }, { status = 200, body = "" } })
    write(dir .. "/.aws/config", "[default]\nmetadata_service_num_attempts = 3\n")
    local c = creds_of{ getenv = imds_env() }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.same({ "imds_token", "imds_role", "imds_creds", "imds_creds", "imds_creds" }, channels())
    -- one attempt by default: the same answers end the chain
    srv:reset()
    srv:script("imds_creds", { { status = 500, body = "" } })
    write(dir .. "/.aws/config", "[default]\n")
    local e = cred_error{ getenv = imds_env() }
    assert.is_truthy(e.message:find("answered HTTP 500", 1, true), e.message)
    assert.are.equal(3, #srv:requests())
    -- AWS_METADATA_SERVICE_NUM_ATTEMPTS wins over the profile
    srv:reset()
    srv:script("imds_role", { { status = 503, body = "" } })
    c = creds_of{ getenv = imds_env{ AWS_METADATA_SERVICE_NUM_ATTEMPTS = "2" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.same({ "imds_token", "imds_role", "imds_role", "imds_creds" }, channels())
  end)

  it("uses metadata_service_timeout for every request and falls back to IMDSv1 when the token times out", function()
    local seen = {}
    local curl = require("aws_connect.transport.curl").new()
    finally(function() curl:close() end)
    local t = { request = function(_, req) seen[#seen + 1] = req; return curl:request(req) end }
    srv:config{ imds_v2_required = false }
    srv:script("imds_token", { { delay = 1, status = 200, body = "late-token" } })
    write(dir .. "/.aws/config", "[default]\nmetadata_service_timeout = 0.2\n")
    local c = creds_of{ getenv = imds_env(), transport = t }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal(3, #seen)
    for _, req in ipairs(seen) do
      assert.are.equal(0.2, req.timeout)
      assert.are.equal(0.2, req.connect_timeout)
    end
    assert.is_nil(srv:requests()[3].token)   -- IMDSv1: no token
  end)

  it("falls back to IMDSv1 when the token request answers 403, 404 or 405, unless AWS_EC2_METADATA_V1_DISABLED", function()
    for _, status in ipairs({ 403, 404, 405 }) do
      srv:reset()
      srv:config{ imds_token_status = status, imds_v2_required = false }
      local c = creds_of{ getenv = imds_env() }
      assert.are.equal("ASIAFAKE0001", c.access_key_id)
      assert.is_nil(srv:requests()[2].token)
    end
    local e = cred_error{ getenv = imds_env{ AWS_EC2_METADATA_V1_DISABLED = "true" } }
    assert.is_truthy(e.message:find("IMDSv1 is disabled", 1, true), e.message)
  end)

  it("refuses unreadable timeout and attempts settings", function()
    for _, case in ipairs({ { AWS_METADATA_SERVICE_TIMEOUT = "0" }, { AWS_METADATA_SERVICE_TIMEOUT = "1e3" },
        { AWS_METADATA_SERVICE_NUM_ATTEMPTS = "0" }, { AWS_METADATA_SERVICE_NUM_ATTEMPTS = "2.5" } }) do
      local e = cred_error{ getenv = imds_env(case) }
      local name = next(case)
      assert.is_truthy(e.message:find(name, 1, true), e.message)
    end
    assert.are.equal(0, #srv:requests())
  end)

  it("reads the endpoint mode (IPv4 / IPv6) from AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE or the profile", function()
    local function base(e, profile)
      return imds.base_url{ getenv = function(k) return e[k] end, profile_name = "default",
        files = { profiles = { default = profile or {} } } }
    end
    assert.are.equal("http://169.254.169.254", base({}))
    assert.are.equal("http://[fd00:ec2::254]", base({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = "IPv6" }))
    assert.are.equal("http://[fd00:ec2::254]", base({}, { ec2_metadata_service_endpoint_mode = "ipv6" }))
    assert.are.equal("http://169.254.169.254",
      base({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = "IPv4" }, { ec2_metadata_service_endpoint_mode = "IPv6" }))
    local ok, e = pcall(base, { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = "ipv5" })
    assert.is_false(ok)
    assert.is_true(errors.is(e, "CredentialsError"))
  end)
end)

describe("ignore_configured_endpoint_urls", function()
  local E = { AWS_ENDPOINT_URL_CONNECT = "http://127.0.0.1:4566" }

  it("as an option of new() turns the configured endpoint URLs off, and false wins over the environment", function()
    assert.are.equal("http://127.0.0.1:4566", aws_connect.new{ region = "us-east-1", getenv = E }.endpoint)
    assert.are.equal("https://connect.us-east-1.amazonaws.com",
      aws_connect.new{ region = "us-east-1", getenv = E, ignore_configured_endpoint_urls = true }.endpoint)
    local e2 = { AWS_ENDPOINT_URL_CONNECT = E.AWS_ENDPOINT_URL_CONNECT, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true" }
    assert.are.equal("https://connect.us-east-1.amazonaws.com", aws_connect.new{ region = "us-east-1", getenv = e2 }.endpoint)
    assert.are.equal("http://127.0.0.1:4566",
      aws_connect.new{ region = "us-east-1", getenv = e2, ignore_configured_endpoint_urls = false }.endpoint)
    -- the endpoint option is not a configured URL: it always applies
    assert.are.equal("http://127.0.0.1:9", aws_connect.new{ region = "us-east-1", getenv = E,
      ignore_configured_endpoint_urls = true, endpoint = "http://127.0.0.1:9" }.endpoint)
    local e = config_error{ region = "us-east-1", ignore_configured_endpoint_urls = "yes" }
    assert.are.equal("ignore_configured_endpoint_urls", e.field)
  end)

  it("applies to the STS endpoint of the credential providers too", function()
    srv:config{ sts_secrets = { AKIDBASE = "base-secret" } }
    write(dir .. "/.aws/config", ROLE .. "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n")
    local seen = {}
    local t = { request = function(_, req)
      seen[#seen + 1] = req.url
      return nil, "network", "not sent"
    end }
    local c = aws_connect.new{ region = "us-east-1", profile = "r", getenv = env(), transport = t,
      ignore_configured_endpoint_urls = true, max_attempts = 1, credential_cache = false }
    local ok = pcall(resolver_of(c).get, resolver_of(c))
    assert.is_false(ok)
    assert.are.same({ "https://sts.us-east-1.amazonaws.com/" }, seen)
    assert.are.equal(0, #srv:requests())
  end)
end)

describe("FIPS pseudo-regions", function()
  it("map to their region with FIPS on, as the JavaScript SDK reads them", function()
    local cases = {
      ["fips-aws-global"] = "us-east-1", ["aws-fips"] = "us-east-1", ["fips-us-west-2"] = "us-west-2",
      ["us-west-2-fips"] = "us-west-2", ["fips-dkr-us-east-1"] = "us-east-1", ["fips-prod-ca-central-1"] = "ca-central-1",
    }
    for given, region in pairs(cases) do
      local c = aws_connect.new{ region = given, getenv = {} }
      assert.are.equal(region, c.region, given)
      assert.are.equal("https://connect-fips." .. region .. ".amazonaws.com", c.endpoint, given)
    end
    local c = aws_connect.new{ region = "us-west-2", getenv = {} }
    assert.are.equal("https://connect.us-west-2.amazonaws.com", c.endpoint)
  end)
end)

describe("credential_cache option", function()
  it("must be a boolean", function()
    local e = config_error{ region = "us-east-1", credential_cache = "off" }
    assert.are.equal("credential_cache", e.field)
  end)
end)
