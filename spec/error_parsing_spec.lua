-- rest-json error parsing (aws-behaviour.md section 2): how an error
-- response becomes an error object's code, message, status, request id and
-- reason. Responses come from a custom transport table, one attempt each.

local aws_connect = require("aws_connect")
local errors = aws_connect.errors

local function respond(status, body, headers, reason)
  local h = {}
  for _, kv in ipairs(headers or {}) do h[#h + 1] = kv end
  return { status = status, reason = reason or "", headers = h, body = body or "" }
end

-- Sends one describe_instance through a transport that answers r; returns
-- the raised error (the spec fails if the call succeeds).
local function error_for(r)
  local sent = 0
  local client = aws_connect.new{
    region = "us-east-1", endpoint = "https://connect.example.test",
    credentials = { access_key_id = "AKIDPARSE", secret_access_key = "parse-secret" },
    max_attempts = 1, getenv = {},
    transport = { request = function() sent = sent + 1; return r end },
  }
  local ok, err = pcall(client.describe_instance, client, "inst-1")
  assert.is_false(ok, "the call should fail")
  assert.is_true(errors.is_error(err), "a typed error, got " .. tostring(err))
  assert.are.equal(1, sent)
  assert.are.equal(1, err.attempts)
  return err
end

describe("error responses: the code", function()
  it("comes from x-amzn-ErrorType first, cut at ':'", function()
    local e = error_for(respond(400, '{"code":"BodyCode","__type":"TypeCode","message":"m"}',
      { { "x-amzn-ErrorType", "InvalidRequestException:http://internal.amazon.com/coral/com.amazon.connect/" } }))
    assert.are.equal("InvalidRequestException", e.code)
    assert.are.equal("service", e.kind)
    assert.are.equal(400, e.status)
    assert.are.equal("m", e.message)
  end)

  it("then from the body's code, then Code, then __type", function()
    assert.are.equal("A", error_for(respond(400, '{"code":"A","Code":"B","__type":"C"}')).code)
    assert.are.equal("B", error_for(respond(400, '{"Code":"B","__type":"C"}')).code)
    assert.are.equal("C", error_for(respond(400, '{"__type":"C"}')).code)
  end)

  it("keeps the text after the last '#' of a qualified __type", function()
    local e = error_for(respond(404, '{"__type":"com.amazonaws.connect#ResourceNotFoundException","Message":"gone"}'))
    assert.are.equal("ResourceNotFoundException", e.code)
    assert.are.equal("gone", e.message)
    assert.are.equal("x", error_for(respond(400, '{"__type":"x:y"}')).code)
    assert.are.equal("FooError",
      error_for(respond(400, '{"__type":"aws.protocoltests.restjson#FooError:http://internal.amazon.com/"}')).code)
  end)

  it("falls back to the HTTP status when no code is given", function()
    local e = error_for(respond(418, '{"message":"I am a teapot"}'))
    assert.are.equal("418", e.code)
    assert.are.equal("service", e.kind)
    assert.are.equal("I am a teapot", e.message)
    assert.are.equal("409", error_for(respond(409, '{"code":""}')).code)
    assert.are.equal("400", error_for(respond(400, '{"code":"#"}')).code)
  end)

  it("ignores non-string code fields", function()
    assert.are.equal("Real", error_for(respond(400, '{"code":5,"Code":null,"__type":"Real"}')).code)
    assert.are.equal("400", error_for(respond(400, '{"code":{"x":1}}')).code)
  end)

  it("matches modeled error classes", function()
    local e = error_for(respond(429, '{"message":"Rate exceeded"}', { { "x-amzn-ErrorType", "ThrottlingException" } }))
    assert.is_true(errors.is(e, errors.ThrottlingException))
    assert.is_true(e:is("ThrottlingException"))
    assert.is_true(e.retryable)
    local q = error_for(respond(402, '{"message":"quota","Reason":{"AttachedFileServiceQuotaExceededExceptionReason":"X"}}',
      { { "x-amzn-ErrorType", "ServiceQuotaExceededException" } }))
    assert.is_true(errors.is(q, errors.ServiceQuotaExceededException))
    assert.is_false(q.retryable)
  end)
end)

describe("error responses: message, request id and reason", function()
  it("takes message, else Message, else empty", function()
    assert.are.equal("lower", error_for(respond(400, '{"message":"lower","Message":"upper"}')).message)
    assert.are.equal("upper", error_for(respond(400, '{"Message":"upper"}')).message)
    assert.are.equal("", error_for(respond(400, '{"code":"X"}')).message)
    assert.are.equal("upper", error_for(respond(400, '{"message":null,"Message":"upper"}')).message)
  end)

  it("takes the request id from x-amzn-RequestId", function()
    local e = error_for(respond(400, '{"message":"m"}', { { "x-amzn-RequestId", "abc-123" } }))
    assert.are.equal("abc-123", e.request_id)
    assert.truthy(tostring(e):find("request id abc-123", 1, true))
  end)

  it("merges a modeled Reason", function()
    local body = '{"message":"bad file","Reason":{"AttachedFileInvalidRequestExceptionReason":"INVALID_FILE_SIZE"}}'
    local e = error_for(respond(400, body, { { "x-amzn-ErrorType", "InvalidRequestException" } }))
    -- parsed by the model's error shape: snake_case at every depth, like outputs
    assert.are.same({ attached_file_invalid_request_exception_reason = "INVALID_FILE_SIZE" }, e.reason)
  end)

  it("uses a non-JSON body's text as the message, the header or the status as the code", function()
    local e = error_for(respond(403, "Forbidden by policy", { { "x-amzn-ErrorType", "AccessDeniedException" } }))
    assert.are.equal("AccessDeniedException", e.code)
    assert.are.equal("Forbidden by policy", e.message)
    e = error_for(respond(400, "  plain text error\n"))
    assert.are.equal("400", e.code)
    assert.are.equal("plain text error", e.message)
    e = error_for(respond(400, '{"message": "cut off'))
    assert.are.equal("400", e.code)
    assert.are.equal('{"message": "cut off', e.message)
  end)

  it("treats an empty or <html> 5xx as generic: the reason phrase, and the request id and error type kept", function()
    local e = error_for(respond(503, "", { { "x-amzn-RequestId", "lb-1" } }, "Service Unavailable"))
    assert.are.equal("503", e.code)
    assert.are.equal("Service Unavailable", e.message)
    assert.are.equal("lb-1", e.request_id)
    assert.is_true(e.retryable)
    -- as the AWS SDK for JavaScript: x-amzn-ErrorType names the code even
    -- when the body is a proxy's page
    e = error_for(respond(502, "<html><body><h1>502 Bad Gateway</h1></body></html>",
      { { "x-amzn-ErrorType", "InternalServiceException" }, { "x-amzn-RequestId", "lb-2" } }, "Bad Gateway"))
    assert.are.equal("InternalServiceException", e.code)
    assert.are.equal("Bad Gateway", e.message)
    assert.are.equal("lb-2", e.request_id)
    assert.is_true(e.retryable)
    e = error_for(respond(500, "<!DOCTYPE html>\n<html></html>", nil, "Internal Server Error"))
    assert.are.equal("500", e.code)
  end)

  it("parses a 5xx with a JSON body normally", function()
    local e = error_for(respond(500, '{"message":"boom"}', { { "x-amzn-ErrorType", "InternalServiceException" },
      { "x-amzn-RequestId", "r-500" } }))
    assert.are.equal("InternalServiceException", e.code)
    assert.are.equal("boom", e.message)
    assert.are.equal("r-500", e.request_id)
  end)

  it("sends a 3xx down the error path", function()
    local e = error_for(respond(301, "", { { "Location", "https://elsewhere.example" } }))
    assert.are.equal("301", e.code)
    assert.are.equal(301, e.status)
    assert.is_false(e.retryable)
  end)

  it("keeps messages printable and one line", function()
    local e = error_for(respond(400, '{"message":"line1\\nline2\\r\\n\\u0007bell"}'))
    assert.is_nil(e.message:find("[\r\n%z\1-\31]"))
    assert.truthy(e.message:find("line1 line2", 1, true))
    assert.is_nil(tostring(e):find("\n"))
  end)

  it("bounds a huge message", function()
    local e = error_for(respond(400, '{"message":"' .. ("x"):rep(100000) .. '"}'))
    assert.is_true(#e.message <= 1003)
  end)

  it("reads a large, whitespace-padded body in linear time", function()
    -- a "^%s*(.-)%s*$" trim takes minutes here (quadratic)
    local body = "{" .. (" "):rep(160 * 1024) .. "x" .. (" "):rep(96 * 1024)
    local t0 = os.clock()
    local e = error_for(respond(400, body, { { "x-amzn-ErrorType", "Weird" } }))
    assert.are.equal("Weird", e.code)
    assert.is_true(os.clock() - t0 < 30, "took too long")  -- a wide sanity bound
  end)

  it("refuses a 2xx that is not JSON as a ResponseError", function()
    local e = error_for(respond(200, "OK"))
    assert.are.equal("ResponseError", e.code)
    assert.are.equal("response", e.kind)
    assert.are.equal(200, e.status)
    assert.is_false(e.retryable)
  end)

  it("refuses a 2xx of the wrong shape as a ResponseError", function()
    local e = error_for(respond(200, '{"Instance":"not an object"}'))
    assert.are.equal("ResponseError", e.code)
    assert.truthy(e.message:find("Instance", 1, true))
  end)
end)
