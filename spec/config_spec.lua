-- Client settings come from the options, then the environment, then the
-- selected profile of ~/.aws/config and ~/.aws/credentials, as the AWS CLI
-- resolves them; every bad setting is a ConfigError raised by new().

local aws_connect = require("aws_connect")
local config = require("aws_connect.config")
local helpers = require("spec.support.helpers")

-- A temporary HOME with ~/.aws/config and ~/.aws/credentials.
local function home(files) return helpers.home(files, "config") end
local rmdir = helpers.rmdir

local function new(opts)
  return aws_connect.new(opts)
end

local function config_error(opts)
  local e = helpers.expect_error("ConfigError", aws_connect.new, opts)
  assert.are.equal(0, e.attempts)
  return e
end

local function private(c) return aws_connect._private(c) end

describe("region", function()
  local dir
  before_each(function()
    dir = home{ [".aws/config"] = "[default]\nregion = eu-west-1\n[profile other]\nregion = ap-south-1\n" }
  end)
  after_each(function() rmdir(dir) end)

  it("is taken from the option first", function()
    local c = new{ region = "us-west-2", getenv = { HOME = dir, AWS_REGION = "eu-central-1" } }
    assert.are.equal("us-west-2", c.region)
  end)

  it("then from AWS_REGION, then AWS_DEFAULT_REGION, then the profile", function()
    assert.are.equal("eu-central-1", new{ getenv = { HOME = dir, AWS_REGION = "eu-central-1",
      AWS_DEFAULT_REGION = "ca-central-1" } }.region)
    assert.are.equal("ca-central-1", new{ getenv = { HOME = dir, AWS_DEFAULT_REGION = "ca-central-1" } }.region)
    assert.are.equal("eu-west-1", new{ getenv = { HOME = dir } }.region)
    assert.are.equal("ap-south-1", new{ getenv = { HOME = dir, AWS_PROFILE = "other" } }.region)
  end)

  it("is a ConfigError that says how to set one when nothing gives it", function()
    local e = config_error{ getenv = {} }
    assert.are.equal("region", e.field)
    assert.is_truthy(e.message:find("AWS_REGION", 1, true))
    assert.is_truthy(e.message:find("~/.aws/config", 1, true))
  end)

  it("rejects a malformed region naming where it came from", function()
    local e = config_error{ getenv = { AWS_REGION = "US EAST" } }
    assert.is_truthy(e.message:find("AWS_REGION", 1, true))
  end)

  it("treats fips-<region> and <region>-fips as the region with FIPS on", function()
    local c = new{ region = "fips-us-east-1", getenv = {} }
    assert.are.equal("us-east-1", c.region)
    assert.are.equal("https://connect-fips.us-east-1.amazonaws.com", c.endpoint)
    c = new{ getenv = { AWS_REGION = "us-west-2-fips" } }
    assert.are.equal("us-west-2", c.region)
    assert.are.equal("https://connect-fips.us-west-2.amazonaws.com", c.endpoint)
    c = new{ region = "fips-us-gov-west-1", getenv = {} }
    assert.are.equal("https://connect.us-gov-west-1.amazonaws.com", c.endpoint)
  end)
end)

