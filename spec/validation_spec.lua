-- Every model constraint of CreateInstance is checked before anything is
-- sent: each bad input raises a ValidationError naming the field, and the
-- transport is never called.

local aws_connect = require("aws_connect")
local errors = aws_connect.errors
local helpers = require("spec.support.helpers")

local sent

local recording_transport = helpers.recording_transport(function(req)
  sent[#sent + 1] = req
  return { status = 200, reason = "OK", headers = {}, body = '{"Id":"i-1","Arn":"arn:x"}' }
end)

local function client()
  return helpers.client{
    credentials = { access_key_id = "AKIDTEST", secret_access_key = "secret-for-tests" },
    transport = recording_transport,
  }
end

local valid = helpers.instance_params

local function rejects(params, field, message_part)
  sent = {}
  local ok, err = pcall(client().create_instance, client(), params)
  assert.is_false(ok, "expected a ValidationError for field " .. tostring(field))
  assert.is_true(errors.is_error(err), "not an error object: " .. tostring(err))
  assert.are.equal("ValidationError", err.code)
  assert.are.equal("validation", err.kind)
  assert.are.equal(0, err.attempts)
  assert.is_false(err.retryable)
  if field then assert.are.equal(field, err.field) end
  if message_part then
    assert.is_truthy(err.message:find(message_part, 1, true), "message: " .. err.message)
  end
  assert.are.equal(0, #sent, "a request was sent")
  return err
end

local function accepts(params)
  sent = {}
  local c = client()
  local inst = c:create_instance(params)
  assert.are.equal("i-1", inst.id)
  assert.are.equal(1, #sent)
  return sent[1]
end

describe("create_instance validation", function()
  it("accepts the minimal valid request", function()
    accepts(valid())
  end)

  it("requires identity_management_type and both call flags", function()
    rejects({ inbound_calls_enabled = true, outbound_calls_enabled = true }, "identity_management_type", "required")
    rejects({ identity_management_type = "SAML", outbound_calls_enabled = true }, "inbound_calls_enabled", "required")
    rejects({ identity_management_type = "SAML", inbound_calls_enabled = true }, "outbound_calls_enabled", "required")
  end)

  it("checks the identity management enum", function()
    for _, v in ipairs({ "SAML", "CONNECT_MANAGED", "EXISTING_DIRECTORY" }) do
      accepts(valid{ identity_management_type = v })
    end
    rejects(valid{ identity_management_type = "connect_managed" }, "identity_management_type", "must be one of")
    rejects(valid{ identity_management_type = 1 }, "identity_management_type", "string")
  end)

  it("wants booleans for the call flags, not truthy values", function()
    rejects(valid{ inbound_calls_enabled = "true" }, "inbound_calls_enabled", "boolean")
    rejects(valid{ outbound_calls_enabled = 1 }, "outbound_calls_enabled", "boolean")
  end)

  describe("instance_alias", function()
    it("accepts 1 to 45 letters, digits and inner hyphens", function()
      accepts(valid{ instance_alias = "a" })
      accepts(valid{ instance_alias = ("a"):rep(45) })
      accepts(valid{ instance_alias = "game-support-2" })
      accepts(valid{ instance_alias = "a--b" })
      accepts(valid{ instance_alias = "D-upper-is-fine" })
    end)
    it("rejects lengths outside 1..45", function()
      rejects(valid{ instance_alias = "" }, "instance_alias", "at least 1")
      rejects(valid{ instance_alias = ("a"):rep(46) }, "instance_alias", "at most 45")
    end)
    it("rejects the pattern's exclusions", function()
      rejects(valid{ instance_alias = "d-abc" }, "instance_alias", "d-")
      rejects(valid{ instance_alias = "-abc" }, "instance_alias")
      rejects(valid{ instance_alias = "abc-" }, "instance_alias")
      rejects(valid{ instance_alias = "ab_c" }, "instance_alias")
      rejects(valid{ instance_alias = "ab c" }, "instance_alias")
      rejects(valid{ instance_alias = "caf\195\169" }, "instance_alias")
    end)
  end)

  describe("directory_id", function()
    it("accepts d- and ten lower-case hex digits", function()
      accepts(valid{ identity_management_type = "EXISTING_DIRECTORY", directory_id = "d-0123456789" })
      accepts(valid{ directory_id = "d-abcdef0123" })
    end)
    it("rejects anything else", function()
      rejects(valid{ directory_id = "d-012345678" }, "directory_id", "12")
      rejects(valid{ directory_id = "d-01234567890" }, "directory_id")
      rejects(valid{ directory_id = "d-ABCDEF0123" }, "directory_id")
      rejects(valid{ directory_id = "x-0123456789" }, "directory_id")
      rejects(valid{ directory_id = 12 }, "directory_id", "string")
    end)
  end)

  describe("client_token", function()
    it("keeps a given token, even an empty one", function()
      local req = accepts(valid{ client_token = "" })
      assert.is_truthy(req.body:find('"ClientToken":""', 1, true))
      req = accepts(valid{ client_token = ("t"):rep(500) })
      assert.is_truthy(req.body:find(("t"):rep(500), 1, true))
    end)
    it("rejects more than 500 characters", function()
      rejects(valid{ client_token = ("t"):rep(501) }, "client_token", "at most 500")
    end)
    it("counts characters, not bytes", function()
      accepts(valid{ client_token = ("\195\169"):rep(500) })          -- 1000 bytes, 500 characters
      rejects(valid{ client_token = ("\195\169"):rep(501) }, "client_token")
    end)
    it("rejects invalid UTF-8", function()
      rejects(valid{ client_token = "\255\254" }, "client_token", "UTF-8")
    end)
  end)

  describe("tags", function()
    it("accepts 1 to 50 entries of allowed keys and values", function()
      local t = {}
      for i = 1, 50 do t["k" .. i] = "v" end
      accepts(valid{ tags = t })
      accepts(valid{ tags = { ["team name_1.x:/=+-@"] = ("v"):rep(256) } })
      accepts(valid{ tags = { [("k"):rep(128)] = "" } })
    end)
    it("accepts non-ASCII letters and numbers in keys", function()
      accepts(valid{ tags = { ["\195\169quipe"] = "ops" } })          -- équipe
      accepts(valid{ tags = { ["\230\151\165\230\156\172"] = "x" } }) -- 日本
      accepts(valid{ tags = { ["\217\163"] = "x" } })                  -- Arabic-Indic digit three
      accepts(valid{ tags = { ["a\194\160b"] = "x" } })                -- no-break space
    end)
    it("rejects empty and oversized maps", function()
      rejects(valid{ tags = {} }, "tags", "1 to 50")
      local t = {}
      for i = 1, 51 do t["k" .. i] = "v" end
      rejects(valid{ tags = t }, "tags", "1 to 50")
    end)
    it("rejects reserved, empty, long and odd keys", function()
      rejects(valid{ tags = { ["aws:x"] = "v" } }, 'tags["aws:x"]', "aws:")
      rejects(valid{ tags = { [""] = "v" } }, 'tags[""]', "1 to 128")
      rejects(valid{ tags = { [("k"):rep(129)] = "v" } }, nil, "1 to 128")
      rejects(valid{ tags = { ["a*b"] = "v" } }, 'tags["a*b"]', "U+002A")
      rejects(valid{ tags = { ["a\240\159\152\128"] = "v" } }, nil, "U+1F600")  -- emoji
      rejects(valid{ tags = { ["\204\129"] = "v" } }, nil, "U+0301")           -- combining mark
      rejects(valid{ tags = { [1] = "v" } }, "tags", "keys must be strings")
    end)
    it("rejects long or non-string values", function()
      rejects(valid{ tags = { k = ("v"):rep(257) } }, 'tags["k"]', "at most 256")
      rejects(valid{ tags = { k = 5 } }, 'tags["k"]', "string")
      accepts(valid{ tags = { k = ("\195\169"):rep(256) } })
    end)
    it("must be a table", function()
      rejects(valid{ tags = "team=ops" }, "tags", "table")
    end)
  end)

  describe("parameter names", function()
    it("accepts the AWS member names", function()
      local req = accepts{
        IdentityManagementType = "SAML", InboundCallsEnabled = true, OutboundCallsEnabled = true,
        InstanceAlias = "abc", Tags = { a = "b" }, ClientToken = "tok",
      }
      assert.is_truthy(req.body:find('"InstanceAlias":"abc"', 1, true))
      assert.is_truthy(req.body:find('"ClientToken":"tok"', 1, true))
    end)
    it("accepts a mix of spellings for different fields", function()
      accepts{ identity_management_type = "SAML", InboundCallsEnabled = true, outbound_calls_enabled = false }
    end)
    it("refuses both spellings of one field", function()
      rejects(valid{ IdentityManagementType = "SAML" }, "identity_management_type", "only one")
    end)
    it("refuses unknown keys with a suggestion", function()
      local err = rejects(valid{ instance_alia = "x" }, "instance_alia", "did you mean 'instance_alias'")
      assert.is_truthy(tostring(err):find("ValidationError", 1, true))
      rejects(valid{ Tag = { a = "b" } }, "Tag", "did you mean 'tags'")
      rejects(valid{ zzzzzzzzzzzz = 1 }, "zzzzzzzzzzzz", "known parameters")
      rejects(valid{ [1] = true }, "1", "unknown parameter")
    end)
    it("wants a table of parameters", function()
      rejects("CONNECT_MANAGED", "params", "table")
    end)
  end)
end)

describe("the request built from valid parameters", function()
  it("is PUT /instance with the AWS member names and a generated token", function()
    sent = {}
    local c = client()
    local _, meta = c:create_instance(valid{ instance_alias = "game-support", tags = { team = "ops" } })
    local req = sent[1]
    assert.are.equal("PUT", req.method)
    assert.are.equal("https://connect.us-east-1.amazonaws.com/instance", req.url)
    local body = require("cjson").decode(req.body)
    assert.are.equal("CONNECT_MANAGED", body.IdentityManagementType)
    assert.are.equal(true, body.InboundCallsEnabled)
    assert.are.equal(false, body.OutboundCallsEnabled)
    assert.are.equal("game-support", body.InstanceAlias)
    assert.are.same({ team = "ops" }, body.Tags)
    assert.are.equal(meta.client_token, body.ClientToken)
    assert.is_truthy(meta.client_token:find("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"))
    local names = {}
    for _, h in ipairs(req.headers) do names[h[1]:lower()] = h[2] end
    assert.are.equal("application/json", names["content-type"])
    assert.is_truthy(names["x-amz-date"]:find("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$"))
    assert.is_truthy(names["user-agent"]:find("^lua%-aws%-connect/%S+ lua/"))
    assert.is_nil(names["x-amz-security-token"])
    assert.is_truthy(names["authorization"]:find("SignedHeaders=content-type;host;x-amz-date,", 1, true))
  end)

  it("generates a new token for each call", function()
    sent = {}
    local c = client()
    local _, m1 = c:create_instance(valid())
    local _, m2 = c:create_instance(valid())
    assert.are_not.equal(m1.client_token, m2.client_token)
  end)
end)
