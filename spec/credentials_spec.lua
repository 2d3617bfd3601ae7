-- The credential chain resolves keys the way the AWS CLI does, lazily on
-- the first call: explicit -> environment -> assume-role -> web identity ->
-- shared credentials file -> credential_process -> config file ->
-- container -> instance metadata. Temporary credentials are cached and
-- refreshed ahead of expiry, once. Local stand-ins on 127.0.0.1 play IMDS,
-- the container endpoint and STS; nothing reaches a real metadata address.

local aws_connect = require("aws_connect")
local credentials = require("aws_connect.credentials")
local container = require("aws_connect.providers.container")
local sts = require("aws_connect.providers.sts")
local errors = aws_connect.errors
local fm = require("spec.support.fake_metadata")
local fake = require("spec.support.fake_server")
local helpers = require("spec.support.helpers")

local T2030 = 1893456000 -- 2030-01-01T00:00:00Z

local write, rmdir = helpers.write, helpers.rmdir
local function tmpdir() return helpers.tmpdir("cred", ".aws") end

-- environment for a client: IMDS off unless the test points it somewhere
local envt = helpers.envt

local resolver_of, creds_of, cred_error = helpers.resolver_of, helpers.creds_of, helpers.cred_error

local function by_channel(reqs, channel)
  local out = {}
  for _, r in ipairs(reqs) do if r.channel == channel then out[#out + 1] = r end end
  return out
end

local header = helpers.header

local srv

setup(function()
  srv = fm.start()
  sts.retry_delay = 0.01
  container.retry_delay = 0.01
end)

teardown(function()
  if srv then srv:stop() end
  sts.retry_delay = 0.2
  container.retry_delay = 1
end)

before_each(function()
  srv:reset()
  container.base_url = srv.endpoint
end)

after_each(function()
  container.base_url = "http://169.254.170.2"
end)

describe("explicit credentials", function()
  it("win over every other source", function()
    local c = creds_of{ credentials = { access_key_id = "AKIDX", secret_access_key = "sx" },
      getenv = envt{ AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "se" } }
    assert.are.equal("AKIDX", c.access_key_id)
    assert.are.equal("credentials option", c.source)
  end)

  it("may be a function, called lazily on the first call", function()
    local calls = 0
    local client = aws_connect.new{ region = "us-east-1", getenv = envt(), credentials = function()
      calls = calls + 1
      return { access_key_id = "AKIDF", secret_access_key = "sf", session_token = "tf" }
    end }
    assert.are.equal(0, calls)
    local c = resolver_of(client):get()
    assert.are.equal(1, calls)
    assert.are.equal("tf", c.session_token)
    resolver_of(client):get()
    assert.are.equal(1, calls)
  end)
end)

describe("the environment provider", function()
  it("reads the keys, the token (AWS_SECURITY_TOKEN first), expiration and account id", function()
    local c = creds_of{ getenv = envt{ AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "se",
      AWS_SESSION_TOKEN = "session", AWS_SECURITY_TOKEN = "security",
      AWS_CREDENTIAL_EXPIRATION = "2030-01-01T01:00:00Z", AWS_ACCOUNT_ID = "111122223333" },
      clock = function() return T2030 end }
    assert.are.equal("AKIDENV", c.access_key_id)
    assert.are.equal("security", c.session_token)
    assert.are.equal(T2030 + 3600, c.expiration)
    assert.are.equal("111122223333", c.account_id)
    assert.are.equal("environment", c.source)
    c = creds_of{ getenv = envt{ AWS_ACCESS_KEY_ID = "A", AWS_SECRET_ACCESS_KEY = "s", AWS_SESSION_TOKEN = "st" } }
    assert.are.equal("st", c.session_token)
  end)

  it("raises on half a key pair and on an unreadable expiration", function()
    local e = cred_error{ getenv = envt{ AWS_ACCESS_KEY_ID = "AKIDENV" } }
    assert.is_truthy(e.message:find("AWS_SECRET_ACCESS_KEY", 1, true))
    e = cred_error{ getenv = envt{ AWS_ACCESS_KEY_ID = "A", AWS_SECRET_ACCESS_KEY = "s",
      AWS_CREDENTIAL_EXPIRATION = "tomorrow" } }
    assert.is_truthy(e.message:find("AWS_CREDENTIAL_EXPIRATION", 1, true))
  end)

  it("is skipped when the profile is chosen in code", function()
    local dir = tmpdir()
    finally(function() rmdir(dir) end)
    write(dir .. "/.aws/credentials", "[p]\naws_access_key_id = AKIDFILE\naws_secret_access_key = sf\n")
    local env = envt{ HOME = dir, AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "se" }
    assert.are.equal("AKIDFILE", creds_of{ profile = "p", getenv = env }.access_key_id)
    env.AWS_PROFILE = "p"
    assert.are.equal("AKIDENV", creds_of{ getenv = env }.access_key_id)
  end)
end)

describe("profile files", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() rmdir(dir) end)

  it("give keys from the credentials file before the config file", function()
    write(dir .. "/.aws/credentials", "[default]\naws_access_key_id = AKIDCRED\naws_secret_access_key = sc\n"
      .. "aws_session_token = tc\n")
    write(dir .. "/.aws/config", "[default]\naws_access_key_id = AKIDCONF\naws_secret_access_key = so\n")
    local c = creds_of{ getenv = envt{ HOME = dir } }
    assert.are.equal("AKIDCRED", c.access_key_id)
    assert.are.equal("tc", c.session_token)
    assert.are.equal("shared credentials file", c.source)
    write(dir .. "/.aws/credentials", "[other]\naws_access_key_id = X\naws_secret_access_key = Y\n")
    c = creds_of{ getenv = envt{ HOME = dir } }
    assert.are.equal("AKIDCONF", c.access_key_id)
    assert.are.equal("config file", c.source)
  end)

  it("reject half a key pair without quoting the key", function()
    write(dir .. "/.aws/credentials", "[default]\naws_secret_access_key = VERYSECRET\n")
    local e = cred_error{ getenv = envt{ HOME = dir } }
    assert.is_truthy(e.message:find("aws_access_key_id is missing", 1, true))
    assert.is_nil(tostring(e):find("VERYSECRET", 1, true))
  end)
end)

