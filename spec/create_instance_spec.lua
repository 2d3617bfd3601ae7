-- create_instance end to end against the fake Connect server, which checks
-- every request's signature with botocore's own signer.

local aws_connect = require("aws_connect")
local fake = require("spec.support.fake_server")
local cjson = require("cjson")
local helpers = require("spec.support.helpers")

local errors = aws_connect.errors

local KEY, SECRET = "AKIDE2ETEST", "e2e/secret+KEY/wJalrXUtnFEMI"
local TOKEN = "FQoGZXIvYXdzEJr//session+token/value=="

local header_of, params = helpers.header, helpers.instance_params

describe("create_instance against the fake Connect server", function()
  local srv, client, logs

  helpers.fake_server({ access_key = KEY, secret_key = SECRET, region = "us-east-1", create_delay = 0.2 },
    function(s) srv = s end)

  before_each(function()
    logs = {}
    client = aws_connect.new{
      region = "us-east-1",
      endpoint = srv.endpoint,
      credentials = { access_key_id = KEY, secret_access_key = SECRET },
      max_attempts = 1,
      app_id = "spec",
      logger = function(level, msg) logs[#logs + 1] = level .. " " .. msg end,
      getenv = {},
    }
  end)

  it("creates an instance with every parameter and returns id, arn and meta", function()
    local instance, meta = client:create_instance(params{
      instance_alias = "game-support",
      directory_id = "d-0123456789",
      tags = { team = "ops", ["cost center"] = "42" },
      client_token = "my-token-1",
    })
    assert.is_string(instance.id)
    assert.are.equal("arn:aws:connect:us-east-1:123456789012:instance/" .. instance.id, instance.arn)
    assert.are.equal(200, meta.status)
    assert.are.equal(1, meta.attempts)
    assert.are.equal("my-token-1", meta.client_token)
    assert.is_string(meta.request_id)

    local reqs = srv:requests()
    assert.are.equal(1, #reqs)
    local r = reqs[1]
    assert.is_true(r.signature_valid, tostring(r.signature_error))
    assert.are.equal("PUT", r.method)
    assert.are.equal("/instance", r.path)
    assert.are.equal(meta.request_id ~= nil, true)
    local body = cjson.decode(r.body)
    assert.are.same({
      IdentityManagementType = "CONNECT_MANAGED", InboundCallsEnabled = true, OutboundCallsEnabled = false,
      InstanceAlias = "game-support", DirectoryId = "d-0123456789",
      Tags = { team = "ops", ["cost center"] = "42" }, ClientToken = "my-token-1",
    }, body)
    assert.are.equal("application/json", header_of(r, "Content-Type"))
    assert.is_truthy(header_of(r, "User-Agent"):find("^lua%-aws%-connect/[%d.]+ lua/%S+.* app/spec$"))
    assert.is_truthy(header_of(r, "amz-sdk-request"):find("^attempt=1; max=1$"))
    assert.is_nil(header_of(r, "X-Amz-Security-Token"))

    local insts = srv:instances()
    assert.are.equal(1, #insts)
    assert.are.equal(instance.id, insts[1].Id)
    assert.are.equal("game-support", insts[1].InstanceAlias)
  end)

  it("generates a UUIDv4 client token and reports it in meta", function()
    local _, meta = client:create_instance(params())
    assert.is_truthy(meta.client_token:find(
      "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"))
    local body = cjson.decode(srv:requests()[1].body)
    assert.are.equal(meta.client_token, body.ClientToken)
  end)

  it("returns the same instance for the same client token", function()
    local a = client:create_instance(params{ client_token = "same" })
    local b = client:create_instance(params{ client_token = "same" })
    assert.are.equal(a.id, b.id)
    assert.are.equal(1, #srv:instances())
  end)

  it("signs the session token", function()
    local tsrv = fake.start{ access_key = KEY, secret_key = SECRET, session_token = TOKEN, region = "us-east-1" }
    finally(function() tsrv:stop() end)
    local c = aws_connect.new{
      region = "us-east-1", endpoint = tsrv.endpoint, getenv = {},
      credentials = { access_key_id = KEY, secret_access_key = SECRET, session_token = TOKEN },
    }
    local instance = c:create_instance(params())
    assert.is_string(instance.id)
    local r = tsrv:requests()[1]
    assert.is_true(r.signature_valid)
    assert.are.equal(TOKEN, header_of(r, "X-Amz-Security-Token"))
    assert.is_truthy(header_of(r, "Authorization"):find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,",
      1, true))
  end)

  it("reads credentials, region and endpoint from the environment", function()
    local c = aws_connect.new{ getenv = {
      AWS_ACCESS_KEY_ID = KEY, AWS_SECRET_ACCESS_KEY = SECRET,
      AWS_REGION = "us-east-1", AWS_ENDPOINT_URL_CONNECT = srv.endpoint,
    } }
    assert.are.equal("us-east-1", c.region)
    assert.are.equal(srv.endpoint, c.endpoint)
    assert.is_string(c:create_instance(params()).id)
    assert.is_true(srv:requests()[1].signature_valid)
  end)

  it("is rejected by the server when one byte of the signature changes", function()
    local curl = require("aws_connect.transport.curl").new()
    finally(function() curl:close() end)
    local tamper = {
      request = function(_, req)
        for _, h in ipairs(req.headers) do
          if h[1] == "Authorization" then
            h[2] = h[2]:gsub("Signature=(%x)", function(c) return "Signature=" .. (c == "0" and "1" or "0") end)
          end
        end
        return curl:request(req)
      end,
    }
    local c = aws_connect.new{
      region = "us-east-1", endpoint = srv.endpoint, transport = tamper, max_attempts = 1, getenv = {},
      credentials = { access_key_id = KEY, secret_access_key = SECRET },
    }
    local ok, err = pcall(c.create_instance, c, params())
    assert.is_false(ok)
    assert.are.equal("InvalidSignatureException", err.code)
    assert.are.equal(403, err.status)
    assert.are.equal("service", err.kind)
    local r = srv:requests()[1]
    assert.is_false(r.signature_valid)
    assert.are.equal(0, #srv:instances())
  end)

  it("gets UnrecognizedClientException for an unknown access key", function()
    local c = aws_connect.new{
      region = "us-east-1", endpoint = srv.endpoint, max_attempts = 1, getenv = {},
      credentials = { access_key_id = "AKIDUNKNOWN", secret_access_key = SECRET },
    }
    local ok, err = pcall(c.create_instance, c, params())
    assert.is_false(ok)
    assert.are.equal("UnrecognizedClientException", err.code)
    assert.are.equal(403, err.status)
  end)

  describe("raises typed errors", function()
    local cases = {
      { 400, "InvalidRequestException", "bad request" },
      { 402, "ServiceQuotaExceededException", "too many instances" },
      { 429, "ThrottlingException", "Rate exceeded" },
      { 404, "ResourceNotFoundException", "not found" },
      { 500, "InternalServiceException", "internal" },
      { 403, "AccessDeniedException", "not allowed" },
    }
    for _, case in ipairs(cases) do
      local status, code, message = case[1], case[2], case[3]
      it(code .. " (HTTP " .. status .. ")", function()
        srv:script{ {
          status = status,
          headers = { ["x-amzn-ErrorType"] = code .. ":http://internal.amazon.com/coral/com.amazonaws.connect/",
                      ["x-amzn-RequestId"] = "req-" .. status },
          body = cjson.encode({ message = message }),
        } }
        local ok, err = pcall(client.create_instance, client, params())
        assert.is_false(ok)
        assert.is_true(errors.is_error(err))
        assert.are.equal(code, err.code)
        assert.is_true(err:is(code))
        assert.is_true(errors.is(err, code))
        if errors[code] then assert.is_true(err:is(errors[code])) end
        assert.are.equal("service", err.kind)
        assert.are.equal(message, err.message)
        assert.are.equal(status, err.status)
        assert.are.equal("req-" .. status, err.request_id)
        assert.are.equal(1, err.attempts)
        assert.are.equal(code == "ThrottlingException" or code == "InternalServiceException", err.retryable)
        local line = tostring(err)
        assert.is_truthy(line:find(code, 1, true))
        assert.is_truthy(line:find(message, 1, true))
        assert.is_falsy(line:find("\n"))
      end)
    end

    it("for a code from the body's __type with a namespace", function()
      srv:script{ { status = 400, body = '{"__type":"com.amazonaws.connect#InvalidRequestException","Message":"nope"}' } }
      local ok, err = pcall(client.create_instance, client, params())
      assert.is_false(ok)
      assert.are.equal("InvalidRequestException", err.code)
      assert.are.equal("nope", err.message)
    end)

    it("for a non-JSON error body, keeping the text as the message", function()
      srv:script{ { status = 403, headers = { ["Content-Type"] = "text/plain" }, body = "Forbidden by proxy" } }
      local ok, err = pcall(client.create_instance, client, params())
      assert.is_false(ok)
      assert.are.equal("403", err.code)
      assert.are.equal("service", err.kind)
      assert.are.equal("Forbidden by proxy", err.message)
    end)

    it("for an empty 503 with the status as the code", function()
      srv:script{ { status = 503, body = "" } }
      local ok, err = pcall(client.create_instance, client, params())
      assert.is_false(ok)
      assert.are.equal("503", err.code)
      assert.are.equal(503, err.status)
      assert.is_true(err.retryable)
    end)

    it("never for input our client refuses first", function()
      -- a real transport is in place, but validation stops the call before it
      local curl = require("aws_connect.transport.curl").new()
      finally(function() curl:close() end)
      local c = aws_connect.new{
        region = "us-east-1", endpoint = srv.endpoint, max_attempts = 1, getenv = {},
        credentials = { access_key_id = KEY, secret_access_key = SECRET },
        transport = curl,
      }
      local ok, err = pcall(c.create_instance, c, params{ instance_alias = ("a"):rep(46) })
      assert.is_false(ok)
      assert.are.equal("ValidationError", err.code)
      assert.are.equal(0, #srv:requests())
    end)
  end)

  it("never sends invalid input", function()
    local bad = {
      params{ identity_management_type = "NOPE" },
      params{ instance_alias = "d-abc" },
      params{ tags = { ["aws:x"] = "1" } },
      params{ directory_id = "d-XYZ" },
      params{ inbound_calls_enabled = "yes" },
      params{ unknown = 1 },
    }
    for _, p in ipairs(bad) do
      local ok, err = pcall(client.create_instance, client, p)
      assert.is_false(ok)
      assert.are.equal("ValidationError", err.code)
      assert.are.equal(0, err.attempts)
      assert.is_string(err.field)
    end
    assert.are.equal(0, #srv:requests())
  end)

  it("keeps secrets out of errors, tostring and logs", function()
    local tsrv = fake.start{ access_key = KEY, secret_key = SECRET, session_token = TOKEN, region = "us-east-1" }
    finally(function() tsrv:stop() end)
    local seen = {}
    local c = aws_connect.new{
      region = "us-east-1", endpoint = tsrv.endpoint, max_attempts = 2, getenv = {},
      sleep = function() end,
      credentials = { access_key_id = KEY, secret_access_key = SECRET, session_token = TOKEN },
      logger = function(level, msg) seen[#seen + 1] = level .. msg end,
    }
    seen[#seen + 1] = tostring(c)
    tsrv:script{ { status = 500, body = '{"message":"boom"}' } }
    assert.is_string(c:create_instance(params()).id)
    tsrv:script{ { status = 400, headers = { ["x-amzn-ErrorType"] = "InvalidRequestException" }, body = "{}" } }
    local _, err = pcall(c.create_instance, c, params())
    seen[#seen + 1] = tostring(err)
    seen[#seen + 1] = err.message
    local _, verr = pcall(c.create_instance, c, params{ tags = {} })
    seen[#seen + 1] = tostring(verr)
    assert.is_true(#seen > 4)
    for _, s in ipairs(seen) do
      assert.is_falsy(s:find(SECRET, 1, true), s)
      assert.is_falsy(s:find(TOKEN, 1, true), s)
    end
  end)

  it("logs each attempt through the logger", function()
    client:create_instance(params())
    assert.is_true(#logs >= 1)
    assert.is_truthy(logs[1]:find("PUT " .. srv.endpoint .. "/instance attempt 1: HTTP 200", 1, true))
  end)
end)
