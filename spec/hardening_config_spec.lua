-- Issue 12: configuration and the parsers under it (the URL parser, dates,
-- the INI reader, did-you-mean, redaction) hold against hostile input, and
-- behave as the reference SDKs do where we used to differ.

local aws_connect = require("aws_connect")
local config = require("aws_connect.config")
local url = require("aws_connect.url")
local times = require("aws_connect.times")
local ini = require("aws_connect.ini")
local suggest = require("aws_connect.suggest")
local redact = require("aws_connect.redact")
local errors = aws_connect.errors
local helpers = require("spec.support.helpers")

local function home(files) return helpers.home(files, "hconfig") end
local rmdir = helpers.rmdir

local function raises(code, f) return helpers.expect_error(code, f) end

describe("the URL parser", function()
  it("reads the host libcurl connects to, not the part before '@'", function()
    local u = assert(url.parse("http://127.0.0.1:1@other-host:8080/x"))
    assert.are.equal("other-host", u.host)
    assert.are.equal(8080, u.port)
    assert.is_true(u.has_userinfo)
    assert.is_false(url.is_loopback(u))
  end)

  it("refuses what parsers disagree on: two '@', backslashes, blanks, bad ports, bad numeric hosts", function()
    for _, s in ipairs{ "http://a@b@c/", "http://h\\@x/", "http://h /", "http://h:0/", "http://h:65536/",
                        "http://h:x/", "http://08.1.1.1/", "http://1.2.3.4.5/", "http://[::1%25eth0]/",
                        "http://[1::2::3]/", "http:///x", "h:80", "http://ü.example/" } do
      assert.is_nil(url.parse(s), s)
    end
  end)

  it("normalises IPv4 numbers the way libcurl does, and knows loopback in every spelling", function()
    for _, h in ipairs{ "127.0.0.1", "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "127.255.255.254" } do
      local u = assert(url.parse("http://" .. h .. "/"), h)
      assert.is_true(url.is_loopback(u), h)
    end
    assert.are.equal("127.0.0.1", url.parse("http://0x7f000001/").ipv4)
    for _, h in ipairs{ "[::1]", "[0:0:0:0:0:0:0:1]", "[::0:1]", "localhost" } do
      assert.is_true(url.is_loopback(assert(url.parse("http://" .. h .. ":9/"), h)), h)
    end
    for _, h in ipairs{ "128.0.0.1", "[::2]", "[::ffff:127.0.0.1]", "localhost.example", "127.0.0.1.nip.io" } do
      assert.is_false(url.is_loopback(assert(url.parse("http://" .. h .. "/"), h)), h)
    end
  end)

  it("never shows a password in a message", function()
    local e = raises("ConfigError", function() url.check("http://admin:hunter2@h/", "endpoint") end)
    assert.falsy(e.message:find("hunter2", 1, true), e.message)
    assert.truthy(e.message:find("***@h", 1, true), e.message)
    assert.falsy(url.display("https://u:hunter2@h:x@y/"):find("hunter2", 1, true))
  end)

  it("percent-encodes everything but A-Za-z0-9-_.~ (one encoder)", function()
    assert.are.equal("a-_.~Z9%20%2F%2B%3D%25%C3%BC%0D%0A", url.encode_segment("a-_.~Z9 /+=%ü\r\n"))
  end)

  it("joins a base path as botocore does", function()
    assert.are.equal("/base/instance", url.join_path("/base/", "/instance"))
    assert.are.equal("/base/instance", url.join_path("/base", "/instance"))
    assert.are.equal("/base/", url.join_path("/base/", "/"))
    assert.are.equal("/", url.join_path("", "/"))
  end)
end)

describe("the endpoint", function()
  it("keeps the trailing slash of a base path when joining (one slash removed, not all)", function()
    assert.are.equal("/base", config.parse_endpoint("http://127.0.0.1:9/base/").base_path)
    assert.are.equal("/base/", config.parse_endpoint("http://127.0.0.1:9/base//").base_path)
    assert.are.equal("/base/", config.parse_endpoint("http://127.0.0.1:9/base/").path)
  end)

  it("with a password is a ConfigError that never echoes it, from the option or the environment", function()
    local e = raises("ConfigError", function()
      aws_connect.new{ region = "us-east-1", endpoint = "http://admin:s3cr3t-pw@127.0.0.1:9", getenv = {} }
    end)
    assert.falsy(tostring(e):find("s3cr3t-pw", 1, true), tostring(e))
    e = raises("ConfigError", function()
      aws_connect.new{ region = "us-east-1", getenv = { AWS_ENDPOINT_URL = "http://u:s3cr3t-pw@127.0.0.1:9/" } }
    end)
    assert.falsy(tostring(e):find("s3cr3t-pw", 1, true), tostring(e))
  end)

  it("and proxies are read by the same parser; a proxy's password is never echoed", function()
    local e = raises("ConfigError", function()
      aws_connect.new{ region = "us-east-1", endpoint = "http://127.0.0.1:9", proxy = "http://u:pr0xy-pw@p:99999", getenv = {} }
    end)
    assert.falsy(tostring(e):find("pr0xy-pw", 1, true), tostring(e))
    assert.are.equal("http://u:pw@p:3128",
      config.proxy_for(function(k) return ({ HTTPS_PROXY = "http://u:pw@p:3128" })[k] end, "https://h/"))
  end)
end)

describe("settings", function()
  it("refuse AWS_MAX_ATTEMPTS=0x10 (and 1e1, 5.0): decimal integers only, as botocore's int()", function()
    for _, v in ipairs{ "0x10", "1e1", "5.0", "inf", "5 5" } do
      raises("ConfigError", function()
        aws_connect.new{ region = "us-east-1", endpoint = "http://127.0.0.1:9", getenv = { AWS_MAX_ATTEMPTS = v } }
      end)
    end
    local c = aws_connect.new{ region = "us-east-1", endpoint = "http://127.0.0.1:9", getenv = { AWS_MAX_ATTEMPTS = " 7 " } }
    assert.are.equal(7, aws_connect._private(c).cfg.max_attempts)
  end)

  it("refuse a getenv that is neither a function nor a table (instead of using the real environment)", function()
    for _, g in ipairs{ 5, "HOME", true } do
      local e = raises("ConfigError", function() aws_connect.new{ region = "us-east-1", getenv = g } end)
      assert.are.equal("getenv", e.field)
    end
  end)
end)

describe("the shared config file", function()
  local dir
  after_each(function() rmdir(dir) end)

  it("uses one of [default] and [profile default], the later one, as botocore does (no merge)", function()
    dir = home{ [".aws/config"] = "[default]\nregion = us-west-1\nretry_mode = legacy\n"
      .. "[profile default]\nregion = eu-west-1\n" }
    local files = config.load_files(function(k) return ({ HOME = dir })[k] end)
    assert.are.equal("eu-west-1", files.config_profiles.default.region)
    assert.is_nil(files.config_profiles.default.retry_mode)
    rmdir(dir)
    dir = home{ [".aws/config"] = "[profile default]\nregion = eu-west-1\nretry_mode = legacy\n"
      .. "[default]\nregion = us-west-1\n" }
    files = config.load_files(function(k) return ({ HOME = dir })[k] end)
    assert.are.equal("us-west-1", files.config_profiles.default.region)
    assert.is_nil(files.config_profiles.default.retry_mode)
  end)

  it("reads CR-only line ends (no setting lost)", function()
    local doc = assert(ini.parse("[default]\rregion = us-east-1\rmax_attempts = 4\r[profile x]\rregion = eu-west-1"))
    assert.are.equal("us-east-1", doc.sections.default.region)
    assert.are.equal("4", doc.sections.default.max_attempts)
    assert.are.equal("eu-west-1", doc.sections["profile x"].region)
    doc = assert(ini.parse("[a]\r\nk = v\r\n\r\n[b]\rk = w\n"))
    assert.are.equal("v", doc.sections.a.k)
    assert.are.equal("w", doc.sections.b.k)
  end)
end)

describe("dates", function()
  it("are validated strictly: year 0000, day 99, hour 99, Feb 30 are refused", function()
    for _, s in ipairs{ "Mon, 01 Jan 0000 00:00:00 GMT", "Mon, 99 Jan 2024 00:00:00 GMT",
                        "Mon, 01 Jan 2024 99:00:00 GMT", "Fri, 30 Feb 2024 00:00:00 GMT",
                        "Mon, 01 Jan 2024 00:61:00 GMT", "Mon, 01 Foo 2024 00:00:00 GMT",
                        "Xyz, 01 Jan 2024 00:00:00 GMT", "Mon, 01 Jan 1969 00:00:00 GMT" } do
      local t, why = times.parse_http_date(s)
      assert.is_nil(t, s)
      assert.is_string(why)
    end
    for _, s in ipairs{ "0000-01-01T00:00:00Z", "2024-01-99T00:00:00Z", "2024-01-01T99:00:00Z",
                        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00+25:00" } do
      assert.is_nil(times.parse_iso8601(s), s)
    end
    assert.are.equal(1709164800, times.parse_iso8601("2024-02-29T00:00:00Z"))
    assert.are.equal(784111777, times.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"))
  end)

  it("that are unreadable raise a typed error through require_* (never a bare string)", function()
    local e = raises("ResponseError", function() times.require_http_date("Mon, 01 Jan 0000 00:00:00 GMT", "Date header") end)
    assert.are.equal("Date header", e.field)
    assert.truthy(e.message:find("year out of range", 1, true), e.message)
    raises("ResponseError", function() times.require_iso8601("2024-01-99T00:00:00Z", "Expiration") end)
  end)
end)

describe("did-you-mean", function()
  it("suggests within max(2, #word / 3) edits and nothing further", function()
    local names = { "region", "profile", "endpoint", "max_attempts" }
    assert.are.equal("region", suggest.closest("regoin", names))
    assert.are.equal("max_attempts", suggest.closest("max_attemps", names))
    assert.is_nil(suggest.closest("zzzzzz", names))
    assert.is_nil(suggest.closest(("x"):rep(100 * 1024), names))
    assert.is_nil(suggest.closest("", names))
    assert.are.equal(3, suggest.distance("kitten", "sitting"))
    assert.is_nil(suggest.distance("kitten", "sitting", 2))
  end)
end)

describe("redaction", function()
  local r = redact.new{ "wJalrXUtnFEMI/K7MDENG+bPxRfiCY=", nil, "tok" }
  it("replaces every occurrence, also percent-encoded (either case), form-encoded and JSON-escaped", function()
    local s = "a wJalrXUtnFEMI/K7MDENG+bPxRfiCY= b wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCY%3D c "
      .. "wJalrXUtnFEMI%2fK7MDENG%2bbPxRfiCY%3d d wJalrXUtnFEMI\\/K7MDENG+bPxRfiCY="
    assert.are.equal("a REDACTED b REDACTED c REDACTED d REDACTED", r:string(s))
    assert.are.equal("tok", r:string("tok"))  -- shorter than MIN_LENGTH: not a secret
  end)

  it("reaches every depth, keys included, and survives cycles", function()
    local t = { a = { b = { c = { d = { e = { f = "x wJalrXUtnFEMI/K7MDENG+bPxRfiCY=" } } } } } }
    t.a.loop = t
    t["wJalrXUtnFEMI/K7MDENG+bPxRfiCY="] = true
    local e = errors.new("CredentialsError", "m", { reason = t })
    local d = r:deep(e)
    assert.is_true(errors.is_error(d))
    assert.are.equal("x REDACTED", d.reason.a.b.c.d.e.f)
    assert.are.equal(d.reason, d.reason.a.loop)
    assert.is_true(d.reason.REDACTED)
  end)

  it("makes server text printable and bounded", function()
    assert.are.equal("a b?[31m", redact.printable("a\r\n\tb\27[31m"))
    assert.are.equal("ab...", redact.printable("ab\195\169cd", 3))
  end)
end)
