-- Every example in examples/, started as the README's Examples and OpenResty
-- sections show it, against the fake Connect server: the provisioning
-- script (ensure + wait, safe to re-run), the shell script over the
-- aws-connect command, the game-server admin command, the demo of
-- `make demo`, and the OpenResty configuration with its handler in a real
-- nginx (its port is the only thing changed). Each child gets a clean
-- environment with a scratch HOME; instance metadata is off.

local fake = require("spec.support.fake_server")
local nginx = require("spec.support.nginx")
local cjson = require("cjson")
local helpers = require("spec.support.helpers")

local LUA = os.getenv("AWSC_LUA") or "lua5.4"
local q = fake.shell_quote
local root = nginx.root()

local function mktemp_dir() return helpers.tmpdir("examples") end

-- Runs cmd (a shell command line, in the repository) with env as its whole
-- environment; returns exit code, stdout, stderr.
local function run(cmd, env, dir)
  local parts = { "env", "-i" }
  for k, v in pairs(env) do
    if v then parts[#parts + 1] = q(k .. "=" .. v) end
  end
  parts[#parts + 1] = "sh -c " .. q(cmd)
  local out, err = dir .. "/stdout", dir .. "/stderr"
  local p = io.popen("cd " .. q(root) .. " && " .. table.concat(parts, " ") .. " >" .. q(out) .. " 2>" .. q(err)
    .. "; echo $?")
  local rc = tonumber(p:read("*a"):match("(%d+)"))
  p:close()
  return rc, fake.read_file(out) or "", fake.read_file(err) or ""
end

local function lines_of(text)
  local t = {}
  for l in text:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

describe("examples", function()
  local srv, home

  -- what the README's "From a checkout" line exports, plus the fake server's settings
  local function env(extra)
    local e = {
      PATH = os.getenv("PATH") or "/usr/bin:/bin",
      HOME = home,
      LUA_PATH = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;",
      LUA_CPATH = root .. "/build/" .. LUA .. "/?.so;;",
      AWS_REGION = "us-east-1",
      AWS_ACCESS_KEY_ID = "AKIDFAKE",
      AWS_SECRET_ACCESS_KEY = "secret",
      AWS_ENDPOINT_URL_CONNECT = srv.endpoint,
      AWS_EC2_METADATA_DISABLED = "true",
      AWS_CONFIG_FILE = home .. "/no-config",
      AWS_SHARED_CREDENTIALS_FILE = home .. "/no-credentials",
    }
    for k, v in pairs(extra or {}) do e[k] = v end
    return e
  end

  setup(function()
    home = mktemp_dir()
    srv = fake.start{ create_delay = 0.3, quota = 100 }
  end)
  teardown(function()
    if srv then srv:stop() end
    if home then os.execute("rm -rf " .. q(home)) end
  end)
  before_each(function()
    srv:reset()
    srv:config{ create_delay = 0.3, quota = 100 }
  end)

  describe("provision.lua", function()
    local cmd = LUA .. " examples/provision.lua game-support team=ops"

    it("creates the instance once, waits until it is ACTIVE, and finds it when run again", function()
      local rc, out, err = run(cmd, env{ PROVISION_INTERVAL = "0.1" }, home)
      assert.are.equal(0, rc, err)
      local id = out:match("^created instance (%S+) %(game%-support%)\n")
      assert.truthy(id, out)
      assert.truthy(out:find("\nstatus: ACTIVE\n", 1, true), out)
      assert.truthy(out:find("\narn:    arn:aws:connect:us%-east%-1:%d+:instance/" .. id:gsub("%-", "%%-")), out)
      assert.truthy(err:find("CREATION_IN_PROGRESS", 1, true), err)
      rc, out, err = run(cmd, env{ PROVISION_INTERVAL = "0.1" }, home)
      assert.are.equal(0, rc, err)
      assert.truthy(out:find("^found instance " .. id:gsub("%-", "%%-")), out)
      local insts = srv:instances()
      assert.are.equal(1, #insts)
      assert.are.same({ team = "ops" }, insts[1].Tags)
    end)

    it("exits 1 with the error on one line when the creation fails", function()
      srv:config{ fail_next_create = "Not enough capacity in us-east-1." }
      local rc, out, err = run(cmd, env{ PROVISION_INTERVAL = "0.1" }, home)
      assert.are.equal(1, rc, out)
      local last = lines_of(err)[#lines_of(err)]
      assert.truthy(last:find("^provision%.lua: aws_connect: InstanceCreationFailed: .*Not enough capacity"), err)
    end)
  end)

  describe("connect-instance.sh", function()
    local cmd = "AWS_CONNECT=bin/aws-connect examples/connect-instance.sh game-support"

    it("prints only the id of the ACTIVE instance, the same id every time", function()
      local rc, out, err = run(cmd, env{ CONNECT_POLL_SECONDS = "0.1" }, home)
      assert.are.equal(0, rc, err)
      local insts = srv:instances()
      assert.are.equal(1, #insts)
      assert.are.equal(insts[1].Id .. "\n", out)
      assert.truthy(err:find("game-support is " .. insts[1].Id .. ", ACTIVE (created now: yes)", 1, true), err)
      rc, out = run(cmd, env{ CONNECT_POLL_SECONDS = "0.1" }, home)
      assert.are.equal(0, rc)
      assert.are.equal(insts[1].Id .. "\n", out)
      assert.are.equal(1, #srv:instances())
    end)

    it("passes on the command's exit code and one-line error", function()
      local e = env{ AWS_ENDPOINT_URL_CONNECT = "http://127.0.0.1:1", AWS_MAX_ATTEMPTS = "1" }
      local cli_rc, _, cli_err = run("bin/aws-connect list-instances", e, home)
      assert.are_not.equal(0, cli_rc)
      local rc, out, err = run(cmd, e, home)
      assert.are.equal(cli_rc, rc)
      assert.are.equal("", out)
      assert.truthy(err:find("^aws%-connect: NetworkError: "), err)
      assert.truthy(cli_err:find("^aws%-connect: NetworkError: "), cli_err)
    end)
  end)

  describe("game_admin.lua", function()
    local function admin(words, extra)
      return run(LUA .. " examples/game_admin.lua " .. words, env(extra), home)
    end

    it("opens the instance without waiting, once, and reports its status", function()
      local rc, out = admin("status support-desk")
      assert.are.equal(0, rc)
      assert.are.equal("support: no instance 'support-desk' (open it with: open support-desk)\n", out)
      rc, out = admin("open support-desk")
      assert.are.equal(0, rc, out)
      local id = out:match("^support: creating support%-desk %(id (%S+)%)")
      assert.truthy(id, out)
      rc, out = admin("open support-desk")
      assert.are.equal(0, rc)
      assert.truthy(out:find("^support: support%-desk already exists %(id " .. id:gsub("%-", "%%-")), out)
      assert.are.equal(1, #srv:instances())
      fake.sleep(0.4)
      rc, out = admin("status support-desk")
      assert.are.equal(0, rc)
      assert.are.equal("support: support-desk is ACTIVE (id " .. id .. ")\n", out)
      rc, out = admin("list")
      assert.are.equal(0, rc)
      assert.truthy(out:find("^support: support%-desk +ACTIVE\n$"), out)
    end)

    it("answers a failure as a line, without raising into the caller", function()
      local boom = { status = 500, headers = { ["x-amzn-ErrorType"] = "InternalServiceException" },
                     body = { message = "boom" } }
      srv:script{ boom, boom }   -- it makes 2 attempts
      local rc, out, err = admin("list")
      assert.are.equal(1, rc)
      assert.are.equal("", err)
      assert.truthy(out:find("^support: aws_connect: InternalServiceException: boom"), out)
      rc, out = admin("launch")
      assert.are.equal(1, rc)
      assert.truthy(out:find("^usage: "), out)
    end)
  end)

  it("run-demo.sh (make demo) creates an instance and prints its ARN", function()
    local rc, out, err = run("sh examples/run-demo.sh " .. LUA, { PATH = os.getenv("PATH"), HOME = home,
      AWS_EC2_METADATA_DISABLED = "true" }, home)
    assert.are.equal(0, rc, out .. err)
    assert.truthy(out:find("\narn:          arn:aws:connect:us%-east%-1:%d+:instance/"), out)
  end)
end)

describe("examples/openresty", function()
  local modules, missing = nginx.available()
  if not modules then
    it("needs nginx with ngx_http_lua", function()
      pending("nginx is not available: " .. missing .. " (make deps-nginx installs it)")
    end)
    return
  end

  local srv, web, home

  local function reqs(method)
    local n = 0
    for _, r in ipairs(srv:requests()) do
      if r.method == method then n = n + 1 end
    end
    return n
  end

  local function call(method, path, want)
    local code, body = web:request(method, path)
    assert.are.equal(want, code, method .. " " .. path .. " answered " .. tostring(code) .. ": " .. body
      .. "\nerror.log:\n" .. web:log():sub(-2000))
    return cjson.decode(body)
  end

  setup(function()
    local so = root .. "/build/luajit/aws_connect/core.so"
    assert(io.open(so, "rb"), so .. " is missing: run `make LUA=luajit` (make test builds it)"):close()
    home = mktemp_dir()
    srv = fake.start{ create_delay = 0, quota = 100 }
    -- as the README: a copy of examples/openresty as the prefix, with logs/
    local dir = nginx.mktemp_dir()
    os.execute(("cp -r %s/. %s && mkdir -p %s/logs && chmod -R a+rX %s"):format(
      q(root .. "/examples/openresty"), q(dir), q(dir), q(dir)))
    local port = nginx.free_port()
    local conf = dir .. "/conf/nginx.conf"
    local text = assert(fake.read_file(conf))
    local n
    text, n = text:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";")
    assert(n == 1, "examples/openresty/conf/nginx.conf has no 'listen 127.0.0.1:8080;'")
    helpers.write(conf, text)
    local ok, err = pcall(function()
      web = nginx.start_file{ prefix = dir, conf = "conf/nginx.conf", port = port, ready = "/ready", env = {
        PATH = "/usr/bin:/bin", HOME = home,
        -- the README's lines for running the module from a checkout
        LUA_PATH = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;",
        LUA_CPATH = root .. "/build/luajit/?.so;;",
        AWS_REGION = "us-east-1", AWS_ACCESS_KEY_ID = "AKIDFAKE", AWS_SECRET_ACCESS_KEY = "secret",
        AWS_ENDPOINT_URL_CONNECT = srv.endpoint, AWS_MAX_ATTEMPTS = "1", AWS_EC2_METADATA_DISABLED = "true",
      } }
    end)
    if not ok then
      os.execute("rm -rf " .. q(dir))
      error(err, 0)
    end
  end)
  teardown(function()
    if web then web:stop() end
    if srv then srv:stop() end
    if home then os.execute("rm -rf " .. q(home)) end
  end)
  before_each(function() srv:reset() end)

  it("lists the instances on GET and never creates one on a GET", function()
    assert.are.same({ instances = {} }, call("GET", "/instances", 200))
    call("GET", "/instances", 200)
    assert.are.equal(0, reqs("PUT"))
  end)

  it("makes sure an instance exists on POST: created once (201), then found (200)", function()
    local made = call("POST", "/instances?alias=game-support", 201)
    assert.is_true(made.created)
    local again = call("POST", "/instances?alias=game-support", 200)
    assert.is_false(again.created)
    assert.are.equal(made.id, again.id)
    assert.are.equal(1, #srv:instances())
    local list = call("GET", "/instances", 200)
    assert.are.equal("game-support", list.instances[1].alias)
    local one = call("GET", "/instances/" .. made.id, 200)
    assert.are.equal("ACTIVE", one.status)
    assert.are.equal(made.arn, one.arn)
  end)

  it("answers errors as JSON and logs them as one readable line, never 'unknown reason'", function()
    local e = call("GET", "/instances/nope", 404)
    assert.are.equal("ResourceNotFoundException", e.error.code)
    e = call("POST", "/instances?alias=d-not-allowed", 400)
    assert.are.equal("ValidationError", e.error.code)
    srv:script{ { status = 500, headers = { ["x-amzn-ErrorType"] = "InternalServiceException" },
                  body = { message = "boom" } } }
    e = call("GET", "/instances", 502)
    assert.are.equal("InternalServiceException", e.error.code)
    local log = web:log()
    assert.truthy(log:find("connect_admin: aws_connect: ResourceNotFoundException: Instance not found: nope (HTTP 404",
      1, true), log)
    assert.truthy(log:find("connect_admin: aws_connect: ValidationError: instance_alias", 1, true), log)
    assert.truthy(log:find("connect_admin: aws_connect: InternalServiceException: boom", 1, true), log)
    assert.is_nil(log:find("unknown reason", 1, true))
    assert.is_nil(log:find("secret", 1, true))
    call("DELETE", "/instances", 405)
  end)
end)
