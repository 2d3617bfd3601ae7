-- Endpoint resolution follows the Connect endpoint rule set and partition
-- data: every case of data/connect-endpoint-tests-1.json passes, through the
-- rule evaluator and through new().

local cjson = require("cjson")
local endpoints = require("aws_connect.endpoints")
local aws_connect = require("aws_connect")
local errors = aws_connect.errors
local helpers = require("spec.support.helpers")

local function read(path) return (assert(helpers.read(path), path)) end

local cases = cjson.decode(read("data/connect-endpoint-tests-1.json")).testCases

describe("the Connect endpoint test file", function()
  it("has cases to run", function()
    assert.is_true(#cases >= 30)
  end)

  for i, case in ipairs(cases) do
    local params = case.params or {}
    local want_url = case.expect.endpoint and case.expect.endpoint.url
    local want_err = case.expect.error

    it(("case %d (%s) through the rule evaluator"):format(i, case.documentation), function()
      local r, err = endpoints.evaluate(params)
      if want_url then
        assert.is_nil(err)
        assert.are.equal(want_url, r.url)
      else
        assert.is_nil(r)
        assert.are.equal(want_err, err)
      end
    end)

    if params.Region then
      it(("case %d (%s) through new()"):format(i, case.documentation), function()
        local ok, c = pcall(aws_connect.new, {
          region = params.Region, use_fips = params.UseFIPS, use_dualstack = params.UseDualStack,
          endpoint = params.Endpoint, getenv = {},
        })
        if want_url then
          assert.is_true(ok, tostring(c))
          assert.are.equal(want_url, c.endpoint)
          assert.are.equal(params.Region, c.region)
        else
          assert.is_false(ok)
          assert.is_true(errors.is(c, "ConfigError"))
          assert.are.equal(1, select(2, c.message:gsub(want_err:gsub("%p", "%%%0"), "")))
          assert.are.equal(0, c.attempts)
        end
      end)
    end
  end
end)

describe("endpoints.resolve", function()
  it("raises a ConfigError carrying the rule set's message", function()
    local ok, e = pcall(endpoints.resolve, { use_fips = true, endpoint = "https://x.example", region = "us-east-1" })
    assert.is_false(ok)
    assert.are.equal("ConfigError", e.code)
    assert.are.equal("Invalid Configuration: FIPS and custom endpoint are not supported", e.message)
  end)

  it("builds a hostname for a region the partition data does not list", function()
    assert.are.equal("https://connect.eu-south-9.amazonaws.com", endpoints.resolve{ region = "eu-south-9" })
    assert.are.equal("https://connect.cn-northwest-9.amazonaws.com.cn", endpoints.resolve{ region = "cn-northwest-9" })
    assert.are.equal("https://connect-fips.us-gov-east-9.api.aws",
      endpoints.resolve{ region = "us-gov-east-9", use_fips = true, use_dualstack = true })
  end)

  it("falls back to the aws partition for a region no partition matches", function()
    assert.are.equal("aws", endpoints.partition("mars-central-1").name)
    assert.are.equal("https://connect.mars-central-1.amazonaws.com", endpoints.resolve{ region = "mars-central-1" })
  end)
end)

describe("partition regular expressions", function()
  local m = endpoints.regex_match
  it("match with alternation, classes and anchors", function()
    local aws = "^(us|eu|ap|sa|ca|me|af|il|mx)\\-\\w+\\-\\d+$"
    assert.is_true(m(aws, "us-east-1"))
    assert.is_true(m(aws, "mx-central-12"))
    assert.is_false(m(aws, "us-gov-west-1"))
    assert.is_false(m(aws, "cn-north-1"))
    assert.is_false(m(aws, "us-east-1x"))
    assert.is_false(m(aws, "xus-east-1"))
    assert.is_true(m("^eusc\\-(de)\\-\\w+\\-\\d+$", "eusc-de-east-1"))
    assert.is_true(m("^us\\-gov\\-\\w+\\-\\d+$", "us-gov-west-1"))
  end)

  it("backtracks through groups and quantifiers", function()
    assert.is_true(m("^(a|ab)c$", "abc"))
    assert.is_true(m("^a*ab$", "aaab"))
    assert.is_true(m("^[a-c]+\\d?$", "abcab7"))
    assert.is_false(m("^[^a]+$", "bab"))
    assert.is_true(m("b", "abc")) -- unanchored search
  end)
end)

describe("endpoint data files", function()
  it("are found next to the module (installed layout) before the repository's data/", function()
    local dirs = endpoints.candidate_dirs()
    assert.is_truthy(dirs[1]:find("aws_connect/data$"))
    assert.are.equal("aws_connect/../../data", dirs[2]:sub(-#"aws_connect/../../data"))
  end)

  it("load from an installed layout <luadir>/aws_connect/data/", function()
    local dir = helpers.tmpdir("endpoints")
    finally(function() helpers.rmdir(dir) end)
    assert(os.execute("mkdir -p '" .. dir .. "/aws_connect/data'"))
    assert(os.execute("cp lua/aws_connect/endpoints.lua lua/aws_connect/errors.lua '" .. dir .. "/aws_connect/'"))
    assert(os.execute("cp data/partitions.json data/connect-endpoint-rule-set-1.json '" .. dir .. "/aws_connect/data/'"))
    local lua = arg and arg[-1] or "lua5.4"
    local cpath = helpers.absolute_cpath():gsub("'", "")
    local cmd = ("cd / && LUA_PATH='%s/?.lua' LUA_CPATH='%s' %s -e "
      .. "'print(require(\"aws_connect.endpoints\").resolve{region=\"cn-north-1\", use_dualstack=true})' 2>&1")
      :format(dir, cpath, lua)
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    assert.are.equal("https://connect.cn-north-1.api.amazonwebservices.com.cn\n", out)
  end)

  it("missing everywhere is a ConfigError naming the places searched", function()
    local real = endpoints.candidate_dirs
    endpoints.reset()
    endpoints.candidate_dirs = function() return { "/nonexistent-aws-connect-data" } end
    local ok, e = pcall(endpoints.resolve, { region = "us-east-1" })
    endpoints.candidate_dirs = real
    endpoints.reset()
    assert.is_false(ok)
    assert.are.equal("ConfigError", e.code)
    assert.is_truthy(e.message:find("/nonexistent-aws-connect-data/partitions.json", 1, true)
      or e.message:find("/nonexistent-aws-connect-data/connect-endpoint-rule-set-1.json", 1, true))
    assert.are.equal("https://connect.us-east-1.amazonaws.com", endpoints.resolve{ region = "us-east-1" })
  end)

  it("are looked for first in endpoints.data_dir when it is set", function()
    endpoints.reset()
    endpoints.data_dir = "/nonexistent-first"
    local dirs = endpoints.candidate_dirs()
    endpoints.data_dir = nil
    assert.are.equal("/nonexistent-first", dirs[1])
    assert.are.equal(3, #dirs)
  end)
end)