describe("credential_process", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() rmdir(dir) end)

  local function profile_with(script)
    write(dir .. "/tool.sh", script)
    write(dir .. "/.aws/config", "[default]\ncredential_process = sh " .. dir .. "/tool.sh --flag 'a b'\n")
    return envt{ HOME = dir }
  end

  it("runs the command and reads Version 1 JSON, with arguments passed through the shell", function()
    local env = profile_with('[ "$2" = "a b" ] || exit 3\n'
      .. 'printf \'{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "sp",'
      .. ' "SessionToken": "tp", "Expiration": "2030-01-01T02:00:00Z", "AccountId": "999"}\'\n')
    local c = creds_of{ getenv = env, clock = function() return T2030 end }
    assert.are.equal("AKIDPROC", c.access_key_id)
    assert.are.equal("tp", c.session_token)
    assert.are.equal(T2030 + 7200, c.expiration)
    assert.are.equal("999", c.account_id)
    assert.are.equal("credential_process", c.source)
  end)

  it("gives credentials that never expire when there is no Expiration", function()
    local env = profile_with('echo \'{"Version":1,"AccessKeyId":"A","SecretAccessKey":"s"}\'\n')
    local c = creds_of{ getenv = env }
    assert.is_nil(c.expiration)
    assert.is_nil(c.session_token)
  end)

  it("reports a non-zero exit status without quoting the output", function()
    local env = profile_with('echo \'{"Version":1,"AccessKeyId":"A","SecretAccessKey":"LEAKED"}\'\nexit 7\n')
    local e = cred_error{ getenv = env }
    assert.is_truthy(e.message:find("exited with status 7", 1, true))
    assert.is_nil(tostring(e):find("LEAKED", 1, true))
  end)

  it("rejects output that is not JSON or has another Version", function()
    local e = cred_error{ getenv = profile_with("echo SECRET-not-json\n") }
    assert.is_truthy(e.message:find("did not print a JSON object", 1, true))
    assert.is_nil(e.message:find("SECRET", 1, true))
    e = cred_error{ getenv = profile_with('echo \'{"Version":2,"AccessKeyId":"A","SecretAccessKey":"s"}\'\n') }
    assert.is_truthy(e.message:find("unsupported Version 2", 1, true))
    e = cred_error{ getenv = profile_with('echo \'{"Version":1,"SecretAccessKey":"s"}\'\n') }
    assert.is_truthy(e.message:find("no AccessKeyId", 1, true))
  end)

  it("comes after the credentials file and before the config file's keys", function()
    profile_with('echo \'{"Version":1,"AccessKeyId":"AKIDPROC","SecretAccessKey":"s"}\'\n')
    write(dir .. "/.aws/config", "[default]\ncredential_process = sh " .. dir .. "/tool.sh\n"
      .. "aws_access_key_id = AKIDCONF\naws_secret_access_key = s\n")
    assert.are.equal("AKIDPROC", creds_of{ getenv = envt{ HOME = dir } }.access_key_id)
    write(dir .. "/.aws/credentials", "[default]\naws_access_key_id = AKIDCRED\naws_secret_access_key = s\n")
    assert.are.equal("AKIDCRED", creds_of{ getenv = envt{ HOME = dir } }.access_key_id)
  end)
end)

