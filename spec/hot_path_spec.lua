-- What the hot path's shortcuts must keep (call.lua, shape.lua,
-- protocol/rest_json.lua): the path named by an unexpected response shape
-- (kept as a stack, built only on failure), map key messages ("key must"),
-- and requests that stay the same from call to call while the client's
-- shared header pairs are reused.

package.path = "./?.lua;" .. package.path

local helpers = require("spec.support.helpers")

local INSTANCE = "9f8a7b6c-1d2e-4f30-8a4b-5c6d7e8f9a0b"
local USER = "1a2b3c4d-1d2e-4f30-8a4b-5c6d7e8f9a0b"

local function client(body, opts)
  local t = helpers.recording_transport(function()
    return { status = 200, reason = "OK", headers = { { "x-amzn-RequestId", "r-1" } }, body = body }
  end)
  local creds = helpers.merge(helpers.creds(), { session_token = "tok" })
  return helpers.client({ transport = t, credentials = creds }, opts), t
end

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return e
end

describe("an unexpected response shape", function()
  local function parse_error(user_json)
    local c = client('{"User":' .. user_json .. '}')
    local e = err_of(c.describe_user, c, { instance_id = INSTANCE, user_id = USER })
    assert.are.equal("ResponseError", e.code)
    return e.message
  end

  it("names a nested member by its wire path", function()
    assert.are.equal("unexpected response shape: DescribeUser.User.PhoneConfig.AfterContactWorkTimeLimit "
      .. "should be a number, got string", parse_error('{"PhoneConfig":{"AfterContactWorkTimeLimit":"x"}}'))
  end)

  it("names a list entry by its index in the response", function()
    assert.are.equal("unexpected response shape: DescribeUser.User.SecurityProfileIds[3] should be a string, "
      .. "got number", parse_error('{"SecurityProfileIds":["a",null,7]}'))
  end)

  it("names a map entry by its key", function()
    assert.are.equal("unexpected response shape: DescribeUser.User.Tags.team should be a string, got boolean",
      parse_error('{"Tags":{"team":true}}'))
  end)

  it("names the operation when the top level is no object", function()
    local c = client('[1]')
    local e = err_of(c.describe_user, c, { instance_id = INSTANCE, user_id = USER })
    assert.are.equal("unexpected response shape: DescribeUser should be a JSON object", e.message)
  end)

  it("does not leak a failed parse's path into the next one", function()
    local c, t = client('{"User":{"PhoneConfig":{"AfterContactWorkTimeLimit":"x"}}}')
    err_of(c.describe_user, c, { instance_id = INSTANCE, user_id = USER })
    t.request = function()
      return { status = 200, headers = {}, body = '{"User":{"Tags":{"a":1}}}' }
    end
    local e = err_of(c.describe_user, c, { instance_id = INSTANCE, user_id = USER })
    assert.are.equal("unexpected response shape: DescribeUser.User.Tags.a should be a string, got number", e.message)
  end)
end)

describe("a map key that breaks its shape", function()
  local c = client('{"Id":"i-1","Arn":"arn:aws:connect:us-east-1:1:instance/i-1"}')
  local function create(tags)
    return err_of(c.create_instance, c, { identity_management_type = "CONNECT_MANAGED",
      inbound_calls_enabled = true, outbound_calls_enabled = false, tags = tags })
  end

  it("says 'key must' for a length", function()
    local e = create({ [("k"):rep(129)] = "v" })
    assert.are.equal("ValidationError", e.code)
    assert.matches('^tags%["k+%.%.%."%] key must be 1 to 128 characters long %(at most 128%), got 129$', e.message)
  end)

  it("says 'key must' for the reserved prefix", function()
    local e = create({ ["AWS:team"] = "v" })
    assert.are.equal('tags["AWS:team"] key must not start with \'aws:\' in any letter case '
      .. "(the prefix is reserved for AWS)", e.message)
    assert.are.equal('tags["AWS:team"]', e.field)
  end)

  it("keeps a message that does not start with 'must' as it is", function()
    local e = create({ ["a\1b"] = "v" })
    local key = ("%q"):format("a\1b")   -- "a\1b" (5.2+) or the byte itself (5.1)
    assert.are.equal(1, (e.message:find("tags[" .. key .. "] may not contain U+0001 (must match the pattern ", 1, true)))
  end)

  it("does not carry 'key' over to the value checked next", function()
    local e = create({ team = ("v"):rep(257) })
    assert.are.equal('tags["team"] must be at most 256 characters long, got 257', e.message)
  end)
end)

describe("requests of one client", function()
  it("sends the same headers call after call, with a fresh date, signature and invocation id", function()
    local c, t = client('{"User":{}}')
    c:describe_user{ instance_id = INSTANCE, user_id = USER }
    c:describe_user{ instance_id = INSTANCE, user_id = USER }
    local a, b = t.requests[1], t.requests[2]
    assert.are.equal(a.url, b.url)
    assert.are.equal(#a.headers, #b.headers)
    local names = {}
    for i, h in ipairs(a.headers) do
      names[i] = h[1]
      assert.are.equal(h[1], b.headers[i][1])
    end
    assert.are.same({ "Host", "X-Amz-Date", "X-Amz-Security-Token", "Authorization", "User-Agent",
      "amz-sdk-invocation-id", "amz-sdk-request" }, names)
    assert.are_not.equal(a.headers[6][2], b.headers[6][2])
    assert.are.equal("attempt=1; max=3", b.headers[7][2])
  end)
end)