describe("profiles", function()
  local dir
  after_each(function() rmdir(dir) end)

  it("are chosen by the option, then AWS_PROFILE, then AWS_DEFAULT_PROFILE, then default", function()
    dir = home{ [".aws/config"] = "[default]\nregion=us-east-1\n[profile a]\nregion=us-east-2\n"
      .. "[profile b]\nregion=us-west-1\n[profile c]\nregion=us-west-2\n" }
    assert.are.equal("us-west-2", new{ profile = "c", getenv = { HOME = dir, AWS_PROFILE = "a",
      AWS_DEFAULT_PROFILE = "b" } }.region)
    assert.are.equal("us-east-2", new{ getenv = { HOME = dir, AWS_PROFILE = "a", AWS_DEFAULT_PROFILE = "b" } }.region)
    assert.are.equal("us-west-1", new{ getenv = { HOME = dir, AWS_DEFAULT_PROFILE = "b" } }.region)
    assert.are.equal("us-east-1", new{ getenv = { HOME = dir } }.region)
    local p = private(new{ profile = "a", getenv = { HOME = dir } })
    assert.are.equal("a", p.cfg.profile_name)
    assert.is_true(p.cfg.profile_explicit)
    assert.is_false(private(new{ getenv = { HOME = dir, AWS_PROFILE = "a" } }).cfg.profile_explicit)
  end)

  it("that are named but missing are a ConfigError naming the profile, its source and the files", function()
    dir = home{ [".aws/config"] = "[default]\nregion=us-east-1\n" }
    local e = config_error{ profile = "nope", getenv = { HOME = dir } }
    assert.are.equal("profile", e.field)
    assert.is_truthy(e.message:find('"nope"', 1, true))
    assert.is_truthy(e.message:find(dir .. "/.aws/config", 1, true))
    e = config_error{ getenv = { HOME = dir, AWS_PROFILE = "gone" } }
    assert.is_truthy(e.message:find("AWS_PROFILE", 1, true))
  end)

  it("may live in the credentials file only, whose values override the config file's", function()
    dir = home{
      [".aws/config"] = "[profile both]\nregion = us-east-1\nmax_attempts = 2\n",
      [".aws/credentials"] = "[both]\nregion = eu-west-3\n[onlycreds]\nregion = sa-east-1\n",
    }
    local c = new{ profile = "both", getenv = { HOME = dir } }
    assert.are.equal("eu-west-3", c.region)
    assert.are.equal(2, private(c).cfg.max_attempts)
    assert.are.equal("sa-east-1", new{ profile = "onlycreds", getenv = { HOME = dir } }.region)
  end)

  it("are read from AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, with ~ expanded", function()
    dir = home{ ["elsewhere.ini"] = "[profile x]\nregion = me-south-1\n", ["creds.ini"] = "[y]\nregion = af-south-1\n" }
    local env = { HOME = dir, AWS_CONFIG_FILE = "~/elsewhere.ini", AWS_SHARED_CREDENTIALS_FILE = dir .. "/creds.ini" }
    assert.are.equal("me-south-1", new{ profile = "x", getenv = env }.region)
    assert.are.equal("af-south-1", new{ profile = "y", getenv = env }.region)
  end)

  it("accept odd formatting: [profile  name], quotes, comments, CRLF, blanks", function()
    dir = home{ [".aws/config"] = "; comment\r\n[ profile   spaced ]  # c\r\n\tregion = ap-east-1 ; c\r\n\r\n"
      .. "[profile \"my name\"]\nregion = il-central-1\n[profilex]\nregion = us-east-1\n" }
    assert.are.equal("ap-east-1", new{ profile = "spaced", getenv = { HOME = dir } }.region)
    assert.are.equal("il-central-1", new{ profile = "my name", getenv = { HOME = dir } }.region)
    config_error{ profile = "profilex", getenv = { HOME = dir } }
  end)

  it("ignore [x] sections of the config file other than [default] and [profile x]", function()
    dir = home{ [".aws/config"] = "[dev]\nregion = us-east-2\n" }
    config_error{ profile = "dev", getenv = { HOME = dir } }
  end)

  it("make new() fail with a ConfigError naming file and line when a file cannot be parsed", function()
    dir = home{ [".aws/credentials"] = "[default]\naws_access_key_id = AKID\nthis line is broken\n" }
    local e = config_error{ region = "us-east-1", getenv = { HOME = dir } }
    assert.is_truthy(e.message:find(dir .. "/.aws/credentials: line 3", 1, true))
  end)

  it("are not read without a home directory or file variables", function()
    local files = config.load_files(function() return nil end)
    assert.is_nil(files.config_path)
    assert.are.same({}, files.profiles)
  end)
end)

