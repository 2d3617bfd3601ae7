-- The lifecycle methods against the fake Connect server: instances() over
-- every ListInstances page, wait_for_instance() through
-- CREATION_IN_PROGRESS to ACTIVE or CREATION_FAILED (with an injected sleep
-- and clock), and ensure_instance(), idempotent by alias also after a
-- process dies between sending CreateInstance and reading the answer.

package.path = "./?.lua;" .. package.path

local fake = require("spec.support.fake_server")
local helpers = require("spec.support.helpers")
local aws_connect = require("aws_connect")
local instances = require("aws_connect.instances")
local cjson = require("cjson")
local core = require("aws_connect.core")
local errors = aws_connect.errors

local LUA = os.getenv("AWSC_LUA") or "lua5.4"

local srv

local function client(extra) return helpers.client({ endpoint = srv.endpoint }, extra) end

local function params(alias, extra)
  return helpers.instance_params(helpers.merge({ instance_alias = alias }, extra))
end

local function count(method, path)
  local n = 0
  for _, r in ipairs(srv:requests()) do
    if r.method == method and (path == nil or r.path == path) then n = n + 1 end
  end
  return n
end

local expect_error = helpers.expect_error

-- a virtual clock that only the injected sleep moves (it starts at the
-- real time: requests are signed with the client's clock, and the fake
-- server refuses signatures more than 5 minutes off)
local function virtual_time()
  local t = { now = os.time(), sleeps = {} }
  t.clock = function() return t.now end
  t.sleep = function(s)
    t.sleeps[#t.sleeps + 1] = s
    t.now = t.now + s
  end
  return t
end

-- A DescribeInstance answer for a scripted poll: the fake's record of the
-- instance with another status.
local function describe_body(id, status)
  for _, rec in ipairs(srv:instances()) do
    if rec.Id == id then
      rec.InstanceStatus = status
      rec.ClientToken, rec.DirectoryId = nil, nil
      return { status = 200, body = cjson.encode({ Instance = rec }) }
    end
  end
  error("no instance " .. id)
end

describe("lifecycle", function()
  helpers.fake_server({ create_delay = 0, quota = 100 }, function(s) srv = s end, { create_delay = 0, quota = 100 })

  describe("instances()", function()
    it("iterates over every instance of every page, in order", function()
      local c = client()
      local ids = {}
      for i = 1, 12 do ids[i] = c:create_instance(params("it" .. i)).id end
      local seen, pages = {}, {}
      for inst, page in c:instances{ max_results = 5 } do
        seen[#seen + 1] = inst.id
        pages[#pages + 1] = page.number
        assert.is_string(page.request_id)
      end
      assert.are.same(ids, seen)
      assert.are.same({ 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3 }, pages)
      assert.are.equal(3, count("GET", "/instance"))
    end)

    it("makes one request and yields nothing when there are no instances", function()
      local n = 0
      for _ in client():instances() do n = n + 1 end
      assert.are.equal(0, n)
      assert.are.equal(1, count("GET", "/instance"))
    end)

    it("raises ResponseError when the service repeats a NextToken", function()
      local page = { status = 200, body = { InstanceSummaryList = { { Id = "i-1" } }, NextToken = "same" } }
      srv:script{ page, page }
      local c = client()
      local n = 0
      local err = expect_error("ResponseError", function()
        for _ in c:instances() do n = n + 1 end
      end)
      assert.are.equal(1, n)
      assert.is_truthy(err.message:find("NextToken", 1, true))
    end)

    it("validates max_results before sending", function()
      local c = client()
      expect_error("ValidationError", c.instances, c, { max_results = 11 })
      expect_error("ValidationError", c.instances, c, { page_size = 3 })
      assert.are.equal(0, #srv:requests())
    end)
  end)

  describe("wait_for_instance()", function()
    it("polls through CREATION_IN_PROGRESS until ACTIVE, sleeping the interval", function()
      local vt = virtual_time()
      local c = client{ sleep = vt.sleep, clock = vt.clock }
      local id = c:create_instance(params("waiting")).id
      srv:script{ describe_body(id, "CREATION_IN_PROGRESS"), describe_body(id, "CREATION_IN_PROGRESS") }
      local statuses = {}
      local inst, meta = c:wait_for_instance(id, {
        interval = 7,
        on_poll = function(i, elapsed) statuses[#statuses + 1] = i.instance_status .. "@" .. elapsed end,
      })
      assert.are.equal("ACTIVE", inst.instance_status)
      assert.are.equal(id, inst.id)
      assert.are.equal(200, meta.status)
      assert.are.same({ 7, 7 }, vt.sleeps)
      assert.are.same({ "CREATION_IN_PROGRESS@0", "CREATION_IN_PROGRESS@7", "ACTIVE@14" }, statuses)
      assert.are.equal(3, count("GET", "/instance/" .. id))
    end)

    it("waits in real time for an instance the service activates later", function()
      srv:config{ create_delay = 0.3 }
      local slept = 0
      local c = client{ sleep = function(s) slept = slept + s; core.sleep(s) end }
      local id = c:create_instance(params("slow")).id
      local inst = c:wait_for_instance(id, { interval = 0.05, timeout = 120 })
      assert.are.equal("ACTIVE", inst.instance_status)
      assert.is_true(slept > 0)
    end)

    it("raises InstanceCreationFailed carrying the status reason", function()
      local vt = virtual_time()
      local c = client{ sleep = vt.sleep, clock = vt.clock }
      srv:config{ fail_next_create = "Directory d-0123456789 was not found." }
      local id = c:create_instance(params("broken")).id
      srv:script{ describe_body(id, "CREATION_IN_PROGRESS") }
      local err = expect_error("InstanceCreationFailed", c.wait_for_instance, c, id, { interval = 2 })
      assert.are.equal("service", err.kind)
      assert.are.equal("Directory d-0123456789 was not found.", err.status_reason)
      assert.is_truthy(err.message:find("Directory d-0123456789 was not found.", 1, true))
      assert.are.equal(id, err.instance_id)
      assert.are.equal("CREATION_FAILED", err.instance.instance_status)
      assert.is_false(err.retryable)
      assert.is_true(errors.is(err, errors.InstanceCreationFailed))
      assert.is_true(err:is("InstanceCreationFailed"))
      assert.is_truthy(tostring(err):find("InstanceCreationFailed", 1, true))
      assert.are.same({ 2 }, vt.sleeps)
    end)

    it("raises TimeoutError when the instance is not ACTIVE in time, without overshooting", function()
      local vt = virtual_time()
      local c = client{ sleep = vt.sleep, clock = vt.clock }
      srv:config{ create_delay = 3600 }
      local id = c:create_instance(params("forever")).id
      local err = expect_error("TimeoutError", c.wait_for_instance, c, id, { timeout = 12, interval = 5 })
      assert.are.equal("timeout", err.kind)
      assert.is_truthy(err.message:find("CREATION_IN_PROGRESS", 1, true), err.message)
      assert.are.same({ 5, 5, 2 }, vt.sleeps)
      assert.are.equal(4, count("GET", "/instance/" .. id))
      assert.are.equal(4, err.attempts)
      assert.are.equal(id, err.instance_id)
    end)

    it("uses the default timeout of 600 s and interval of 5 s", function()
      local vt = virtual_time()
      local start = vt.now
      local c = client{ sleep = vt.sleep, clock = vt.clock }
      srv:config{ create_delay = 3600 }
      local id = c:create_instance(params("defaults")).id
      expect_error("TimeoutError", c.wait_for_instance, c, id)
      assert.are.equal(120, #vt.sleeps)
      assert.are.equal(5, vt.sleeps[1])
      assert.are.equal(600, vt.now - start)
    end)

    it("uses the transport's sleep when no sleep is given", function()
      local curl = require("aws_connect.transport.curl").new()
      local sleeps = {}
      local transport = {
        request = function(_, req) return curl:request(req) end,
        sleep = function(_, s) sleeps[#sleeps + 1] = s end,
      }
      local now = 0
      local c = client{ transport = transport, clock = function() now = now + 1; return os.time() + now end }
      srv:config{ create_delay = 3600 }
      local id = c:create_instance(params("cosocket")).id
      expect_error("TimeoutError", c.wait_for_instance, c, id, { timeout = 5, interval = 3 })
      curl:close()
      assert.is_true(#sleeps >= 1)
      assert.are.equal(3, sleeps[1])
    end)

    it("lets a ResourceNotFoundException through", function()
      local c = client{ sleep = function() end }
      local err = expect_error("ResourceNotFoundException", c.wait_for_instance, c, "gone")
      assert.are.equal(404, err.status)
    end)

    it("validates the id and the options before sending", function()
      local c = client()
      expect_error("ValidationError", c.wait_for_instance, c, nil)
      expect_error("ValidationError", c.wait_for_instance, c, "i-1", { timeout = -1 })
      expect_error("ValidationError", c.wait_for_instance, c, "i-1", { interval = "5" })
      expect_error("ValidationError", c.wait_for_instance, c, "i-1", { delay = 5 })
      expect_error("ValidationError", c.wait_for_instance, c, "i-1", { on_poll = true })
      expect_error("ValidationError", c.wait_for_instance, c, ("x"):rep(101))
      assert.are.equal(0, #srv:requests())
    end)
  end)

  describe("ensure_instance()", function()
    it("creates the instance when its alias is not in use, with a derived client token", function()
      local c = client()
      local inst, meta = c:ensure_instance(params("ensured", { tags = { team = "ops" } }))
      assert.is_true(meta.created)
      assert.is_truthy(meta.client_token:match("^ensure%-%x+$"), meta.client_token)
      assert.are.equal(47, #meta.client_token)
      local recs = srv:instances()
      assert.are.equal(1, #recs)
      assert.are.equal(recs[1].Id, inst.id)
      assert.are.equal(meta.client_token, recs[1].ClientToken)
      assert.are.same({ team = "ops" }, recs[1].Tags)
    end)

    it("returns the existing instance, also when it is on a later page and the case differs", function()
      local c = client()
      for i = 1, 11 do c:create_instance(params("other" .. i)) end
      local made = c:create_instance(params("Game-Support"))
      local inst, meta = c:ensure_instance(params("game-support"))
      assert.is_false(meta.created)
      assert.are.equal(made.id, inst.id)
      assert.are.equal("ACTIVE", inst.instance_status)
      assert.are.equal(12, #srv:instances())
      assert.are.equal(12, count("PUT"))
      assert.are.equal(2, count("GET", "/instance"))
    end)

    it("raises ValidationError when the existing instance has other settings", function()
      local c = client()
      c:create_instance(params("fixed"))
      local err = expect_error("ValidationError", c.ensure_instance, c,
        params("fixed", { identity_management_type = "SAML" }))
      assert.are.equal("identity_management_type", err.field)
      err = expect_error("ValidationError", c.ensure_instance, c, params("fixed", { outbound_calls_enabled = true }))
      assert.are.equal("outbound_calls_enabled", err.field)
      err = expect_error("ValidationError", c.ensure_instance, c, params("fixed", { inbound_calls_enabled = false }))
      assert.are.equal("inbound_calls_enabled", err.field)
      assert.are.equal(1, #srv:instances())
      assert.are.equal(1, count("PUT"))
    end)

    it("needs an alias and valid parameters, checked before sending", function()
      local c = client()
      local err = expect_error("ValidationError", c.ensure_instance, c, params(nil))
      assert.are.equal("instance_alias", err.field)
      expect_error("ValidationError", c.ensure_instance, c, params("d-bad"))
      expect_error("ValidationError", c.ensure_instance, c, params("ok", { colour = "red" }))
      assert.are.equal(0, #srv:requests())
    end)

    it("derives the same token from the same parameters, and another from other ones", function()
      local t = instances.ensure_token
      local base = { identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
        outbound_calls_enabled = false, instance_alias = "a", tags = { x = "1", y = "2" } }
      local same = { tags = { y = "2", x = "1" }, instance_alias = "a", outbound_calls_enabled = false,
        inbound_calls_enabled = true, identity_management_type = "CONNECT_MANAGED" }
      assert.are.equal(t(base), t(same))
      local seen = { [t(base)] = true }
      local variants = {
        { instance_alias = "b" }, { identity_management_type = "SAML" }, { inbound_calls_enabled = false },
        { outbound_calls_enabled = true }, { directory_id = "d-0123456789" }, { tags = { x = "1" } },
        { tags = false },
      }
      for _, v in ipairs(variants) do
        local p = {}
        for k, x in pairs(base) do p[k] = x end
        for k, x in pairs(v) do p[k] = x or nil end
        local tok = t(p)
        assert.is_nil(seen[tok], "token collision")
        seen[tok] = true
      end
      assert.are_not.equal(t(base), t(base, { "failed-1" }))
      assert.are.equal(t(base, { "f2", "f1" }), t(base, { "f1", "f2" }))
    end)

    it("creates no second instance when a process died after sending CreateInstance", function()
      -- First run, in a child process: the create reaches the service, then
      -- the process dies before it reads the answer.
      local child = os.tmpname()
      local f = assert(io.open(child, "w"))
      f:write([[
        local aws_connect = require("aws_connect")
        local curl = require("aws_connect.transport.curl").new()
        local transport = { request = function(_, req)
          local resp, kind, msg = curl:request(req)
          if req.method == "PUT" then os.exit(9) end
          return resp, kind, msg
        end }
        local c = aws_connect.new{ region = "us-east-1", endpoint = arg[1], transport = transport,
          credentials = { access_key_id = "AKIDFAKE", secret_access_key = "secret" }, getenv = {} }
        c:ensure_instance{ identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
          outbound_calls_enabled = false, instance_alias = "crashy", tags = { team = "ops", env = "prod" } }
        os.exit(0)
      ]])
      f:close()
      local cmd = ("LUA_PATH=%s LUA_CPATH=%s %s %s %s >/dev/null 2>&1; echo $?"):format(
        fake.shell_quote(package.path), fake.shell_quote(package.cpath), LUA, fake.shell_quote(child),
        fake.shell_quote(srv.endpoint))
      local p = io.popen(cmd)
      local rc = p:read("*a")
      p:close()
      os.remove(child)
      assert.are.equal("9", rc:match("%d+"), "the child did not die as planned")
      local recs = srv:instances()
      assert.are.equal(1, #recs)
      local first = recs[1]

      -- Second run: ListInstances does not show the new instance yet (the
      -- service is eventually consistent), so ensure_instance sends
      -- CreateInstance again, with the same derived token.
      srv:script{ { status = 200, body = { InstanceSummaryList = {} } } }
      local c = client()
      local inst, meta = c:ensure_instance(params("crashy", { tags = { env = "prod", team = "ops" } }))
      assert.is_true(meta.created)
      assert.are.equal(first.Id, inst.id)
      assert.are.equal(first.ClientToken, meta.client_token)
      assert.are.equal(1, #srv:instances())
      local puts = {}
      for _, r in ipairs(srv:requests()) do
        if r.method == "PUT" then puts[#puts + 1] = cjson.decode(r.body).ClientToken end
      end
      assert.are.same({ first.ClientToken, first.ClientToken }, puts)

      -- Third run: the instance is listed now and is returned as it is.
      local again, meta3 = c:ensure_instance(params("crashy", { tags = { env = "prod", team = "ops" } }))
      assert.is_false(meta3.created)
      assert.are.equal(first.Id, again.id)
      assert.are.equal(2, count("PUT"))
    end)

    it("creates anew after a failed creation instead of replaying the failed instance", function()
      local vt = virtual_time()
      local c = client{ sleep = vt.sleep, clock = vt.clock }
      srv:config{ fail_next_create = "capacity" }
      local first, m1 = c:ensure_instance(params("retry-me"))
      expect_error("InstanceCreationFailed", c.wait_for_instance, c, first.id)
      local second, m2 = c:ensure_instance(params("retry-me"))
      assert.is_true(m2.created)
      assert.are_not.equal(first.id, second.id)
      assert.are_not.equal(m1.client_token, m2.client_token)
      assert.are.equal("ACTIVE", c:wait_for_instance(second.id).instance_status)
      local third, m3 = c:ensure_instance(params("retry-me"))
      assert.is_false(m3.created)
      assert.are.equal(second.id, third.id)
    end)
  end)
end)
