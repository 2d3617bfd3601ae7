-- aws_connect.preload() loads everything a client loads on first use, so
-- that nginx workers (which may not be able to read the install folder)
-- never need a module or data file after init_by_lua.

local aws_connect = require("aws_connect")

describe("aws_connect.preload", function()
  it("loads every operation of the four models and leaves nothing to read later", function()
    local n = aws_connect.preload()
    local model = require("aws_connect.model")
    local expected = 0
    for _, id in ipairs({ "connect", "sts", "sso", "sso_oidc" }) do expected = expected + #model.service(id).names end
    assert.are.equal(expected, n)
    assert.is_true(n >= 399)

    -- from here on, any attempt to find an aws_connect module or to open a
    -- file fails the spec
    local searchers = package.searchers or package.loaders
    local saved_open = io.open
    local reads = {}
    table.insert(searchers, 1, function(name)
      if name:find("^aws_connect") then reads[#reads + 1] = name end
      return nil
    end)
    io.open = function(path, ...)  -- luacheck: ignore 122
      reads[#reads + 1] = path
      return saved_open(path, ...)
    end
    local ok, err = pcall(function()
      local resp = { status = 200, reason = "OK", headers = {}, body = "{}" }
      local client = aws_connect.new{
        region = "us-east-1", endpoint = "http://127.0.0.1:1", getenv = {},
        credentials = { access_key_id = "AKIDTEST", secret_access_key = "secret-for-tests" },
        transport = { request = function() return resp end },
      }
      client:describe_user{ instance_id = "i-1", user_id = "u-1" }
      client:list_queues{ instance_id = "i-1", queue_types = { "STANDARD" } }
      client:tag_resource{ resource_arn = "arn:aws:connect:us-east-1:1:instance/i-1", tags = { team = "ops" } }
      -- the error path types a modeled exception from the model
      resp = { status = 400, reason = "Bad Request", headers = { { "x-amzn-ErrorType", "InvalidRequestException" } },
        body = '{"Message":"no","Reason":{"AttachedFileInvalidRequestExceptionReason":"INVALID_FILE_SIZE"}}' }
      local okc, e = pcall(client.describe_queue, client, { instance_id = "i-1", queue_id = "q-1" })
      assert.is_false(okc)
      assert.are.equal("InvalidRequestException", e.code)
      assert.are.equal("INVALID_FILE_SIZE", e.reason.attached_file_invalid_request_exception_reason)
      -- a pattern with Unicode categories (tag keys)
      resp = { status = 200, reason = "OK", headers = {}, body = "{}" }
      client:tag_resource{ resource_arn = "arn:aws:connect:us-east-1:1:instance/i-1", tags = { ["équipe"] = "ops" } }
    end)
    table.remove(searchers, 1)
    io.open = saved_open  -- luacheck: ignore 122
    assert.is_true(ok, tostring(err))
    assert.are.same({}, reads)
  end)
end)

describe("validation caches", function()
  it("never keep a value of a sensitive shape (a password stays only in the call)", function()
    local resp = { status = 200, reason = "OK", headers = {}, body = '{"UserId":"u-1","UserArn":"arn:x"}' }
    local client = aws_connect.new{
      region = "us-east-1", endpoint = "http://127.0.0.1:1", getenv = {},
      credentials = { access_key_id = "AKIDTEST", secret_access_key = "secret-for-tests" },
      transport = { request = function() return resp end },
    }
    local password = "Sup3r-secret-" .. tostring(os.time())
    client:create_user{ instance_id = "i-1", username = "agent-7", password = password,
      phone_config = { phone_type = "SOFT_PHONE" }, security_profile_ids = { "sp-1" }, routing_profile_id = "rp-1" }
    local op = require("aws_connect.model").service("connect"):operation("CreateUser")
    local seen = {}
    local function walk(shape)
      if seen[shape] then return end
      seen[shape] = true
      if shape.sensitive and shape.passed then
        for v in pairs(shape.passed) do assert.are_not.equal(password, v) end
      end
      for _, m in ipairs(shape.members or {}) do walk(m.shape) end
      if shape.member then walk(shape.member) end
      if shape.value then walk(shape.value) end
    end
    walk(op.input)
    assert.is_true(op.input.by_key.Password.shape.sensitive == true)
    assert.is_nil(op.input.by_key.Password.shape.passed)
  end)
end)