describe("endpoint", function()
  local dir
  before_each(function()
    dir = home{ [".aws/config"] = "[default]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:1001\n"
      .. "[profile svc]\nregion = us-east-1\nservices = local\nendpoint_url = http://127.0.0.1:1002\n"
      .. "[profile ign]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:1003\n"
      .. "ignore_configured_endpoint_urls = true\n"
      .. "[profile badsvc]\nregion = us-east-1\nservices = missing\n"
      .. "[services local]\nconnect =\n  endpoint_url = http://127.0.0.1:2001/base/\n"
      .. "sts =\n  endpoint_url = http://127.0.0.1:2002\n" }
  end)
  after_each(function() rmdir(dir) end)

  it("comes from the option, AWS_ENDPOINT_URL_CONNECT, AWS_ENDPOINT_URL, [services], the profile, in that order", function()
    local env = { HOME = dir, AWS_PROFILE = "svc", AWS_ENDPOINT_URL_CONNECT = "http://127.0.0.1:3001",
                  AWS_ENDPOINT_URL = "http://127.0.0.1:3002" }
    assert.are.equal("http://127.0.0.1:9", new{ endpoint = "http://127.0.0.1:9", getenv = env }.endpoint)
    assert.are.equal("http://127.0.0.1:3001", new{ getenv = env }.endpoint)
    env.AWS_ENDPOINT_URL_CONNECT = nil
    assert.are.equal("http://127.0.0.1:3002", new{ getenv = env }.endpoint)
    env.AWS_ENDPOINT_URL = nil
    local c = new{ getenv = env }
    assert.are.equal("http://127.0.0.1:2001/base", c.endpoint)
    assert.are.equal("[services local] connect endpoint_url", private(c).cfg.endpoint_source)
    assert.are.equal("http://127.0.0.1:1001", new{ getenv = { HOME = dir } }.endpoint)
  end)

  it("ignores configured endpoints with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile key", function()
    local c = new{ getenv = { HOME = dir, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true",
      AWS_ENDPOINT_URL = "http://127.0.0.1:3002" } }
    assert.are.equal("https://connect.us-east-1.amazonaws.com", c.endpoint)
    assert.are.equal("http://127.0.0.1:8", new{ endpoint = "http://127.0.0.1:8",
      getenv = { HOME = dir, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "TRUE" } }.endpoint)
    assert.are.equal("https://connect.us-east-1.amazonaws.com", new{ profile = "ign", getenv = { HOME = dir } }.endpoint)
    config_error{ getenv = { HOME = dir, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "yes" } }
  end)

  it("is a ConfigError when the profile names a [services] section that does not exist", function()
    local e = config_error{ profile = "badsvc", getenv = { HOME = dir } }
    assert.is_truthy(e.message:find("services missing", 1, true))
  end)

  it("follows use_fips and use_dualstack from options, environment and profile", function()
    assert.are.equal("https://connect-fips.us-east-1.api.aws",
      new{ region = "us-east-1", use_fips = true, use_dualstack = true, getenv = {} }.endpoint)
    assert.are.equal("https://connect-fips.us-east-1.amazonaws.com",
      new{ region = "us-east-1", getenv = { AWS_USE_FIPS_ENDPOINT = "true" } }.endpoint)
    assert.are.equal("https://connect.cn-north-1.api.amazonwebservices.com.cn",
      new{ region = "cn-north-1", getenv = { AWS_USE_DUALSTACK_ENDPOINT = "True" } }.endpoint)
    assert.are.equal("https://connect.us-east-1.amazonaws.com",
      new{ region = "us-east-1", use_fips = false, getenv = { AWS_USE_FIPS_ENDPOINT = "true" } }.endpoint)
    local d2 = home{ [".aws/config"] = "[default]\nregion = us-gov-east-1\nuse_fips_endpoint = true\n"
      .. "use_dualstack_endpoint = true\n" }
    finally(function() rmdir(d2) end)
    assert.are.equal("https://connect-fips.us-gov-east-1.api.aws", new{ getenv = { HOME = d2 } }.endpoint)
    config_error{ region = "us-east-1", getenv = { AWS_USE_FIPS_ENDPOINT = "1" } }
  end)

  it("rejects FIPS or dual-stack with a custom endpoint, saying where the endpoint came from", function()
    local e = config_error{ region = "us-east-1", use_fips = true, getenv = { AWS_ENDPOINT_URL = "http://127.0.0.1:5" } }
    assert.is_truthy(e.message:find("FIPS and custom endpoint are not supported", 1, true))
    assert.is_truthy(e.message:find("AWS_ENDPOINT_URL", 1, true))
    e = config_error{ region = "us-east-1", use_dualstack = true, endpoint = "http://127.0.0.1:5", getenv = {} }
    assert.is_truthy(e.message:find("Dualstack and custom endpoint", 1, true))
  end)

  it("rejects a configured endpoint that is not an http(s) URL", function()
    config_error{ region = "us-east-1", getenv = { AWS_ENDPOINT_URL_CONNECT = "ftp://x" } }
    config_error{ region = "us-east-1", getenv = { AWS_ENDPOINT_URL_CONNECT = "http://a b" } }
  end)
end)

describe("settings from the profile", function()
  local dir
  after_each(function() rmdir(dir) end)

  it("include max_attempts, retry_mode, timeouts, ca_bundle and sdk_ua_app_id", function()
    dir = home{ [".aws/config"] = "[default]\nregion = us-east-1\nmax_attempts = 7\nretry_mode = legacy\n"
      .. "connect_timeout = 1.5\nread_timeout = 9\nca_bundle = ~/ca.pem\nsdk_ua_app_id = ops tool\n" }
    local cfg = private(new{ getenv = { HOME = dir } }).cfg
    assert.are.equal(7, cfg.max_attempts)
    assert.are.equal("legacy", cfg.retry_mode)
    assert.are.equal(1.5, cfg.connect_timeout)
    assert.are.equal(9, cfg.timeout)
    assert.are.equal(dir .. "/ca.pem", cfg.ca_file)
    assert.are.equal("ops-tool", cfg.app_id)
  end)

  it("lose to the environment, which loses to the options", function()
    dir = home{ [".aws/config"] = "[default]\nregion = us-east-1\nmax_attempts = 7\nretry_mode = legacy\nca_bundle = /p.pem\n" }
    local env = { HOME = dir, AWS_MAX_ATTEMPTS = "5", AWS_RETRY_MODE = "adaptive", AWS_CA_BUNDLE = "/e.pem" }
    local cfg = private(new{ getenv = env }).cfg
    assert.are.equal(5, cfg.max_attempts)
    assert.are.equal("adaptive", cfg.retry_mode)
    assert.are.equal("/e.pem", cfg.ca_file)
    cfg = private(new{ getenv = env, max_attempts = 2, retry_mode = "standard", ca_file = "/o.pem" }).cfg
    assert.are.equal(2, cfg.max_attempts)
    assert.are.equal("standard", cfg.retry_mode)
    assert.are.equal("/o.pem", cfg.ca_file)
  end)

  it("that are malformed are ConfigErrors", function()
    dir = home{ [".aws/config"] = "[default]\nregion = us-east-1\nmax_attempts = many\n"
      .. "[profile t]\nregion = us-east-1\nconnect_timeout = -1\n[profile r]\nregion = us-east-1\nretry_mode = turbo\n" }
    config_error{ getenv = { HOME = dir } }
    config_error{ profile = "t", getenv = { HOME = dir } }
    config_error{ profile = "r", getenv = { HOME = dir } }
  end)
end)