describe("assume-role", function()
  local dir
  before_each(function()
    dir = tmpdir()
    srv:config{ sts_secrets = { AKIDBASE = "base-secret", ASIAFAKE0001 = "secret-1" }, sts_region = "eu-west-1" }
  end)
  after_each(function() rmdir(dir) end)

  local function env(extra)
    local e = envt{ HOME = dir, AWS_ENDPOINT_URL_STS = srv.endpoint }
    for k, v in pairs(extra or {}) do e[k] = v end
    return e
  end

  it("signs AssumeRole with the source profile's keys and returns the role's credentials", function()
    write(dir .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\n"
      .. "source_profile = base\nrole_session_name = my-session\nexternal_id = ext-1\nduration_seconds = 1800\n")
    write(dir .. "/.aws/credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n")
    local c = creds_of{ region = "eu-west-1", profile = "dev", getenv = env(), clock = function() return T2030 end }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal("secret-1", c.secret_access_key)
    assert.are.equal("token-1", c.session_token)
    assert.are.equal(4070908800, c.expiration)
    assert.are.equal("123456789012", c.account_id)
    assert.are.equal("assume-role", c.source)
    local r = by_channel(srv:requests(), "sts")
    assert.are.equal(1, #r)
    assert.is_true(r[1].signature_valid, r[1].signature_check)
    assert.are.equal("AssumeRole", r[1].params.Action)
    assert.are.equal("arn:aws:iam::123456789012:role/dev", r[1].params.RoleArn)
    assert.are.equal("my-session", r[1].params.RoleSessionName)
    assert.are.equal("ext-1", r[1].params.ExternalId)
    assert.are.equal("1800", r[1].params.DurationSeconds)
    assert.is_truthy(header(r[1], "Authorization"):find("/eu-west-1/sts/aws4_request", 1, true))
  end)

  it("comes before the shared credentials file, using a profile's own keys as its source", function()
    write(dir .. "/.aws/credentials", "[default]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
      .. "role_arn = arn:aws:iam::1:role/self\nsource_profile = default\n")
    local c = creds_of{ region = "eu-west-1", getenv = env() }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.is_true(by_channel(srv:requests(), "sts")[1].signature_valid)
  end)

  it("follows a chain of roles, signing each call with the previous role's credentials", function()
    write(dir .. "/.aws/config", "[profile top]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = mid\n"
      .. "[profile mid]\nrole_arn = arn:aws:iam::1:role/mid\nsource_profile = base\n"
      .. "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n")
    local c = creds_of{ region = "eu-west-1", profile = "top", getenv = env() }
    assert.are.equal("ASIAFAKE0002", c.access_key_id)
    local r = by_channel(srv:requests(), "sts")
    assert.are.equal(2, #r)
    assert.are.equal("arn:aws:iam::1:role/mid", r[1].params.RoleArn)
    assert.are.equal("arn:aws:iam::1:role/top", r[2].params.RoleArn)
    assert.is_truthy(header(r[2], "Authorization"):find("Credential=ASIAFAKE0001/", 1, true))
    assert.are.equal("token-1", header(r[2], "X-Amz-Security-Token"))
    assert.is_true(r[2].signature_valid, r[2].signature_check)
  end)

  it("detects a loop of source profiles before calling STS", function()
    write(dir .. "/.aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
      .. "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n")
    local e = cred_error{ profile = "a", getenv = env() }
    assert.is_truthy(e.message:find("a -> b -> a", 1, true))
    assert.are.equal(0, #srv:requests())
  end)

  it("rejects bad role profiles before calling STS", function()
    write(dir .. "/.aws/config", "[profile none]\nrole_arn = arn:aws:iam::1:role/x\n"
      .. "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\ncredential_source = Environment\n"
      .. "[profile mfa]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\nmfa_serial = arn:aws:iam::1:mfa/u\n"
      .. "[profile missing]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = nowhere\n"
      .. "[profile empty]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\n"
      .. "[profile odd]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Somewhere\n"
      .. "[profile dur]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\nduration_seconds = 60\n"
      .. "[profile b]\nregion = us-east-1\n")
    local want = {
      none = "needs source_profile or credential_source", both = "both set", mfa = "mfa_serial",
      missing = 'source_profile "nowhere" does not exist', empty = 'source_profile "b" has no credentials',
      odd = "credential_source Somewhere is not supported", dur = "duration_seconds must be",
    }
    for p, msg in pairs(want) do
      local e = cred_error{ profile = p, getenv = env{ AWS_ACCESS_KEY_ID = "AKIDBASE", AWS_SECRET_ACCESS_KEY = "s" } }
      assert.is_truthy(e.message:find(msg, 1, true), p .. ": " .. e.message)
    end
    assert.are.equal(0, #srv:requests())
  end)

  it("takes source credentials from credential_source Environment, EcsContainer and Ec2InstanceMetadata", function()
    write(dir .. "/.aws/config", "[profile e]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = Environment\n"
      .. "[profile c]\nrole_arn = arn:aws:iam::1:role/c\ncredential_source = EcsContainer\n"
      .. "[profile i]\nrole_arn = arn:aws:iam::1:role/i\ncredential_source = Ec2InstanceMetadata\n")
    local c = creds_of{ region = "eu-west-1", profile = "e",
      getenv = env{ AWS_ACCESS_KEY_ID = "AKIDBASE", AWS_SECRET_ACCESS_KEY = "base-secret" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)

    srv:reset()
    srv:config{ sts_secrets = { ASIAFAKE0001 = "secret-1" } }
    c = creds_of{ region = "eu-west-1", profile = "c", getenv = env{ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/v2/x" } }
    assert.are.equal("ASIAFAKE0002", c.access_key_id)
    local reqs = srv:requests()
    assert.are.same({ "container", "sts" }, { reqs[1].channel, reqs[2].channel })
    assert.is_true(reqs[2].signature_valid)

    srv:reset()
    srv:config{ sts_secrets = { ASIAFAKE0001 = "secret-1" } }
    c = creds_of{ region = "eu-west-1", profile = "i", getenv = env{ AWS_EC2_METADATA_DISABLED = false,
      AWS_EC2_METADATA_SERVICE_ENDPOINT = srv.endpoint } }
    assert.are.equal("ASIAFAKE0002", c.access_key_id)
    assert.is_true(by_channel(srv:requests(), "sts")[1].signature_valid)
  end)

  it("turns an STS error into a CredentialsError with the STS code, status and request id, without retrying", function()
    write(dir .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\ncredential_source = Environment\n")
    srv:config{ sts_error = { status = 403, code = "AccessDenied", message = "User is not authorized & <denied>" } }
    local e = cred_error{ profile = "dev", getenv = env{ AWS_ACCESS_KEY_ID = "AKIDBASE", AWS_SECRET_ACCESS_KEY = "base-secret" } }
    assert.are.equal("AccessDenied", e.sts_code)
    assert.are.equal(403, e.status)
    assert.are.equal("req-sts-err", e.request_id)
    assert.are.equal("credentials", e.kind)
    assert.is_truthy(e.message:find("AccessDenied: User is not authorized & <denied>", 1, true))
    assert.is_nil(tostring(e):find("base-secret", 1, true))
    assert.are.equal(1, #srv:requests())
  end)

  it("retries throttling and server errors", function()
    write(dir .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\ncredential_source = Environment\n")
    srv:script("sts", { { status = 500, body = "<html>oops</html>" },
      { status = 400, body = "<ErrorResponse><Error><Code>Throttling</Code><Message>slow</Message></Error></ErrorResponse>" } })
    local c = creds_of{ region = "eu-west-1", profile = "dev",
      getenv = env{ AWS_ACCESS_KEY_ID = "AKIDBASE", AWS_SECRET_ACCESS_KEY = "base-secret" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal(3, #srv:requests())
  end)

  it("reads credentials from unusual but valid XML (prefixes, CDATA, entities, comments)", function()
    srv:config{ sts_xml_style = "odd" }
    write(dir .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\ncredential_source = Environment\n")
    local c = creds_of{ region = "eu-west-1", profile = "dev",
      getenv = env{ AWS_ACCESS_KEY_ID = "AKIDBASE", AWS_SECRET_ACCESS_KEY = "base-secret" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal("secret-1&<x>", c.secret_access_key)
    assert.are.equal("token-1", c.session_token)
    assert.are.equal(4070908800, c.expiration)
  end)

  it("rejects a 200 answer without credentials", function()
    write(dir .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\ncredential_source = Environment\n")
    srv:script("sts", { { status = 200, body = "<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>" } })
    local e = cred_error{ profile = "dev", getenv = env{ AWS_ACCESS_KEY_ID = "AKIDBASE", AWS_SECRET_ACCESS_KEY = "b" } }
    assert.is_truthy(e.message:find("no Credentials element", 1, true))
  end)

  it("uses the regional STS endpoint, or the [services] sts endpoint_url", function()
    local ctx = { cfg = { region = "cn-north-1" }, getenv = function() return nil end, files = { profiles = {} },
      profile_name = "default" }
    assert.are.equal("https://sts.cn-north-1.amazonaws.com.cn", sts.endpoint(ctx))
    ctx.cfg = { region = "us-east-1", use_fips = true }
    assert.are.equal("https://sts-fips.us-east-1.amazonaws.com", sts.endpoint(ctx))
    write(dir .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\ncredential_source = Environment\n"
      .. "services = local\n[services local]\nsts =\n  endpoint_url = " .. srv.endpoint .. "\n")
    local c = creds_of{ region = "eu-west-1", profile = "dev",
      getenv = envt{ HOME = dir, AWS_ACCESS_KEY_ID = "AKIDBASE", AWS_SECRET_ACCESS_KEY = "base-secret" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
  end)
end)

describe("web identity", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() rmdir(dir) end)

  it("calls AssumeRoleWithWebIdentity unsigned with the token file and role from the environment", function()
    write(dir .. "/token", "jwt-1\n")
    srv:config{ web_identity_token = "jwt-1" }
    local c = creds_of{ getenv = envt{ AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/token",
      AWS_ROLE_ARN = "arn:aws:iam::1:role/pod", AWS_ROLE_SESSION_NAME = "pod-session",
      AWS_ENDPOINT_URL_STS = srv.endpoint } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal("web identity", c.source)
    local r = srv:requests()[1]
    assert.are.equal("AssumeRoleWithWebIdentity", r.params.Action)
    assert.are.equal("arn:aws:iam::1:role/pod", r.params.RoleArn)
    assert.are.equal("pod-session", r.params.RoleSessionName)
    assert.are.equal("jwt-1", r.params.WebIdentityToken)
    assert.is_nil(header(r, "Authorization"))
  end)

  it("reads the profile's keys and re-reads the token file on every refresh", function()
    write(dir .. "/token", "jwt-1")
    write(dir .. "/.aws/config", "[default]\nweb_identity_token_file = " .. dir .. "/token\n"
      .. "role_arn = arn:aws:iam::1:role/p\nrole_session_name = s1\n")
    srv:config{ expiration = "2030-01-01T01:00:00Z" }
    local now = T2030
    local client = aws_connect.new{ region = "us-east-1", clock = function() return now end,
      getenv = envt{ HOME = dir, AWS_ENDPOINT_URL_STS = srv.endpoint } }
    local r = resolver_of(client)
    assert.are.equal("ASIAFAKE0001", r:get().access_key_id)
    write(dir .. "/token", "jwt-2")
    now = T2030 + 3600 - 300
    assert.are.equal("ASIAFAKE0002", r:get().access_key_id)
    local reqs = srv:requests()
    assert.are.equal("jwt-1", reqs[1].params.WebIdentityToken)
    assert.are.equal("jwt-2", reqs[2].params.WebIdentityToken)
    assert.are.equal("s1", reqs[2].params.RoleSessionName)
  end)

  it("raises InvalidIdentityToken as a CredentialsError, and a missing role ARN before any call", function()
    write(dir .. "/token", "bad-token")
    srv:config{ web_identity_token = "good" }
    local e = cred_error{ getenv = envt{ AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/token",
      AWS_ROLE_ARN = "arn:aws:iam::1:role/pod", AWS_ENDPOINT_URL_STS = srv.endpoint } }
    assert.are.equal("InvalidIdentityToken", e.sts_code)
    srv:reset()
    e = cred_error{ getenv = envt{ AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/token", AWS_ENDPOINT_URL_STS = srv.endpoint } }
    assert.is_truthy(e.message:find("no role ARN", 1, true))
    e = cred_error{ getenv = envt{ AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/absent", AWS_ROLE_ARN = "arn:x",
      AWS_ENDPOINT_URL_STS = srv.endpoint } }
    assert.is_truthy(e.message:find("cannot read the token file", 1, true))
    assert.are.equal(0, #srv:requests())
  end)
end)

describe("the container provider", function()
  it("GETs the relative URI from the container host with the authorization token", function()
    srv:config{ container_token = "Bearer abc" }
    local c = creds_of{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/v2/credentials/uuid",
      AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://127.0.0.1:1/never", AWS_CONTAINER_AUTHORIZATION_TOKEN = "Bearer abc" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal("token-1", c.session_token)
    assert.are.equal("123456789012", c.account_id)
    assert.are.equal("container", c.source)
    local r = srv:requests()
    assert.are.equal(1, #r)
    assert.are.equal("/v2/credentials/uuid", r[1].path)
  end)

  it("uses a loopback FULL_URI and prefers the token file to the token variable", function()
    local tf = os.tmpname()
    finally(function() os.remove(tf) end)
    write(tf, "from-file\n")
    srv:config{ container_token = "from-file" }
    local c = creds_of{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.endpoint .. "/pod",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = tf, AWS_CONTAINER_AUTHORIZATION_TOKEN = "from-env" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal("from-file", srv:requests()[1].authorization)
  end)

  it("refuses a FULL_URI over http to a host that is not allowed, without sending", function()
    local e = cred_error{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://example.com/creds" } }
    assert.is_truthy(e.message:find("neither a loopback address", 1, true))
    assert.is_true(container.allowed_full_uri("https://example.com/creds"))
    assert.is_true(container.allowed_full_uri("http://169.254.170.23/v1/credentials"))
    assert.is_true(container.allowed_full_uri("http://[fd00:ec2::23]/v1/credentials"))
    assert.is_true(container.allowed_full_uri("http://localhost:8080/x"))
    assert.is_true(container.allowed_full_uri("http://127.9.9.9/x"))
    assert.is_true(container.allowed_full_uri("http://[::1]:80/x"))
    assert.is_false(container.allowed_full_uri("http://169.254.169.254/x"))
    assert.is_false(container.allowed_full_uri("ftp://127.0.0.1/x"))
  end)

  it("tries three times, then raises naming the last failure", function()
    srv:script("container", { { status = 500, body = "{}" }, { status = 503, body = "{}" } })
    local c = creds_of{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.endpoint .. "/x" } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal(3, #srv:requests())
    srv:reset()
    srv:config{ container_token = "right" }
    local e = cred_error{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.endpoint .. "/x",
      AWS_CONTAINER_AUTHORIZATION_TOKEN = "wrong" } }
    assert.is_truthy(e.message:find("after 3 attempts: HTTP 401: bad authorization token", 1, true))
    assert.are.equal(3, #srv:requests())
  end)

  it("rejects a token with a line break inside", function()
    local e = cred_error{ getenv = envt{ AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.endpoint .. "/x",
      AWS_CONTAINER_AUTHORIZATION_TOKEN = "a\nb" } }
    assert.is_truthy(e.message:find("line break", 1, true))
    assert.are.equal(0, #srv:requests())
  end)
end)

describe("the instance metadata provider", function()
  local function imds_env(extra)
    local e = envt{ AWS_EC2_METADATA_DISABLED = false, AWS_EC2_METADATA_SERVICE_ENDPOINT = srv.endpoint .. "/" }
    for k, v in pairs(extra or {}) do e[k] = v end
    return e
  end

  it("gets a token, the role name and the role's credentials (IMDSv2)", function()
    local c = creds_of{ getenv = imds_env() }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.are.equal("token-1", c.session_token)
    assert.are.equal("instance metadata", c.source)
    local r = srv:requests()
    assert.are.same({ "imds_token", "imds_role", "imds_creds" }, { r[1].channel, r[2].channel, r[3].channel })
    assert.are.equal("PUT", r[1].method)
    assert.are.equal("21600", header(r[1], "x-aws-ec2-metadata-token-ttl-seconds"))
    assert.are.equal("imds-token-1", r[2].token)
    assert.are.equal("imds-token-1", r[3].token)
    assert.are.equal("/latest/meta-data/iam/security-credentials/fake-role", r[3].path)
  end)

  it("falls back to IMDSv1 when the token call answers 405, unless IMDSv1 is disabled", function()
    srv:config{ imds_token_status = 405, imds_v2_required = false }
    local c = creds_of{ getenv = imds_env() }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    assert.is_nil(srv:requests()[3].token)
    local e = cred_error{ getenv = imds_env{ AWS_EC2_METADATA_V1_DISABLED = "true" } }
    assert.is_truthy(e.message:find("IMDSv1 is disabled", 1, true))
  end)

  it("sends each request once with 1 s timeouts, through the client's transport", function()
    local curl = require("aws_connect.transport.curl").new()
    finally(function() curl:close() end)
    local seen = {}
    local recording = { request = function(_, req)
      seen[#seen + 1] = req
      return curl:request(req)
    end }
    local client = aws_connect.new{ region = "us-east-1", getenv = imds_env(), transport = recording }
    assert.are.equal("ASIAFAKE0001", resolver_of(client):get().access_key_id)
    assert.are.equal(3, #seen)
    for _, req in ipairs(seen) do
      assert.are.equal(1, req.connect_timeout)
      assert.are.equal(1, req.timeout)
      assert.are.equal("", req.proxy)
    end
  end)

  it("falls back to IMDSv1 when the token request times out", function()
    srv:config{ imds_v2_required = false }
    srv:script("imds_token", { { delay = 1.5, status = 200, body = "late-token" } })
    local c = creds_of{ getenv = imds_env() }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
    local r = srv:requests()
    assert.are.equal(3, #r)
    assert.is_nil(r[2].token)
  end)

  it("does not apply when no role is attached or the service is unreachable", function()
    srv:config{ imds_role = "" }
    local e = cred_error{ getenv = imds_env() }
    assert.is_truthy(e.message:find("no IAM role is attached", 1, true))
    -- a port nobody listens on: the provider does not apply, the chain ends
    local closed = fm.start()
    local url = closed.endpoint
    closed:stop()
    e = cred_error{ getenv = imds_env{ AWS_EC2_METADATA_SERVICE_ENDPOINT = url } }
    assert.is_truthy(e.message:find("instance metadata: " .. url .. " not reachable", 1, true))
  end)

  it("is turned off by AWS_EC2_METADATA_DISABLED and reads its endpoint from the profile", function()
    local e = cred_error{ getenv = imds_env{ AWS_EC2_METADATA_DISABLED = "TRUE" } }
    assert.is_truthy(e.message:find("disabled by AWS_EC2_METADATA_DISABLED", 1, true))
    assert.are.equal(0, #srv:requests())
    local dir = tmpdir()
    finally(function() rmdir(dir) end)
    write(dir .. "/.aws/config", "[default]\nec2_metadata_service_endpoint = " .. srv.endpoint .. "\n")
    local c = creds_of{ getenv = envt{ HOME = dir, AWS_EC2_METADATA_DISABLED = false } }
    assert.are.equal("ASIAFAKE0001", c.access_key_id)
  end)

  it("pushes out the expiry of credentials that arrive nearly expired", function()
    srv:config{ expiration = "2030-01-01T00:05:00Z" }
    local c = creds_of{ getenv = imds_env(), clock = function() return T2030 end }
    assert.is_true(c.expiration >= T2030 + 15 * 60 + 120 and c.expiration <= T2030 + 15 * 60 + 600, tostring(c.expiration))
  end)

  it("signs a client's calls with the instance role's credentials", function()
    local connect = fake.start{ access_key = "ASIAFAKE0001", secret_key = "secret-1", session_token = "token-1" }
    finally(function() connect:stop() end)
    local client = aws_connect.new{ region = "us-east-1", endpoint = connect.endpoint, getenv = imds_env() }
    assert.are.equal(0, #srv:requests()) -- nothing before the first call
    local inst = client:create_instance{ identity_management_type = "CONNECT_MANAGED",
      inbound_calls_enabled = true, outbound_calls_enabled = false }
    assert.is_string(inst.id)
    assert.is_true(connect:requests()[1].signature_valid)
    assert.are.equal(3, #srv:requests())
  end)
end)

describe("the chain", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() rmdir(dir) end)

  it("takes the first source that answers, in the documented order", function()
    write(dir .. "/token", "jwt-0")
    write(dir .. "/tool.sh", 'echo \'{"Version":1,"AccessKeyId":"AKIDPROC","SecretAccessKey":"s"}\'\n')
    local role_conf = "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = r\n"
      .. "aws_access_key_id = AKIDR\naws_secret_access_key = sr\n"
    local full_conf = "[default]\ncredential_process = sh " .. dir .. "/tool.sh\n"
      .. "aws_access_key_id = AKIDCONF\naws_secret_access_key = s\n" .. role_conf
    write(dir .. "/.aws/config", full_conf)
    write(dir .. "/.aws/credentials", "[default]\naws_access_key_id = AKIDCRED\naws_secret_access_key = s\n")
    srv:config{ sts_secrets = { AKIDR = "sr" } }
    local env = envt{ HOME = dir, AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "s",
      AWS_PROFILE = "r", AWS_ENDPOINT_URL_STS = srv.endpoint,
      AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/token", AWS_ROLE_ARN = "arn:aws:iam::1:role/w",
      AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.endpoint .. "/c",
      AWS_EC2_METADATA_DISABLED = false, AWS_EC2_METADATA_SERVICE_ENDPOINT = srv.endpoint }
    local function source() srv:reset(); srv:config{ sts_secrets = { AKIDR = "sr" } }; return creds_of{ getenv = env }.source end
    assert.are.equal("environment", source())
    env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY = nil, nil
    assert.are.equal("assume-role", source())
    env.AWS_PROFILE = nil
    assert.are.equal("web identity", source())
    env.AWS_WEB_IDENTITY_TOKEN_FILE = nil
    assert.are.equal("shared credentials file", source())
    os.remove(dir .. "/.aws/credentials")
    assert.are.equal("credential_process", source())
    write(dir .. "/.aws/config", full_conf:gsub("credential_process[^\n]*\n", ""))
    assert.are.equal("config file", source())
    os.remove(dir .. "/.aws/config")
    assert.are.equal("container", source())
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI = nil
    assert.are.equal("instance metadata", source())
  end)

  it("that finds nothing raises one CredentialsError listing every source tried", function()
    local e = cred_error{ getenv = envt() }
    for _, what in ipairs{ "environment:", "assume-role:", "web identity:", "shared credentials file:",
      "credential_process:", "config file:", "container:", "instance metadata:" } do
      assert.is_truthy(e.message:find(what, 1, true), what)
    end
    assert.are.equal("credentials", e.kind)
  end)

  it("is walked lazily: neither require nor new() loads a provider or reads a credential", function()
    local lua = arg and arg[-1] or "lua5.4"
    local p = assert(io.popen(lua .. " -e 'local a = require(\"aws_connect\"); "
      .. "local n = 0; local c = a.new{ region = \"us-east-1\", getenv = { AWS_EC2_METADATA_SERVICE_ENDPOINT = \"x\" } }; "
      .. "for k in pairs(package.loaded) do if k:find(\"providers\") then n = n + 1 end end; print(n)' 2>&1"))
    local out = p:read("*a")
    p:close()
    assert.are.equal("0\n", out)
  end)
end)

describe("refresh", function()
  local function counting(results)
    local n = 0
    return { {
      name = "test",
      fetch = function()
        n = n + 1
        local r = results[n]
        if type(r) == "string" then errors.raise("CredentialsError", r) end
        return r
      end,
    } }, function() return n end
  end

  it("keeps credentials until 15 minutes before expiry and refreshes once when many calls need it", function()
    local now = 0
    local chain, count = counting{
      { access_key_id = "A1", secret_access_key = "s", expiration = 3600 },
      { access_key_id = "A2", secret_access_key = "s", expiration = 7200 },
    }
    local r = credentials.resolver({}, function() return nil end, function() return now end, chain)
    assert.are.equal("A1", r:get().access_key_id)
    now = 3600 - 901
    assert.are.equal("A1", r:get().access_key_id)
    assert.are.equal(1, count())
    now = 3600 - 899
    for _ = 1, 5 do assert.are.equal("A2", r:get().access_key_id) end
    assert.are.equal(2, count())
  end)

  it("keeps the valid credentials when an advisory refresh fails, and raises when a mandatory one fails", function()
    local now, logs = 0, {}
    local chain, count = counting{
      { access_key_id = "A1", secret_access_key = "SECRET1", expiration = 3600 },
      "STS unavailable", "STS still unavailable",
      { access_key_id = "A2", secret_access_key = "s", expiration = 7200 },
    }
    local r = credentials.resolver({}, function() return nil end, function() return now end, chain,
      { log = function(level, msg) logs[#logs + 1] = level .. " " .. msg end })
    r:get()
    now = 3600 - 700 -- advisory window
    assert.are.equal("A1", r:get().access_key_id)
    assert.are.equal(2, count())
    assert.is_truthy(logs[#logs]:find("^warn advisory credentials refresh failed"))
    assert.is_nil(table.concat(logs, "\n"):find("SECRET1", 1, true))
    now = 3600 - 500 -- mandatory window
    local ok, e = pcall(r.get, r)
    assert.is_false(ok)
    assert.are.equal("STS still unavailable", e.message)
    assert.are.equal("A2", r:get().access_key_id)
    assert.are.equal(4, count())
  end)

  it("uses the client's injected clock", function()
    local now = T2030
    local n = 0
    local client = aws_connect.new{ region = "us-east-1", getenv = {}, clock = function() return now end,
      credentials = function()
        n = n + 1
        return { access_key_id = "F" .. n, secret_access_key = "s", expiration = T2030 + 3600 * n }
      end }
    local r = resolver_of(client)
    assert.are.equal("F1", r:get().access_key_id)
    now = T2030 + 3600 - 60
    assert.are.equal("F2", r:get().access_key_id)
  end)

  local yieldable = not (_VERSION == "Lua 5.1" and not jit) -- PUC 5.1 cannot yield across pcall

  it("lets concurrent callers wait for the refresh in progress instead of starting another", function()
    if not yieldable then pending("PUC Lua 5.1 cannot yield across pcall") return end
    local fetches = 0
    local chain = { {
      name = "slow",
      fetch = function()
        fetches = fetches + 1
        coroutine.yield("in-flight") -- a cosocket read would yield here
        return { access_key_id = "AK" .. fetches, secret_access_key = "s", expiration = 1e10 }
      end,
    } }
    local yields = 0
    local r = credentials.resolver({}, function() return nil end, function() return 0 end, chain,
      { yield = function() yields = yields + 1; coroutine.yield("waiting") end })
    local results = {}
    local co1 = coroutine.create(function() results[1] = r:get() end)
    local co2 = coroutine.create(function() results[2] = r:get() end)
    local co3 = coroutine.create(function() results[3] = r:get() end)
    assert.are.same({ true, "in-flight" }, { coroutine.resume(co1) })
    assert.is_true(r.refreshing)
    assert.are.same({ true, "waiting" }, { coroutine.resume(co2) })
    assert.are.same({ true, "waiting" }, { coroutine.resume(co3) })
    assert.are.same({ true, "waiting" }, { coroutine.resume(co2) })
    assert.is_true(coroutine.resume(co1))
    assert.is_true(coroutine.resume(co2))
    assert.is_true(coroutine.resume(co3))
    assert.are.equal("dead", coroutine.status(co2))
    assert.are.equal(1, fetches)
    assert.are.equal("AK1", results[1].access_key_id)
    assert.are.equal(results[1], results[2])
    assert.are.equal(results[1], results[3])
    assert.are.equal(3, yields)
  end)

  it("refreshes by itself when env.yield says it cannot wait", function()
    if not yieldable then pending("PUC Lua 5.1 cannot yield across pcall") return end
    local fetches, yields = 0, 0
    local chain = { {
      name = "slow",
      fetch = function()
        fetches = fetches + 1
        if fetches == 1 then coroutine.yield() end
        return { access_key_id = "AK" .. fetches, secret_access_key = "s" }
      end,
    } }
    local r = credentials.resolver({}, function() return nil end, function() return 0 end, chain,
      { yield = function() yields = yields + 1; return false end })
    local co = coroutine.create(function() return r:get() end)
    coroutine.resume(co)
    assert.are.equal("AK2", r:get().access_key_id)
    assert.are.equal(1, yields)
    assert.are.equal(2, fetches)
  end)

  it("gives waiting callers the error of a failed refresh", function()
    if not yieldable then pending("PUC Lua 5.1 cannot yield across pcall") return end
    local chain = { {
      name = "failing",
      fetch = function()
        coroutine.yield()
        errors.raise("CredentialsError", "refresh failed")
      end,
    } }
    local r = credentials.resolver({}, function() return nil end, function() return 0 end, chain,
      { yield = function() coroutine.yield() end })
    local errs = {}
    local co1 = coroutine.create(function() local ok, e = pcall(r.get, r); errs[1] = not ok and e end)
    local co2 = coroutine.create(function() local ok, e = pcall(r.get, r); errs[2] = not ok and e end)
    coroutine.resume(co1)
    coroutine.resume(co2)
    coroutine.resume(co1)
    coroutine.resume(co2)
    assert.are.equal("refresh failed", errs[1].message)
    assert.are.equal(errs[1], errs[2])
    assert.is_false(r.refreshing)
  end)

  it("gives the current credentials at once to callers during an advisory refresh", function()
    if not yieldable then pending("PUC Lua 5.1 cannot yield across pcall") return end
    local now, n = 0, 0
    local chain = { {
      name = "slow",
      fetch = function()
        n = n + 1
        if n > 1 then coroutine.yield() end
        return { access_key_id = "AK" .. n, secret_access_key = "s", expiration = 3600 * n }
      end,
    } }
    local r = credentials.resolver({}, function() return nil end, function() return now end, chain,
      { yield = function() error("must not wait") end })
    r:get()
    now = 3600 - 800
    local co = coroutine.create(function() return r:get() end)
    coroutine.resume(co)
    assert.are.equal("AK1", r:get().access_key_id)
    local _, fresh = coroutine.resume(co)
    assert.are.equal("AK2", fresh.access_key_id)
  end)
end)
