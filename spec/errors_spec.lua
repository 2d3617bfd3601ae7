-- The error contract of design.md: fields, tostring, is().

local errors = require("aws_connect.errors")

describe("error objects", function()
  it("carry the contract's fields with defaults", function()
    local e = errors.new("ThrottlingException", "Rate exceeded", { status = 429, request_id = "r-1", attempts = 3 })
    assert.are.equal("ThrottlingException", e.code)
    assert.are.equal("service", e.kind)
    assert.are.equal("Rate exceeded", e.message)
    assert.are.equal(429, e.status)
    assert.are.equal("r-1", e.request_id)
    assert.are.equal(3, e.attempts)
    assert.is_false(e.retryable)
  end)

  it("give client-side codes their kinds", function()
    local kinds = {
      ValidationError = "validation", CredentialsError = "credentials", ConfigError = "config",
      NetworkError = "network", TimeoutError = "timeout", ResponseError = "response",
    }
    for code, kind in pairs(kinds) do
      local e = errors.new(code, "x")
      assert.are.equal(kind, e.kind)
      assert.are.equal(0, e.attempts)
      assert.are.equal(code, errors[code].code)
    end
  end)

  it("have a one-line tostring with code, message and context", function()
    local e = errors.new("InvalidRequestException", "bad\nthing", { status = 400, request_id = "abc", attempts = 1 })
    local s = tostring(e)
    assert.are.equal("aws_connect: InvalidRequestException: bad thing (HTTP 400, request id abc, 1 attempt)", s)
    local v = errors.new("ValidationError", "tags must have 1 to 50 entries", { field = "tags" })
    assert.are.equal("aws_connect: ValidationError: tags must have 1 to 50 entries (field tags)", tostring(v))
  end)

  it("test codes by string or by class, as method or function", function()
    local e = errors.new("ResourceNotFoundException", "gone")
    assert.is_true(e:is("ResourceNotFoundException"))
    assert.is_true(e:is(errors.ResourceNotFoundException))
    assert.is_false(e:is(errors.ThrottlingException))
    assert.is_true(errors.is(e, errors.ResourceNotFoundException))
    assert.is_false(errors.is("ResourceNotFoundException", "ResourceNotFoundException"))
    assert.is_false(errors.is({ code = "ResourceNotFoundException" }, "ResourceNotFoundException"))
  end)

  it("exist as classes for every modeled and client-side code", function()
    for _, code in ipairs({ "InvalidRequestException", "ServiceQuotaExceededException", "ThrottlingException",
      "ResourceNotFoundException", "InternalServiceException", "ValidationError", "CredentialsError",
      "ConfigError", "NetworkError", "TimeoutError", "ResponseError" }) do
      assert.are.equal(code, errors[code].code)
      assert.are.equal("aws_connect.errors." .. code, tostring(errors[code]))
    end
  end)

  it("are raised as objects, not strings", function()
    local ok, e = pcall(errors.raise, "ConfigError", "no region")
    assert.is_false(ok)
    assert.is_true(errors.is_error(e))
    assert.are.equal("no region", e.message)
  end)
end)