describe("proxy selection", function()
  local pf = config.proxy_for
  local function env(t) return function(k) return t[k] end end

  it("uses https_proxy for https and http_proxy for http URLs, lower case first, then all_proxy", function()
    local e = env{ HTTPS_PROXY = "http://up:1", https_proxy = "http://low:1", HTTP_PROXY = "http://plain:2" }
    assert.are.equal("http://low:1", pf(e, "https://connect.us-east-1.amazonaws.com"))
    assert.are.equal("http://plain:2", pf(e, "http://127.0.0.1:80/x"))
    assert.are.equal("http://all:3", pf(env{ ALL_PROXY = "http://all:3" }, "https://h"))
    assert.are.equal("", pf(env{ HTTP_PROXY = "http://plain:2" }, "https://h"))
  end)

  it("is direct (\"\") for hosts in NO_PROXY: exact, suffix, leading dot, *, port, CIDR", function()
    local function np(list, url) return pf(env{ HTTPS_PROXY = "http://p:1", HTTP_PROXY = "http://p:1", NO_PROXY = list }, url) end
    assert.are.equal("", np("example.com", "https://example.com"))
    assert.are.equal("", np("example.com", "https://api.example.com"))
    assert.are.equal("", np(".example.com", "https://api.example.com"))
    assert.are.equal("http://p:1", np("example.com", "https://badexample.com"))
    assert.are.equal("", np("a.org, *", "https://anything"))
    assert.are.equal("", np("localhost,127.0.0.0/8", "http://127.0.0.1:8080/"))
    assert.are.equal("http://p:1", np("10.0.0.0/8", "http://127.0.0.1:8080/"))
    assert.are.equal("", np("127.0.0.1:8080", "http://127.0.0.1:8080/"))
    assert.are.equal("http://p:1", np("127.0.0.1:9", "http://127.0.0.1:8080/"))
    assert.are.equal("", pf(env{ HTTPS_PROXY = "http://p:1", no_proxy = "h" }, "https://h"))
  end)

  it("takes the proxy option over the environment; \"\" or false mean direct", function()
    local e = env{ HTTPS_PROXY = "http://env:1" }
    assert.are.equal("http://opt:2", pf(e, "https://h", "http://opt:2"))
    assert.are.equal("", pf(e, "https://h", ""))
    assert.are.equal("", pf(e, "https://h", false))
  end)

  it("is resolved by new() for the Connect endpoint", function()
    local c = new{ region = "us-east-1", getenv = { HTTPS_PROXY = "http://proxy.local:3128" } }
    assert.are.equal("http://proxy.local:3128", private(c).proxy)
    c = new{ region = "us-east-1", getenv = { HTTPS_PROXY = "http://proxy.local:3128", NO_PROXY = ".amazonaws.com" } }
    assert.are.equal("", private(c).proxy)
    c = new{ region = "us-east-1", proxy = false, getenv = { HTTPS_PROXY = "http://proxy.local:3128" } }
    assert.are.equal("", private(c).proxy)
    config_error{ region = "us-east-1", proxy = "http://a\r\nb", getenv = {} }
  end)
end)

describe("new()", function()
  it("consults no credential variable when resolving region and endpoint", function()
    local looked = {}
    local c = new{ region = "us-east-1", endpoint = "http://127.0.0.1:1", getenv = function(k)
      looked[#looked + 1] = k
      return nil
    end }
    assert.are.equal("http://127.0.0.1:1", c.endpoint)
    for _, k in ipairs(looked) do assert.is_nil(k:find("ACCESS_KEY", 1, true)) end
  end)
end)
