-- The tricky parts of the model-driven pipeline, each against the exact
-- text expected on the wire: unions, nested lists of structures,
-- querystring lists, header and querystring timestamps, "." / ".." / "a/b"
-- in uri labels, "{}" bodies, idempotency tokens over retries, output
-- timestamps and empty lists, modeled error fields, raw reads of params,
-- the error classes of the model and the naming rule (checked against
-- botocore's xform_name).

package.path = "./?.lua;" .. package.path

local cjson = require("cjson")
local helpers = require("spec.support.helpers")
local examples = require("spec.support.examples")
local aws_connect = require("aws_connect")
local model = require("aws_connect.model")
local names = require("aws_connect.names")
local rest_json = require("aws_connect.protocol.rest_json")
local errors = aws_connect.errors

local svc = model.service("connect")

local T0 = 1440938160                           -- 2015-08-30T12:36:00Z
local INSTANCE = "9f8a7b6c-1d2e-4f30-8a4b-5c6d7e8f9a0b"
local QUEUE = "q-1"
local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local CREDS = { access_key_id = "AKIDFAKE", secret_access_key = "secret" }

-- A transport answering from a list (the last one repeats); it records
-- every request it was given.
local function canned(responses)
  return helpers.recording_transport(function(_, n)
    local r = responses[math.min(n, #responses)]
    local hs = { { "x-amzn-RequestId", "req-" .. n }, { "Content-Type", "application/json" } }
    for _, h in ipairs(r.headers or {}) do hs[#hs + 1] = h end
    return { status = r.status or 200, reason = r.reason or "OK", headers = hs, body = r.body or "" }
  end)
end

local function new_client(extra)
  return helpers.client({
    endpoint = "http://127.0.0.1:1", credentials = CREDS,
    sleep = function() end, clock = function() return T0 end,
  }, extra)
end

local function header_of(req, name)
  name = name:lower()
  local found
  for _, h in ipairs(req.headers) do
    if h[1]:lower() == name then
      assert.is_nil(found, "header " .. name .. " twice")
      found = h[2]
    end
  end
  return found
end

local function path_and_query(req)
  return req.url:match("^https?://[^/]+(.*)$")
end

-- JSON with sorted keys and no blanks: the body text independent of the
-- encoder's key order (JSON objects have none).
local function canon(v)
  local t = type(v)
  if t == "table" then
    local mt = getmetatable(v)
    if #v > 0 or (mt and mt.__jsontype == "array") then
      local parts = {}
      for i = 1, #v do parts[i] = canon(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = cjson.encode(k) .. ":" .. canon(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "number" and v == math.floor(v) then
    return ("%d"):format(v)
  end
  return cjson.encode(v)
end

local function body_text(req)
  return canon(cjson.decode(req.body))
end

local function refused(field, c, op, params)
  local ok, err = pcall(c.call, c, op, params)
  assert.is_false(ok, "expected a ValidationError at " .. field)
  assert.is_true(errors.is_error(err), tostring(err))
  assert.are.equal("ValidationError", err.code, tostring(err))
  assert.are.equal(field, err.field, tostring(err))
  assert.are.equal(0, err.attempts)
  return err
end

local srv

local function fake_client()
  return aws_connect.new{ region = "us-east-1", endpoint = srv.endpoint, getenv = {}, credentials = CREDS,
    max_attempts = 1, sleep = function() end }
end

local function last_logged()
  local log = srv:requests()
  return log[#log], #log
end

describe("pipeline", function()
  helpers.fake_server({}, function(s) srv = s end)

  describe("unions", function()
    local function params(timer_value)
      return {
        instance_id = INSTANCE, contact_id = "c-1",
        channel_configuration = { chat = { participant_timer_config_list = {
          { participant_role = "AGENT", timer_type = "IDLE", timer_value = timer_value },
        } } },
      }
    end

    it("sends the one member that is set, under its wire name", function()
      local req = new_client():prepare("UpdateParticipantRoleConfig",
        params{ participant_timer_duration_in_minutes = 10 })
      assert.are.equal("PUT", req.method)
      assert.are.equal("/contact/participant-role-config/" .. INSTANCE .. "/c-1", path_and_query(req))
      assert.are.equal('{"ChannelConfiguration":{"Chat":{"ParticipantTimerConfigList":[{"ParticipantRole":"AGENT",'
        .. '"TimerType":"IDLE","TimerValue":{"ParticipantTimerDurationInMinutes":10}}]}}}', body_text(req))
    end)

    it("refuses a union with no member, naming its path", function()
      local err = refused("channel_configuration.chat.participant_timer_config_list[1].timer_value",
        new_client(), "UpdateParticipantRoleConfig", params{})
      assert.matches("exactly one of participant_timer_action, participant_timer_duration_in_minutes, got 0",
        err.message, 1, true)
    end)

    it("refuses a union with two members", function()
      local err = refused("channel_configuration.chat.participant_timer_config_list[1].timer_value",
        new_client(), "UpdateParticipantRoleConfig",
        params{ participant_timer_action = "Unset", participant_timer_duration_in_minutes = 10 })
      assert.matches("got 2", err.message, 1, true)
    end)

    it("refuses a union member with its own violation at the member's path", function()
      refused("channel_configuration.chat.participant_timer_config_list[1].timer_value."
        .. "participant_timer_duration_in_minutes", new_client(), "UpdateParticipantRoleConfig",
        params{ participant_timer_duration_in_minutes = 1 })
    end)

    it("reaches the fake as one member", function()
      local c = fake_client()
      c:call("UpdateParticipantRoleConfig", params{ participant_timer_action = "Unset" })
      local e = last_logged()
      assert.is_true(e.signature_valid)
      assert.are.same({ ParticipantTimerAction = "Unset" },
        e.input.ChannelConfiguration.Chat.ParticipantTimerConfigList[1].TimerValue)
    end)
  end)

  describe("nested lists of structures", function()
    local function params(second_priority, second_channel)
      return {
        instance_id = INSTANCE, name = "support", description = "tier 1", default_outbound_queue_id = QUEUE,
        media_concurrencies = { { channel = "VOICE", concurrency = 1 } },
        queue_configs = {
          { queue_reference = { queue_id = QUEUE, channel = "VOICE" }, priority = 1, delay = 0 },
          { queue_reference = { queue_id = "q-2", channel = second_channel or "CHAT" },
            priority = second_priority, delay = 5 },
        },
      }
    end

    it("are sent in order, every level under its wire names", function()
      local req = new_client():prepare("CreateRoutingProfile", params(2))
      assert.are.equal("/routing-profiles/" .. INSTANCE, path_and_query(req))
      assert.are.equal('{"DefaultOutboundQueueId":"q-1","Description":"tier 1",'
        .. '"MediaConcurrencies":[{"Channel":"VOICE","Concurrency":1}],"Name":"support",'
        .. '"QueueConfigs":[{"Delay":0,"Priority":1,"QueueReference":{"Channel":"VOICE","QueueId":"q-1"}},'
        .. '{"Delay":5,"Priority":2,"QueueReference":{"Channel":"CHAT","QueueId":"q-2"}}]}', body_text(req))
    end)

    it("name the entry (1-based) and the member in errors", function()
      local err = refused("queue_configs[2].priority", new_client(), "CreateRoutingProfile",
        params(100))
      assert.matches("between 1 and 99, got 100", err.message, 1, true)
      refused("queue_configs[2].queue_reference.channel", new_client(), "CreateRoutingProfile",
        params(2, "FAX"))
      refused("queue_configs[2].priority", new_client(), "CreateRoutingProfile", params(nil))
      refused("queue_configs[2].priority", new_client(), "CreateRoutingProfile", params(2.5))
    end)
  end)

  describe("querystring lists", function()
    local ARN = "arn:aws:connect:us-east-1:123456789012:instance/" .. INSTANCE
    local ENCODED = "arn%3Aaws%3Aconnect%3Aus-east-1%3A123456789012%3Ainstance%2F" .. INSTANCE

    it("are repeated keys, in order, each value percent-encoded", function()
      local req = new_client():prepare("UntagResource", { resource_arn = ARN, tag_keys = { "team", "cost center", "a/b" } })
      assert.are.equal("DELETE", req.method)
      assert.are.equal("/tags/" .. ENCODED .. "?tagKeys=team&tagKeys=cost%20center&tagKeys=a%2Fb", path_and_query(req))
      assert.is_nil(req.body)
      assert.is_nil(header_of(req, "Content-Type"))
    end)

    it("reach the fake as a list", function()
      local c = fake_client()
      c:call("TagResource", { resource_arn = ARN, tags = { team = "ops", ["cost center"] = "7", ["a/b"] = "x" } })
      c:call("UntagResource", { resource_arn = ARN, tag_keys = { "team", "cost center" } })
      local e = last_logged()
      assert.are.equal("UntagResource", e.operation)
      assert.is_true(e.signature_valid)
      assert.are.equal("tagKeys=team&tagKeys=cost%20center", e.query)
      assert.are.same({ "team", "cost center" }, e.input.tagKeys)
      assert.are.same({ [ARN] = { ["a/b"] = "x" } }, srv:tags())
    end)

    it("of enums keep each value as a key of its own", function()
      local req = new_client():prepare("ListQueues", { instance_id = INSTANCE, queue_types = { "STANDARD", "AGENT" } })
      assert.are.equal("/queues-summary/" .. INSTANCE .. "?queueTypes=STANDARD&queueTypes=AGENT", path_and_query(req))
    end)

    it("refuse an entry that breaks its pattern at its index", function()
      refused("tag_keys[2]", new_client(), "UntagResource",
        { resource_arn = ARN, tag_keys = { "team", "aws:x" } })
    end)
  end)

  describe("header timestamps", function()
    local found = {}
    for _, name in ipairs(svc.names) do
      local op = svc:operation(name)
      for _, m in ipairs(op.input and op.input.members or {}) do
        if m.location == "header" and m.shape.type == "timestamp" then found[#found + 1] = { op = op, member = m } end
      end
    end

    it("are three members of the model", function()
      local list = {}
      for i, f in ipairs(found) do list[i] = f.op.name .. "." .. f.member.name .. "=" .. f.member.wire end
      assert.are.same({
        "CreateTestCase.LastModifiedTime=x-amz-last-modified-time",
        "UpdateTestCase.LastModifiedTime=x-amz-last-modified-time",
        "UpdateUserNotificationStatus.LastModifiedTime=x-amz-last-modified-time",
      }, list)
    end)

    it("are sent as HTTP dates (whole seconds) and reach the fake as the same time", function()
      local c = fake_client()
      for _, f in ipairs(found) do
        local params = examples.valid(f.op.input, { seed = 5 })
        params[f.member.snake] = T0 + 0.75
        local req = new_client():prepare(f.op.name, params)
        assert.are.equal("Sun, 30 Aug 2015 12:36:00 GMT", header_of(req, f.member.wire), f.op.name)
        params[f.member.snake] = T0
        c:call(f.op.name, params)
        local e = last_logged()
        assert.are.equal(f.op.name, e.operation)
        assert.is_true(e.signature_valid, f.op.name)
        assert.are.equal(T0, e.input[f.member.name], f.op.name)
      end
    end)

    it("refuse a value that is not epoch seconds", function()
      local f = found[1]
      local params = examples.valid(f.op.input, { seed = 5 })
      params[f.member.snake] = "Sun, 30 Aug 2015 12:36:00 GMT"
      refused(f.member.snake, new_client(), f.op.name, params)
    end)
  end)

  describe("querystring timestamps", function()
    it("do not occur in the Connect model (so a model-shaped operation is used)", function()
      for _, name in ipairs(svc.names) do
        local op = svc:operation(name)
        for _, m in ipairs(op.input and op.input.members or {}) do
          local s = m.shape.type == "list" and m.shape.member or m.shape
          assert.is_false(m.location == "querystring" and s.type == "timestamp", name .. "." .. m.name)
        end
      end
    end)

    it("are ISO 8601 in UTC, microseconds only when there is a fraction (as botocore)", function()
      local ts = { type = "timestamp" }
      local function member(name, wire, location, shape)
        return { name = name, snake = names.snake(name), wire = wire, location = location, shape = shape }
      end
      local input = { type = "structure", required = {}, members = {
        member("Id", "Id", "uri", { type = "string" }),
        member("At", "at", "querystring", ts),
        member("Times", "times", "querystring", { type = "list", member = ts }),
      } }
      local op = { name = "GetThing", method = "GET", uri = "/things/{Id}", input = input }
      local wire = rest_json.build(op, { Id = "x y", At = T0, Times = { T0 + 0.5, 0 } })
      assert.are.equal("/things/x%20y", wire.path)
      assert.are.equal("at=2015-08-30T12%3A36%3A00Z&times=2015-08-30T12%3A36%3A00.500000Z"
        .. "&times=1970-01-01T00%3A00%3A00Z", wire.query)
      assert.is_nil(wire.body)
    end)
  end)

  describe("uri labels", function()
    for _, case in ipairs({
      { ".", "..", "/users/./.." },
      { "a/b", ".", "/users/a%2Fb/." },
      { "..", "50% off?#", "/users/../50%25%20off%3F%23" },
      { "caf\195\169", "~u_1-2.3", "/users/caf%C3%A9/~u_1-2.3" },
    }) do
      it(("keep %q and %q one segment each, and reach the fake as sent"):format(case[1], case[2]), function()
        local params = { instance_id = case[1], user_id = case[2] }
        local req = new_client():prepare("DescribeUser", params)
        assert.are.equal(case[3], path_and_query(req))
        fake_client():call("DescribeUser", params)
        local e = last_logged()
        assert.are.equal(case[3], e.path)
        assert.are.equal("DescribeUser", e.operation)
        assert.is_true(e.signature_valid, e.signature_error)
        assert.are.same({ InstanceId = case[1], UserId = case[2] }, e.input)
      end)
    end

    it("refuse an empty label before sending", function()
      refused("user_id", new_client(), "DescribeUser", { instance_id = "i", user_id = "" })
    end)
  end)

  describe("bodies", function()
    it("are {} for a POST whose body members are all absent", function()
      local req = new_client():prepare("UpdateQueueMaxContacts", { instance_id = INSTANCE, queue_id = QUEUE })
      assert.are.equal("POST", req.method)
      assert.are.equal("/queues/" .. INSTANCE .. "/" .. QUEUE .. "/max-contacts", path_and_query(req))
      assert.are.equal("{}", req.body)
      assert.are.equal("application/json", header_of(req, "Content-Type"))
    end)

    it("are {} for a PUT whose body members are all absent, and the fake takes it", function()
      local params = { instance_id = INSTANCE, language_code = "en-US" }
      local req = new_client():prepare("AssociateDefaultVocabulary", params)
      assert.are.equal("PUT", req.method)
      assert.are.equal("/default-vocabulary/" .. INSTANCE .. "/en-US", path_and_query(req))
      assert.are.equal("{}", req.body)
      fake_client():call("AssociateDefaultVocabulary", params)
      local e = last_logged()
      assert.are.equal("{}", e.body)
      assert.is_true(e.signature_valid)
    end)

    it("are absent for an operation without body members", function()
      local req = new_client():prepare("DescribeUser", { instance_id = INSTANCE, user_id = "u" })
      assert.are.equal("GET", req.method)
      assert.is_nil(req.body)
      assert.is_nil(header_of(req, "Content-Type"))
    end)

    it("hold a zero and false as given", function()
      local req = new_client():prepare("UpdateQueueMaxContacts", { instance_id = INSTANCE, queue_id = QUEUE,
        max_contacts = 0 })
      assert.are.equal('{"MaxContacts":0}', req.body)
      req = new_client():prepare("CreateInstance", { identity_management_type = "CONNECT_MANAGED",
        inbound_calls_enabled = false, outbound_calls_enabled = false, client_token = "t" })
      assert.are.equal('{"ClientToken":"t","IdentityManagementType":"CONNECT_MANAGED",'
        .. '"InboundCallsEnabled":false,"OutboundCallsEnabled":false}', body_text(req))
    end)
  end)

  describe("idempotency tokens", function()
    local CREATED = '{"Id":"' .. INSTANCE .. '","Arn":"arn:aws:connect:us-east-1:123456789012:instance/' .. INSTANCE .. '"}'
    local FAIL = { status = 500, reason = "Internal Server Error", body = '{"message":"boom"}',
      headers = { { "x-amzn-ErrorType", "InternalServiceException" } } }
    local CREATE = { identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
      outbound_calls_enabled = false }

    it("are filled once per call and sent unchanged on every retry", function()
      local t = canned{ FAIL, FAIL, { body = CREATED } }
      local result, meta = new_client{ transport = t }:call("CreateInstance", CREATE)
      assert.are.equal(3, #t.requests)
      assert.are.equal(3, meta.attempts)
      assert.are.equal(INSTANCE, result.id)
      local token = cjson.decode(t.requests[1].body).ClientToken
      assert.matches(UUID4, token)
      assert.are.equal(token, meta.client_token)
      local invocation = header_of(t.requests[1], "amz-sdk-invocation-id")
      for i, req in ipairs(t.requests) do
        assert.are.equal(t.requests[1].body, req.body)
        assert.are.equal(invocation, header_of(req, "amz-sdk-invocation-id"))
        assert.are.equal(("attempt=%d; max=3"):format(i), header_of(req, "amz-sdk-request"))
      end
      -- the next call is another operation: another token
      local _, meta2 = new_client{ transport = canned{ { body = CREATED } } }:call("CreateInstance", CREATE)
      assert.matches(UUID4, meta2.client_token)
      assert.are_not.equal(token, meta2.client_token)
    end)

    it("given by the caller are kept, also an empty one", function()
      for _, given in ipairs({ "my-token-1", "" }) do
        local t = canned{ FAIL, { body = CREATED } }
        local params = { client_token = given }
        for k, v in pairs(CREATE) do params[k] = v end
        local _, meta = new_client{ transport = t }:call("CreateInstance", params)
        assert.are.equal(given, meta.client_token)
        for _, req in ipairs(t.requests) do assert.are.equal(given, cjson.decode(req.body).ClientToken) end
      end
    end)

    it("in the querystring stay the same on retries (DeleteInstance)", function()
      local t = canned{ FAIL, FAIL, { body = "" } }
      local _, meta = new_client{ transport = t }:call("DeleteInstance", { instance_id = INSTANCE })
      local q = path_and_query(t.requests[1])
      local token = q:match("clientToken=([%x%-]+)$")
      assert.matches(UUID4, token)
      assert.are.equal("/instance/" .. INSTANCE .. "?clientToken=" .. token, q)
      for _, req in ipairs(t.requests) do assert.are.equal(q, path_and_query(req)) end
      assert.are.equal(token, meta.client_token)
    end)
  end)

  describe("outputs", function()
    local function describe_user(body)
      return new_client{ transport = canned{ { body = body } } }:call("DescribeUser",
        { instance_id = INSTANCE, user_id = "u" })
    end

    it("give timestamps as epoch seconds, from a number or an ISO 8601 string", function()
      for _, case in ipairs({
        { "1440938160", T0 }, { "1440938160.25", T0 + 0.25 }, { '"2015-08-30T12:36:00Z"', T0 },
        { '"2015-08-30T12:36:00.250Z"', T0 + 0.25 }, { '"2015-08-30T14:36:00+02:00"', T0 },
      }) do
        local r = describe_user('{"User":{"Id":"u","LastModifiedTime":' .. case[1] .. '}}')
        assert.are.equal(case[2], r.user.last_modified_time, case[1])
        assert.are.equal("u", r.user.id)
      end
    end)

    it("keep empty lists as arrays", function()
      local r = describe_user('{"User":{"SecurityProfileIds":[],"Tags":{}}}')
      local ids = r.user.security_profile_ids
      assert.are.equal(0, #ids)
      assert.are.equal("array", getmetatable(ids).__jsontype)
      local list = new_client{ transport = canned{ { body = '{"UserSummaryList":[]}' } } }:call("ListUsers",
        { instance_id = INSTANCE })
      assert.are.equal("array", getmetatable(list.user_summary_list).__jsontype)
      assert.is_nil(list.next_token)
    end)

    it("leave out members the response does not have, and nulls", function()
      local r = describe_user('{"User":{"Id":"u","Username":null}}')
      assert.are.same({ user = { id = "u" } }, r)
    end)
  end)

  describe("modeled errors", function()
    local function fail_with(status, code, body)
      local t = canned{ { status = status, reason = "Error", body = body, headers = { { "x-amzn-ErrorType", code } } } }
      local c = new_client{ transport = t, max_attempts = 1 }
      local ok, err = pcall(c.call, c, "DescribeUser", { instance_id = INSTANCE, user_id = "u" })
      assert.is_false(ok)
      assert.is_true(errors.is_error(err), tostring(err))
      return err
    end

    it("carry their members as snake_case fields", function()
      local err = fail_with(409, "ResourceInUseException",
        '{"Message":"in use","ResourceType":"USER","ResourceId":"arn:aws:connect:us-east-1:1:user/u"}')
      assert.are.equal("ResourceInUseException", err.code)
      assert.are.equal("service", err.kind)
      assert.are.equal(409, err.status)
      assert.are.equal("in use", err.message)
      assert.are.equal("USER", err.resource_type)
      assert.are.equal("arn:aws:connect:us-east-1:1:user/u", err.resource_id)
      assert.is_nil(err.ResourceType)
      assert.is_true(err:is(errors.ResourceInUseException))
    end)

    it("parse structured members (a union, a list) by their shapes", function()
      local err = fail_with(400, "InvalidRequestException",
        '{"Message":"bad file","Reason":{"AttachedFileInvalidRequestExceptionReason":"INVALID_FILE_NAME"}}')
      assert.are.same({ attached_file_invalid_request_exception_reason = "INVALID_FILE_NAME" }, err.reason)
      err = fail_with(400, "InvalidContactFlowException", '{"problems":[{"message":"no start block"}]}')
      assert.are.equal("InvalidContactFlowException", err.code)
      assert.are.same({ { message = "no start block" } }, err.problems)
      assert.are.equal("array", getmetatable(err.problems).__jsontype)
    end)

    it("exist as aws_connect.errors.<Code> for all 29 modeled exceptions", function()
      local f = assert(io.open("data/models/connect-2017-08-08/service-2.json", "rb"))
      local doc = cjson.decode(f:read("*a"))
      f:close()
      local codes = {}
      for name, s in pairs(doc.shapes) do
        if s.exception then codes[#codes + 1] = name end
      end
      table.sort(codes)
      assert.are.equal(29, #codes)
      for _, code in ipairs(codes) do
        local class = errors[code]
        assert.is_table(class, code)
        assert.are.equal(code, class.code)
        assert.are.equal("service", class.kind)
      end
      assert.are.same(codes, errors.modeled("connect"))
    end)
  end)

  describe("params are read raw", function()
    it("so a __pairs that hides an aws: tag key does not get it past validation", function()
      local hidden = setmetatable({ ["aws:owner"] = "x" }, {
        __pairs = function() return next, { team = "ops" }, nil end,
      })
      local t = canned{ { body = "{}" } }
      local c = new_client{ transport = t }
      local err = refused('tags["aws:owner"]', c, "CreateInstance", { identity_management_type = "SAML",
        inbound_calls_enabled = true, outbound_calls_enabled = true, tags = hidden })
      assert.matches("aws:", err.message, 1, true)
      assert.are.equal(0, #t.requests)
    end)

    it("so members behind __index do not count", function()
      local c = new_client{ transport = canned{ { body = "{}" } } }
      local proxy = setmetatable({ user_id = "u" }, { __index = { instance_id = INSTANCE } })
      refused("instance_id", c, "DescribeUser", proxy)
    end)
  end)

  describe("the naming rule", function()
    it("equals botocore's xform_name for every operation and member name of the model", function()
      local f = assert(io.open("data/models/connect-2017-08-08/service-2.json", "rb"))
      local doc = cjson.decode(f:read("*a"))
      f:close()
      local set, list = {}, {}
      local function add(n) if not set[n] then set[n] = true; list[#list + 1] = n end end
      for name in pairs(doc.operations) do add(name) end
      for _, s in pairs(doc.shapes) do
        for m in pairs(s.members or {}) do add(m) end
      end
      table.sort(list)
      local tmp = os.tmpname()
      local out = assert(io.open(tmp, "wb"))
      out:write(table.concat(list, "\n"), "\n")
      out:close()
      local p = assert(io.popen("/usr/bin/python3 -c " .. helpers.q(
        "import sys\nfrom botocore import xform_name\nfor line in open(sys.argv[1]):\n"
        .. "    print(xform_name(line.strip()))") .. " " .. helpers.q(tmp)))
      local theirs = {}
      for line in p:lines() do theirs[#theirs + 1] = line end
      p:close()
      os.remove(tmp)
      assert.are.equal(#list, #theirs)
      local differ = {}
      for i, n in ipairs(list) do
        if names.snake(n) ~= theirs[i] then differ[#differ + 1] = n .. ": " .. names.snake(n) .. " ~= " .. theirs[i] end
      end
      assert.are.same({}, differ)
      -- and every operation is a method of that name
      local c = new_client()
      for name in pairs(doc.operations) do
        local method = names.snake(name)
        assert.is_function(c[method], method)
        assert.are.equal(name, svc:method(method))
      end
      assert.is_true(#list > 1000)
    end)
  end)
end)
