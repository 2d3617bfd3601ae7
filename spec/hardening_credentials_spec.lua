-- Issue 12: credentials under a hostile environment and hostile endpoints.
-- Local stand-ins (spec/support/raw_http.py) on 127.0.0.1 play a container
-- endpoint and STS that quote the request back; nothing leaves loopback.

local aws_connect = require("aws_connect")
local container = require("aws_connect.providers.container")
local process = require("aws_connect.providers.process")
local errors = aws_connect.errors
local fm = require("spec.support.fake_metadata")
local helpers = require("spec.support.helpers")

local write, rmdir, envt = helpers.write, helpers.rmdir, helpers.envt
local function tmpdir() return helpers.tmpdir("hcred", ".aws") end

local function resolver(opts)
  opts.region = opts.region or "us-east-1"
  opts.endpoint = opts.endpoint or "http://127.0.0.1:9"
  return aws_connect._private(aws_connect.new(opts)).resolver
end

local function cred_error(opts)
  local r = resolver(opts)
  local ok, e = pcall(r.get, r)
  assert.is_false(ok, "expected a CredentialsError")
  assert.is_true(errors.is(e, "CredentialsError"), tostring(e))
  return e
end

local function no_secret(e, ...)
  local text = tostring(e) .. " " .. tostring(e.message)
  for k, v in pairs(e) do if type(v) == "string" then text = text .. " " .. k .. "=" .. v end end
  for _, s in ipairs{ ... } do
    assert.falsy(text:find(s, 1, true), "secret in the error: " .. text)
    assert.falsy(text:find(s:gsub("[^%w%-_.~]", function(c) return ("%%%02X"):format(c:byte()) end), 1, true),
      "encoded secret in the error: " .. text)
  end
end

describe("container credentials", function()
  local saved
  before_each(function()
    saved = { container.attempts, container.retry_delay }
    container.attempts, container.retry_delay = 1, 0
  end)
  after_each(function() container.attempts, container.retry_delay = saved[1], saved[2] end)

  it("refuse a FULL_URI whose userinfo hides the real host (the allow-list bypass)", function()
    for _, u in ipairs{ "http://127.0.0.1:1@other-host.invalid:9/creds", "http://localhost@other-host.invalid/",
                        "http://169.254.170.2:80@other-host.invalid/", "http://127.0.0.1\\@other-host.invalid/" } do
      local ok, why = container.allowed_full_uri(u)
      assert.is_false(ok, u)
      assert.is_string(why)
      local e = cred_error{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_FULL_URI = u,
                                           AWS_CONTAINER_AUTHORIZATION_TOKEN = "container-token-0123456789" } }
      assert.truthy(e.message:find("FULL_URI", 1, true), e.message)
    end
  end)

  it("allow the hosts botocore allows, in every spelling libcurl reads", function()
    for _, u in ipairs{ "http://127.0.0.1:9/", "http://127.1:9/", "http://[::1]:9/", "http://localhost/",
                        "http://169.254.170.2/", "http://169.254.170.23/", "http://[fd00:ec2::23]/",
                        "http://[fd00:ec2:0::23]/", "https://anything.example/" } do
      assert.is_true((container.allowed_full_uri(u)), u)
    end
    for _, u in ipairs{ "http://169.254.170.3/", "http://example.com/", "ftp://127.0.0.1/", "http://[::2]/" } do
      assert.is_false((container.allowed_full_uri(u)), u)
    end
  end)

  describe("from an endpoint that quotes its token back", function()
    local srv
    setup(function() srv = fm.launch(fm.dir .. "/raw_http.py", { "--mode", "quoteauth" }) end)
    teardown(function() if srv then srv:stop() end end)

    it("never put the token into the error", function()
      local token = "Bearer container-SECRET/token+value=="
      local e = cred_error{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.endpoint .. "/creds",
                                           AWS_CONTAINER_AUTHORIZATION_TOKEN = token } }
      assert.truthy(e.message:find("HTTP 403", 1, true), e.message)
      no_secret(e, "container-SECRET/token+value==")
    end)
  end)
end)

