-- aws_connect.safe: the same API returning nil, err instead of raising,
-- with the very error objects the raising API throws.

local aws_connect = require("aws_connect")
local safe = require("aws_connect.safe")
local errors = aws_connect.errors

local answers, sent

local transport = {
  request = function(_, req)
    sent[#sent + 1] = req
    local a = table.remove(answers, 1)
    assert(a, "no scripted answer")
    return a
  end,
}

local CREDS = { access_key_id = "AKIDTEST", secret_access_key = "secret-for-tests" }

local function opts(extra)
  local o = { region = "us-east-1", credentials = CREDS, transport = transport, getenv = {}, max_attempts = 1 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local VALID = { identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true, outbound_calls_enabled = false }

local function ok_answer()
  return { status = 200, reason = "OK", headers = { { "x-amzn-RequestId", "req-1" } },
           body = '{"Id":"i-1","Arn":"arn:aws:connect:us-east-1:123456789012:instance/i-1"}' }
end

describe("aws_connect.safe", function()
  before_each(function()
    answers, sent = {}, {}
  end)

  it("returns what the raising API returns on success", function()
    local client = assert(safe.new(opts()))
    answers[1] = ok_answer()
    local inst, meta = client:create_instance(VALID)
    assert.are.equal("i-1", inst.id)
    assert.are.equal("req-1", meta.request_id)
    assert.are.equal(1, meta.attempts)
  end)

  it("returns nil and the same ValidationError object the raising API throws", function()
    local client = assert(safe.new(opts()))
    local res, err = client:create_instance{ identity_management_type = "NOPE" }
    assert.is_nil(res)
    assert.is_true(errors.is_error(err))
    assert.is_true(err:is(errors.ValidationError))
    local ok, raised = pcall(aws_connect.new(opts()).create_instance, aws_connect.new(opts()),
      { identity_management_type = "NOPE" })
    assert.is_false(ok)
    assert.are.equal(getmetatable(raised), getmetatable(err))
    assert.are.equal(raised.code, err.code)
    assert.are.equal(raised.field, err.field)
    assert.are.equal(raised.message, err.message)
    assert.are.equal(0, err.attempts)
    assert.are.equal(0, #sent)
  end)

  it("returns service errors with status, request id and attempts", function()
    local client = assert(safe.new(opts()))
    answers[1] = { status = 402, reason = "Payment Required",
                   headers = { { "x-amzn-ErrorType", "ServiceQuotaExceededException" }, { "x-amzn-RequestId", "req-9" } },
                   body = '{"message":"quota"}' }
    local res, err = client:create_instance(VALID)
    assert.is_nil(res)
    assert.are.equal("ServiceQuotaExceededException", err.code)
    assert.are.equal("service", err.kind)
    assert.are.equal(402, err.status)
    assert.are.equal("req-9", err.request_id)
    assert.are.equal(1, err.attempts)
    assert.truthy(tostring(err):find("ServiceQuotaExceededException: quota", 1, true))
  end)

  it("returns nil, ConfigError from new() for bad options", function()
    local client, err = safe.new{ regoin = "us-east-1" }
    assert.is_nil(client)
    assert.is_true(errors.is(err, "ConfigError"))
    assert.are.equal("regoin", err.field)
    local c2, e2 = safe.new("us-east-1")
    assert.is_nil(c2)
    assert.are.equal("ConfigError", e2.code)
  end)

  it("reads fields through and prints like the client", function()
    local client = assert(safe.new(opts{ endpoint = "http://127.0.0.1:4566" }))
    assert.are.equal("us-east-1", client.region)
    assert.are.equal("http://127.0.0.1:4566", client.endpoint)
    assert.are.equal(tostring(safe.raising(client)), tostring(client))
    assert.are.equal(aws_connect.Client, getmetatable(safe.raising(client)))
  end)

  it("wraps every client method, also ones added to the class later", function()
    local client = assert(safe.new(opts()))
    aws_connect.Client.test_only_method = function(self, x)
      if x == "fail" then errors.raise("ResourceNotFoundException", "no such thing", { kind = "service" }) end
      return self.region, x
    end
    local ok, err = pcall(function()
      local a, b = client:test_only_method("fine")
      assert.are.equal("us-east-1", a)
      assert.are.equal("fine", b)
      local r, e = client:test_only_method("fail")
      assert.is_nil(r)
      assert.are.equal("ResourceNotFoundException", e.code)
    end)
    aws_connect.Client.test_only_method = nil
    assert(ok, err)
    assert.is_nil(client.test_only_method)
  end)

  it("wraps describe, list, delete and close as well", function()
    local client = assert(safe.new(opts()))
    for _, name in ipairs({ "describe_instance", "list_instances", "delete_instance", "close" }) do
      assert.are.equal("function", type(client[name]), name)
    end
    local r, e = client:describe_instance(nil)
    assert.is_nil(r)
    assert.are.equal("ValidationError", e.code)
    assert.is_nil((client:close()))
  end)

  it("answers a method called with a dot instead of a colon with nil, ConfigError", function()
    local client = assert(safe.new(opts()))
    local r, e = client.create_instance(VALID)
    assert.is_nil(r)
    assert.are.equal("ConfigError", e.code)
  end)

  it("raises errors that are not aws_connect errors (bugs) again", function()
    local client = assert(safe.new(opts()))
    answers[1] = ok_answer()
    local boom = { request = function() error("bug in a custom transport") end }
    local c2 = assert(safe.new(opts{ transport = boom }))
    assert.has_error(function() c2:create_instance(VALID) end)
    assert(client:create_instance(VALID))
  end)

  it("wraps an existing client and shares errors, null and VERSION with aws_connect", function()
    local client = assert(safe.wrap(aws_connect.new(opts())))
    answers[1] = ok_answer()
    assert.are.equal("i-1", (client:create_instance(VALID)).id)
    local none, err = safe.wrap({})
    assert.is_nil(none)
    assert.are.equal("ConfigError", err.code)
    assert.are.equal(aws_connect.errors, safe.errors)
    assert.are.equal(aws_connect.null, safe.null)
    assert.are.equal(aws_connect.VERSION, safe.VERSION)
  end)
end)
