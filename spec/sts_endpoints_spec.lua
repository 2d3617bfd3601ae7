-- STS's endpoint: every case of STS's official endpoint tests
-- (data/models/sts-2011-06-15/endpoint-tests-1.json) through the rule
-- evaluator with STS's rule set, the cases without UseGlobalEndpoint
-- through aws_connect.services (what the credential providers use), and
-- the configured-endpoint sources in their order.

local cjson = require("cjson")
local endpoints = require("aws_connect.endpoints")
local services = require("aws_connect.services")
local errors = require("aws_connect.errors")
local helpers = require("spec.support.helpers")

local RULES = services.SERVICES.sts.rules

local function read(path) return (assert(helpers.read(path), path)) end

local cases = cjson.decode(read("data/models/sts-2011-06-15/endpoint-tests-1.json")).testCases

-- cjson.null -> nil, recursively (the test file has none where it matters,
-- but an expected table must compare as data)
local function plain(v)
  if v == cjson.null then return nil end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = plain(x) end
  return out
end

describe("STS's endpoint test file", function()
  it("has every case to run", function()
    assert.are.equal(69, #cases)
  end)

  for i, case in ipairs(cases) do
    local params = plain(case.params or {})
    local want = plain(case.expect.endpoint)
    local want_err = case.expect.error

    it(("case %d (%s) through the rule evaluator"):format(i, case.documentation), function()
      local r, err = endpoints.evaluate(params, RULES)
      if want then
        assert.is_nil(err)
        assert.are.equal(want.url, r.url)
        if want.properties then assert.are.same(want.properties, plain(r.properties)) end
        if want.headers then assert.are.same(want.headers, plain(r.headers)) end
      else
        assert.is_nil(r)
        assert.are.equal(want_err, err)
      end
    end)

    if not params.UseGlobalEndpoint and params.Region and not params.Endpoint then
      it(("case %d (%s) through the STS service context"):format(i, case.documentation), function()
        local ok, e = pcall(services.endpoint, "sts", {
          getenv = function() return nil end, region = params.Region,
          use_fips = params.UseFIPS, use_dualstack = params.UseDualStack,
        })
        if want then
          assert.is_true(ok, tostring(e))
          assert.are.equal(want.url, e.url)
          local scheme = want.properties and want.properties.authSchemes and want.properties.authSchemes[1]
          assert.are.equal(scheme and scheme.signingRegion or params.Region, e.region)
        else
          assert.is_false(ok)
          assert.is_true(errors.is(e, "ConfigError"))
          assert.are.equal(want_err, e.message)
        end
      end)
    end
  end
end)

describe("the STS service context", function()
  local function env(t) return function(k) return t[k] end end
  local files = {
    profiles = { default = { services = "local", endpoint_url = "http://127.0.0.1:4" },
                 plain = { endpoint_url = "http://127.0.0.1:5" } },
    services = { ["local"] = { sts = { endpoint_url = "http://127.0.0.1:3" } } },
  }

  it("takes AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, [services] sts, endpoint_url, then the rules", function()
    local function url(vars, profile)
      return services.endpoint("sts", { getenv = env(vars), files = files, profile_name = profile or "default",
        region = "eu-west-1" }).url
    end
    assert.are.equal("http://127.0.0.1:1", url{ AWS_ENDPOINT_URL_STS = "http://127.0.0.1:1",
      AWS_ENDPOINT_URL = "http://127.0.0.1:2" })
    assert.are.equal("http://127.0.0.1:2", url{ AWS_ENDPOINT_URL = "http://127.0.0.1:2" })
    assert.are.equal("http://127.0.0.1:3", url{})
    assert.are.equal("http://127.0.0.1:5", url({}, "plain"))
    assert.are.equal("https://sts.eu-west-1.amazonaws.com", url({}, "none"))
    assert.are.equal("https://sts.eu-west-1.amazonaws.com", url{ AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true",
      AWS_ENDPOINT_URL_STS = "http://127.0.0.1:1" })
  end)

  it("is regional (UseGlobalEndpoint false), FIPS and dual-stack as configured, us-east-1 without a region", function()
    local function ep(where) where.getenv = env{}; return services.endpoint("sts", where) end
    assert.are.equal("https://sts.us-east-1.amazonaws.com", ep{}.url)
    assert.are.equal("https://sts.us-west-1.amazonaws.com", ep{ region = "us-west-1" }.url)
    assert.are.equal("https://sts-fips.us-east-2.api.aws", ep{ region = "us-east-2", use_fips = true,
      use_dualstack = true }.url)
    local g = ep{ region = "aws-global" }
    assert.are.equal("https://sts.amazonaws.com", g.url)
    assert.are.equal("us-east-1", g.region)   -- signed for the rules' signingRegion
    assert.are.equal("sts.amazonaws.com", g.ep.host_header)
  end)

  it("is the global endpoint for the legacy regions when sts_regional_endpoints is legacy", function()
    local function ep(region)
      return services.endpoint("sts", { getenv = env{}, region = region, sts_regional_endpoints = "legacy" })
    end
    assert.are.equal("https://sts.amazonaws.com", ep("eu-west-1").url)
    assert.are.equal("us-east-1", ep("eu-west-1").region)
    assert.are.equal("https://sts.af-south-1.amazonaws.com", ep("af-south-1").url)   -- not a legacy region
    assert.are.equal("af-south-1", ep("af-south-1").region)
  end)

  it("refuses a custom endpoint with FIPS as the rules do", function()
    local ok, e = pcall(services.endpoint, "sts", { getenv = env{ AWS_ENDPOINT_URL_STS = "http://127.0.0.1:1" },
      region = "us-east-1", use_fips = true })
    assert.is_false(ok)
    assert.are.equal("ConfigError", e.code)
    assert.are.equal("Invalid Configuration: FIPS and custom endpoint are not supported", e.message)
  end)
end)