describe("STS that quotes the request back", function()
  local srv, dir
  setup(function() srv = fm.launch(fm.dir .. "/raw_http.py", { "--mode", "stsquote" }) end)
  teardown(function() if srv then srv:stop() end; rmdir(dir) end)

  it("never puts the web identity token (raw or form-encoded) into the error", function()
    dir = tmpdir()
    local token = "eyJhbGciOiJSUzI1NiJ9.SECRET-web/identity+token=="
    write(dir .. "/token", token .. "\n")
    local e = cred_error{ getenv = envt{ HOME = dir, AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/token",
      AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/r", AWS_ENDPOINT_URL_STS = srv.endpoint } }
    assert.truthy(tostring(e):find("InvalidIdentityToken", 1, true), tostring(e))
    no_secret(e, token)
  end)
end)

describe("expired credentials", function()
  local dir
  after_each(function() rmdir(dir) end)
  local past = os.time() - 3600

  it("from the credentials option are a CredentialsError, never signed", function()
    local e = cred_error{ credentials = { access_key_id = "AKIDOLD", secret_access_key = "old-secret-key",
                                          expiration = past }, getenv = envt() }
    assert.truthy(e.message:find("expired", 1, true), e.message)
    no_secret(e, "old-secret-key")
  end)

  it("from AWS_CREDENTIAL_EXPIRATION are a CredentialsError", function()
    local e = cred_error{ getenv = envt{ AWS_ACCESS_KEY_ID = "AKIDOLD", AWS_SECRET_ACCESS_KEY = "old-secret-key",
      AWS_CREDENTIAL_EXPIRATION = os.date("!%Y-%m-%dT%H:%M:%SZ", past) } }
    assert.truthy(e.message:find("expired", 1, true), e.message)
  end)

  it("from credential_process are a CredentialsError", function()
    dir = tmpdir()
    local json = ('{"Version":1,"AccessKeyId":"AKIDOLD","SecretAccessKey":"old-secret-key","Expiration":"%s"}')
      :format(os.date("!%Y-%m-%dT%H:%M:%SZ", past))
    write(dir .. "/.aws/config", "[default]\nregion = us-east-1\ncredential_process = cat " .. dir .. "/out.json\n")
    write(dir .. "/out.json", json)
    local e = cred_error{ getenv = envt{ HOME = dir } }
    assert.truthy(e.message:find("expired", 1, true), e.message)
    no_secret(e, "old-secret-key")
  end)
end)

describe("credential_process", function()
  local dir, saved
  before_each(function() saved = process.timeout end)
  after_each(function() process.timeout = saved; rmdir(dir) end)

  it("is stopped after its time limit (with what it started) and raises a CredentialsError", function()
    dir = tmpdir()
    write(dir .. "/.aws/config", "[default]\nregion = us-east-1\ncredential_process = sh -c 'sleep 30 & sleep 30'\n")
    process.timeout = 1
    local t0 = os.time()
    local e = cred_error{ getenv = envt{ HOME = dir } }
    assert.truthy(e.message:find("did not finish within 1 s", 1, true), e.message)
    assert.is_true(os.time() - t0 <= 10)
  end)

  it("reads a bounded amount of output", function()
    dir = tmpdir()
    write(dir .. "/.aws/config", "[default]\nregion = us-east-1\ncredential_process = head -c 3000000 /dev/zero\n")
    local e = cred_error{ getenv = envt{ HOME = dir } }
    assert.truthy(e.message:find("more than", 1, true), e.message)
  end)
end)

describe("the shared files, as botocore reads them", function()
  local dir
  after_each(function() rmdir(dir) end)

  it("take aws_security_token over aws_session_token", function()
    dir = tmpdir()
    write(dir .. "/.aws/credentials", "[default]\naws_access_key_id = AKID\naws_secret_access_key = s3cr3t\n"
      .. "aws_session_token = session-tok\naws_security_token = security-tok\n")
    local c = resolver{ getenv = envt{ HOME = dir } }:get()
    assert.are.equal("security-tok", c.session_token)
  end)

  it("ignore the web identity variables when the profile is given in code", function()
    dir = tmpdir()
    write(dir .. "/.aws/credentials", "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n")
    write(dir .. "/token", "web-token")
    local c = resolver{ profile = "dev", getenv = envt{ HOME = dir, AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/token",
      AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/r", AWS_ENDPOINT_URL_STS = "http://127.0.0.1:9" } }:get()
    assert.are.equal("AKIDDEV", c.access_key_id)
  end)
end)
