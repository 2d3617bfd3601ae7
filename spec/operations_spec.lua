-- DescribeInstance, ListInstances and DeleteInstance end to end against the
-- fake Connect server (which checks every signature with botocore): the
-- wire format, the snake_case results, validation before sending, and
-- errors for bad responses.

package.path = "./?.lua;" .. package.path

local helpers = require("spec.support.helpers")
local aws_connect = require("aws_connect")
local errors = aws_connect.errors

local srv

local function client(extra)
  return helpers.client({
    endpoint = srv.endpoint,
    sleep = function() end,   -- retries need no real backoff here
  }, extra)
end

local function create(c, alias, extra)
  return (c:create_instance(helpers.instance_params(helpers.merge({ instance_alias = alias }, extra))))
end

local function service_requests()
  local out = {}
  for _, r in ipairs(srv:requests()) do out[#out + 1] = r end
  return out
end

local function last_request()
  local rs = service_requests()
  return rs[#rs]
end

local expect_error = helpers.expect_error

local function rejected_before_sending(field, fn, ...)
  local before = #service_requests()
  local err = expect_error("ValidationError", fn, ...)
  assert.are.equal("validation", err.kind)
  assert.are.equal(0, err.attempts)
  if field then assert.are.equal(field, err.field) end
  assert.are.equal(before, #service_requests(), "a request was sent")
  return err
end

describe("instance operations against the fake server", function()
  helpers.fake_server({ create_delay = 0, quota = 100 }, function(s) srv = s end, { create_delay = 0, quota = 100 })

  describe("describe_instance", function()
    it("returns the instance as a snake_case table with the user's tag keys untouched", function()
      local c = client()
      local tags = { ["Team Name"] = "ops", ["cost:center"] = "42", env = "prod" }
      local made = create(c, "game-support", { tags = tags })
      local inst, meta = c:describe_instance(made.id)
      local rec = srv:instances()[1]
      assert.are.equal(made.id, inst.id)
      assert.are.equal(made.arn, inst.arn)
      assert.are.equal("CONNECT_MANAGED", inst.identity_management_type)
      assert.are.equal("game-support", inst.instance_alias)
      assert.are.equal("number", type(inst.created_time))
      assert.are.equal(rec.CreatedTime, inst.created_time)
      assert.are.equal(rec.ServiceRole, inst.service_role)
      assert.are.equal("ACTIVE", inst.instance_status)
      assert.is_true(inst.inbound_calls_enabled)
      assert.is_false(inst.outbound_calls_enabled)
      assert.are.equal("https://game-support.my.connect.aws", inst.instance_access_url)
      assert.are.same(tags, inst.tags)
      assert.is_nil(inst.status_reason)
      assert.is_nil(inst.replication_configuration)
      assert.are.equal(200, meta.status)
      assert.are.equal(1, meta.attempts)
      assert.is_string(meta.request_id)
      local r = last_request()
      assert.are.equal("GET", r.method)
      assert.are.equal("/instance/" .. made.id, r.path)
      assert.are.equal("", r.query)
      assert.is_true(r.signature_valid, r.signature_error)
    end)

    it("gives status_reason.message for an instance whose creation failed", function()
      local c = client()
      srv:config{ fail_next_create = "The alias is reserved." }
      local made = create(c, "reserved")
      local inst = c:describe_instance(made.id)
      assert.are.equal("CREATION_FAILED", inst.instance_status)
      assert.are.same({ message = "The alias is reserved." }, inst.status_reason)
    end)

    it("adds replication_configuration when the response has one", function()
      local c = client()
      srv:script{ { status = 200, body = {
        Instance = { Id = "i-1", InstanceStatus = "ACTIVE", CreatedTime = 1700000000 },
        ReplicationConfiguration = {
          SourceRegion = "us-west-2",
          GlobalSignInEndpoint = "https://example.awsapps.com/connect/login",
          ReplicationStatusSummaryList = {
            { Region = "us-west-2", ReplicationStatus = "INSTANCE_REPLICATED" },
            { Region = "us-east-1", ReplicationStatus = "INSTANCE_REPLICATION_FAILED",
              ReplicationStatusReason = "quota" },
          },
        },
      } } }
      local inst = c:describe_instance("i-1")
      assert.are.equal(1700000000, inst.created_time)
      assert.are.same({
        source_region = "us-west-2",
        global_sign_in_endpoint = "https://example.awsapps.com/connect/login",
        replication_status_summary_list = {
          { region = "us-west-2", replication_status = "INSTANCE_REPLICATED" },
          { region = "us-east-1", replication_status = "INSTANCE_REPLICATION_FAILED",
            replication_status_reason = "quota" },
        },
      }, inst.replication_configuration)
    end)

    it("reads an ISO 8601 CreatedTime as epoch seconds", function()
      local c = client()
      srv:script{
        { status = 200, body = { Instance = { Id = "i-1", CreatedTime = "2024-02-29T12:34:56.5Z" } } },
        { status = 200, body = { Instance = { Id = "i-1", CreatedTime = "2024-03-01T01:00:00+02:00" } } },
      }
      assert.are.equal(1709210096.5, c:describe_instance("i-1").created_time)
      assert.are.equal(1709247600, c:describe_instance("i-1").created_time)
    end)

    it("percent-encodes the instance id as one path segment", function()
      local c = client()
      local err = expect_error("ResourceNotFoundException", c.describe_instance, c, "a/b c+é")
      assert.is_truthy(err.message:find("a/b c+é", 1, true), err.message)
      local r = last_request()
      assert.are.equal("/instance/a%2Fb%20c%2B%C3%A9", r.path)
      assert.is_true(r.signature_valid, r.signature_error)
    end)

    it("raises ResourceNotFoundException for an unknown id", function()
      local c = client()
      local err = expect_error("ResourceNotFoundException", c.describe_instance, c, "no-such-instance")
      assert.are.equal("service", err.kind)
      assert.are.equal(404, err.status)
      assert.is_string(err.request_id)
      assert.is_true(errors.is(err, errors.ResourceNotFoundException))
    end)

    it("accepts a parameter table with either spelling of the id", function()
      local c = client()
      local made = create(c, "spelled")
      assert.are.equal(made.id, c:describe_instance{ instance_id = made.id }.id)
      assert.are.equal(made.id, c:describe_instance{ InstanceId = made.id }.id)
    end)

    it("rejects a missing, empty, too long or non-string id before sending", function()
      local c = client()
      rejected_before_sending("instance_id", c.describe_instance, c, nil)
      rejected_before_sending("instance_id", c.describe_instance, c, "")
      local err = rejected_before_sending("instance_id", c.describe_instance, c, ("x"):rep(101))
      assert.is_truthy(err.message:find("100", 1, true), err.message)
      -- 100 characters are allowed: the request goes out and the fake answers 404
      expect_error("ResourceNotFoundException", c.describe_instance, c, ("x"):rep(100))
    end)

    it("raises ResponseError for a 2xx body of the wrong shape", function()
      local c = client()
      srv:script{
        { status = 200, body = { Nothing = true } },
        { status = 200, body = { Instance = "i-1" } },
        { status = 200, body = { Instance = { Id = "i-1", CreatedTime = "yesterday" } } },
        { status = 200, body = { Instance = { Id = "i-1", Tags = { a = 1 } } } },
        { status = 200, body = "not json" },
      }
      for _ = 1, 5 do
        local err = expect_error("ResponseError", c.describe_instance, c, "i-1")
        assert.are.equal(200, err.status)
      end
    end)
  end)

  describe("list_instances", function()
    it("pages with max_results and a percent-encoded next_token", function()
      local c = client()
      local ids = {}
      for i = 1, 7 do ids[i] = create(c, "page" .. i).id end
      local seen, token, pages = {}, nil, 0
      repeat
        local res = c:list_instances{ max_results = 3, next_token = token }
        pages = pages + 1
        for _, s in ipairs(res.instances) do seen[#seen + 1] = s.id end
        assert.is_true(#res.instances <= 3)
        token = res.next_token
        local r = last_request()
        assert.is_true(r.signature_valid, r.signature_error)
        if pages > 1 then
          -- member order of the model (NextToken, MaxResults), as botocore sends it
          assert.is_truthy(r.query:find("^nextToken=[^&]+&maxResults=3$"), r.query)
          assert.is_nil(r.query:match("^nextToken=([^&]*)"):find("[+/=]"), "token not encoded: " .. r.query)
        else
          assert.are.equal("maxResults=3", r.query)
        end
      until token == nil
      assert.are.equal(3, pages)
      assert.are.same(ids, seen)
    end)

    it("returns summaries without status_reason or tags", function()
      local c = client()
      local made = create(c, "summary", { tags = { team = "ops" } })
      local res = c:list_instances()
      assert.are.equal(1, #res.instances)
      local s = res.instances[1]
      assert.are.equal(made.id, s.id)
      assert.are.equal("summary", s.instance_alias)
      assert.are.equal("ACTIVE", s.instance_status)
      assert.are.equal("number", type(s.created_time))
      assert.is_nil(s.tags)
      assert.is_nil(s.status_reason)
      assert.is_nil(res.next_token)
      assert.are.equal("", last_request().query)
    end)

    it("returns an empty list when there are no instances", function()
      local res = client():list_instances{}
      assert.are.same({}, res.instances)
      assert.is_nil(res.next_token)
    end)

    it("checks max_results (an integer from 1 to 10) and unknown keys before sending", function()
      local c = client()
      for _, bad in ipairs({ 0, 11, 2.5, "3", -1 }) do
        rejected_before_sending("max_results", c.list_instances, c, { max_results = bad })
      end
      local err = rejected_before_sending(nil, c.list_instances, c, { max_result = 3 })
      assert.is_truthy(err.message:find("max_results", 1, true), err.message)
      rejected_before_sending("next_token", c.list_instances, c, { next_token = 5 })
      c:list_instances{ max_results = 10 }
      c:list_instances{ MaxResults = 1 }
    end)

    it("raises the service's InvalidRequestException for an unknown next_token", function()
      local c = client()
      local err = expect_error("InvalidRequestException", c.list_instances, c, { next_token = "bogus" })
      assert.are.equal(400, err.status)
    end)
  end)

  describe("delete_instance", function()
    it("deletes with a generated UUIDv4 client token sent as the clientToken query parameter", function()
      local c = client()
      local made = create(c, "doomed")
      local res, meta = c:delete_instance(made.id)
      assert.are.same({}, res)
      assert.is_truthy(meta.client_token:match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"), meta.client_token)
      local r = last_request()
      assert.are.equal("DELETE", r.method)
      assert.are.equal("/instance/" .. made.id, r.path)
      assert.are.equal("clientToken=" .. meta.client_token, r.query)
      assert.is_true(r.signature_valid, r.signature_error)
      assert.are.same({}, srv:instances())
    end)

    it("sends a given client token percent-encoded and is idempotent with it", function()
      local c = client()
      local made = create(c, "doomed")
      local _, meta = c:delete_instance(made.id, { client_token = "run 7/b+c" })
      assert.are.equal("run 7/b+c", meta.client_token)
      assert.are.equal("clientToken=run%207%2Fb%2Bc", last_request().query)
      -- the same token again: the service answers as for the first call
      c:delete_instance(made.id, { client_token = "run 7/b+c" })
      expect_error("ResourceNotFoundException", c.delete_instance, c, made.id)
    end)

    it("reuses the client token on every retry", function()
      local c = client()
      local made = create(c, "retried")
      srv:script{ { status = 500, body = { message = "try again" },
        headers = { ["x-amzn-ErrorType"] = "InternalServiceException" } } }
      local _, meta = c:delete_instance(made.id)
      assert.are.equal(2, meta.attempts)
      local rs = service_requests()
      assert.are.equal(rs[#rs - 1].query, rs[#rs].query)
      assert.are.equal("clientToken=" .. meta.client_token, rs[#rs].query)
    end)

    it("validates the id, the token and the options before sending", function()
      local c = client()
      rejected_before_sending("instance_id", c.delete_instance, c, nil)
      rejected_before_sending("instance_id", c.delete_instance, c, ("x"):rep(101))
      rejected_before_sending("client_token", c.delete_instance, c, "i-1", { client_token = ("t"):rep(501) })
      rejected_before_sending("options", c.delete_instance, c, "i-1", "token")
      rejected_before_sending(nil, c.delete_instance, c, "i-1", { force = true })
    end)

    it("raises ResourceNotFoundException for an unknown id", function()
      local c = client()
      local err = expect_error("ResourceNotFoundException", c.delete_instance, c, "gone")
      assert.are.equal(404, err.status)
    end)
  end)
end)
