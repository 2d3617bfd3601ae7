-- The module inside a real nginx (Debian's nginx-core with ngx_http_lua and
-- lua-resty-core, LuaJIT): the cosocket transport is chosen by itself,
-- talks HTTP and HTTPS to the fake Connect server, pools connections, does
-- not block the worker, and phases without cosockets get a ConfigError.
-- The handlers live in spec/support/nginx_app.lua; nginx loads the LuaJIT
-- build (build/luajit, made by `make test`).

local nginx = require("spec.support.nginx")
local fake = require("spec.support.fake_server")
local cjson = require("cjson")
local core = require("aws_connect.core")

local modules, missing = nginx.available()
local root = nginx.root()
local luajit_so = root .. "/build/luajit/aws_connect/core.so"

-- os.execute gives 0 on Lua 5.1 and LuaJIT, true on 5.2+
local function succeeds(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

local function sh(cmd)
  assert(succeeds(cmd .. " >/dev/null 2>&1"), "command failed: " .. cmd)
end

-- A test CA, a server certificate it signed (for 127.0.0.1) and an
-- unrelated self-signed one, made with the openssl command-line tool.
local function make_certs(dir)
  local q = fake.shell_quote
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  sh(("openssl req -x509 %s -keyout %s -out %s -days 2 -subj '/CN=aws-connect test CA' "
    .. "-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'")
    :format(ec, q(dir .. "/ca.key"), q(dir .. "/ca.pem")))
  local ext = dir .. "/server.ext"
  local f = assert(io.open(ext, "w"))
  f:write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    .. "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n")
  f:close()
  sh(("openssl req %s -keyout %s -out %s -subj '/CN=127.0.0.1'"):format(ec, q(dir .. "/server.key"), q(dir .. "/server.csr")))
  sh(("openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -out %s -days 2 -extfile %s"):format(
    q(dir .. "/server.csr"), q(dir .. "/ca.pem"), q(dir .. "/ca.key"), q(dir .. "/server.pem"), q(ext)))
  sh(("openssl req -x509 %s -keyout %s -out %s -days 2 -subj '/CN=127.0.0.1' -addext 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1'")
    :format(ec, q(dir .. "/self.key"), q(dir .. "/self.pem")))
end

local function json(body)
  local ok, v = pcall(cjson.decode, body)
  assert(ok, "not JSON: " .. tostring(body))
  return fake.strip_nulls(v)
end

local function throttle()
  return { status = 400, headers = { ["x-amzn-ErrorType"] = "ThrottlingException" },
           body = { message = "Rate exceeded" } }
end

local function server_conf(dir, http, https, untrusted)
  local app = 'require("spec.support.nginx_app")'
  local http_conf = table.concat({
    "lua_shared_dict results 1m;",
    "lua_ssl_trusted_certificate " .. dir .. "/ca.pem;",
    "lua_ssl_verify_depth 2;",
    ("init_by_lua_block { %s.init{ http = %q, https = %q, untrusted = %q } }"):format(app, http, https, untrusted),
    ("init_worker_by_lua_block { %s.init_worker() }"):format(app),
  }, "\n")
  local handlers = { "create", "invalid", "service_error", "safe", "retry", "twice", "result", "chunked", "creds" }
  local server = {}
  for _, h in ipairs(handlers) do
    server[#server + 1] = ("location = /t/%s { content_by_lua_block { %s.%s() } }"):format(h, app, h)
  end
  server[#server + 1] = ("location = /chunked { content_by_lua_block { %s.chunked_source() } }"):format(app)
  server[#server + 1] = ("location = /set { set_by_lua_block $res { return %s.from_set(ngx.var.arg_kind) } "
    .. "content_by_lua_block { ngx.say(ngx.var.res) } }"):format(app)
  server[#server + 1] = ("location = /filter { content_by_lua_block { ngx.say('body') } "
    .. "header_filter_by_lua_block { %s.from_filter() } }"):format(app)
  server[#server + 1] = ("location = /logphase { content_by_lua_block { ngx.say('logged') } "
    .. "log_by_lua_block { %s.from_log() } }"):format(app)
  return http_conf, table.concat(server, "\n")
end

describe("inside nginx", function()
  if not modules then
    it("needs nginx with ngx_http_lua", function()
      pending("nginx is not available: " .. missing .. " (make deps installs it)")
    end)
    return
  end

  local dir, plain, tls, untrusted, srv

  local function stop_all()
    if srv then srv:stop() end
    for _, s in ipairs({ plain, tls, untrusted }) do s:stop() end
    if dir and dir:match("^/tmp/awsc%-nginx%.") then os.execute("rm -rf " .. fake.shell_quote(dir)) end
  end

  setup(function()
    local f = io.open(luajit_so, "rb")
    assert(f, luajit_so .. " is missing: run `make LUA=luajit` (make test builds it)")
    f:close()
    local ok, err = pcall(function()
      dir = nginx.mktemp_dir()
      make_certs(dir)
      plain = fake.start{ create_delay = 0, quota = 1000 }
      tls = fake.start{ create_delay = 0, quota = 1000, tls_cert = dir .. "/server.pem", tls_key = dir .. "/server.key" }
      untrusted = fake.start{ create_delay = 0, tls_cert = dir .. "/self.pem", tls_key = dir .. "/self.key" }
      local http_conf, server = server_conf(dir, plain.endpoint, tls.endpoint, untrusted.endpoint)
      srv = nginx.start{
        http = http_conf, server = server,
        -- nginx clears the environment: these reach Lua through env directives
        env = { AWS_ACCESS_KEY_ID = "AKIDFAKE", AWS_SECRET_ACCESS_KEY = "secret", AWS_REGION = "us-east-1" },
      }
      -- the init_worker timer's call must be done before the tests script the server
      for _ = 1, 100 do
        if srv:get("/t/result?key=init_worker") == 200 then break end
        fake.sleep(0.05)
      end
    end)
    if not ok then
      stop_all()
      error(err, 0)
    end
  end)

  teardown(stop_all)

  before_each(function()
    plain:reset()
    tls:reset()
  end)

  local function get_json(path, want)
    local code, body, head = srv:get(path)
    assert.are.equal(want or 200, code, path .. " answered " .. tostring(code) .. ": " .. tostring(body)
      .. "\nerror.log:\n" .. srv:log():sub(-3000))
    return json(body), head
  end

  it("starts with the Lua module and resty.core loaded", function()
    local code, body = srv:get("/ping")
    assert.are.equal(200, code)
    assert.are.equal("pong\n", body)
    assert.is_nil(srv:log():find("failed to load the 'resty.core' module", 1, true))
  end)

  it("refuses a call from init_by_lua with a ConfigError naming the init phase", function()
    local r = get_json("/t/result?key=init")
    assert.are.equal("ConfigError", r.code)
    assert.are.equal("init", r.phase)
    assert.are.equal(0, r.attempts)
    assert.truthy(r.message:find('"init" phase', 1, true))
    assert.truthy(r.message:find("content", 1, true))
    assert.truthy(r.message:find("ngx.timer.at", 1, true))
  end)

  it("calls from a timer started in init_worker_by_lua", function()
    local r = get_json("/t/result?key=init_worker")
    assert.is_true(r.ok, cjson.encode(r))
    assert.truthy(r.id:match("^%x+%-%x+%-%x+%-%x+%-%x+$"))
  end)

  it("creates an instance over HTTP with a client made in init_by_lua and env credentials", function()
    local r = get_json("/t/create?target=shared&alias=ngx-shared")
    assert.are.equal(1, r.attempts)
    assert.are.equal("aws_connect.transport.ngx", r.stats.transport)
    local inst = plain:instances()
    assert.are.equal(1, #inst)
    assert.are.equal("ngx-shared", inst[1].InstanceAlias)
    assert.are.equal(r.id, inst[1].Id)
    local reqs = plain:requests()
    assert.is_true(reqs[#reqs].signature_valid, reqs[#reqs].signature_error)
  end)

  it("creates an instance over HTTPS, trusting the test CA from lua_ssl_trusted_certificate", function()
    local r = get_json("/t/create?target=https&alias=ngx-tls")
    assert.are.equal(1, r.attempts)
    local inst = tls:instances()
    assert.are.equal(1, #inst)
    assert.are.equal("ngx-tls", inst[1].InstanceAlias)
    -- a second call goes over the pooled TLS connection (no new handshake)
    local r2 = get_json("/t/create?target=https&alias=ngx-tls-2")
    assert.are.equal(r.stats.connects, r2.stats.connects)
    assert.are.equal(r.stats.reused + 1, r2.stats.reused)
    local reqs = tls:requests()
    assert.are.equal(reqs[#reqs - 1].connection, reqs[#reqs].connection)
  end)

  it("refuses a certificate from an unknown CA with a NetworkError that is not retried", function()
    local r = get_json("/t/create?target=untrusted", 500)
    assert.are.equal("NetworkError", r.error.code, cjson.encode(r))
    assert.are.equal("network", r.error.kind)
    assert.is_true(r.error.tls)
    assert.are.equal(1, r.error.attempts)
    assert.is_false(r.error.retryable)
    assert.truthy(r.error.message:lower():find("certificate", 1, true), r.error.message)
    -- with verification off the same server is accepted
    local ok = get_json("/t/create?target=untrusted&verify=0")
    assert.truthy(ok.id)
  end)

  it("raises typed error objects for bad input and for service errors", function()
    local r = get_json("/t/invalid", 500)
    assert.are.equal("ValidationError", r.error.code)
    assert.are.equal("identity_management_type", r.error.field)
    assert.are.equal(0, r.error.attempts)
    assert.is_true(r.error.is_error)
    assert.is_true(r.error.is_code)
    assert.are.equal(0, #plain:requests())

    plain:script{ { status = 400, headers = { ["x-amzn-ErrorType"] = "InvalidRequestException" },
                    body = { message = "Alias is taken" } } }
    r = get_json("/t/service_error", 500)
    assert.are.equal("InvalidRequestException", r.error.code)
    assert.are.equal("service", r.error.kind)
    assert.are.equal(400, r.error.status)
    assert.are.equal("Alias is taken", r.error.message)
    assert.truthy(r.error.text:find("InvalidRequestException", 1, true))
  end)

  it("returns nil, err from aws_connect.safe with the same error objects", function()
    plain:script{ { status = 402, headers = { ["x-amzn-ErrorType"] = "ServiceQuotaExceededException" },
                    body = { message = "Too many instances" } } }
    local r = get_json("/t/safe")
    assert.is_true(r.invalid.result)
    assert.are.equal("ValidationError", r.invalid.error.code)
    assert.is_true(r.invalid.error.is_error)
    assert.are.equal("ServiceQuotaExceededException", r.call.error.code)
    assert.are.equal(402, r.call.error.status)
    assert.are.equal(1, r.call.error.attempts)
    assert.are.equal("ConfigError", r.new.error.code)
    assert.are.equal("no_such_option", r.new.error.field)
  end)

  it("retries a throttled call after sleeping with ngx.sleep, reusing the idempotency token", function()
    plain:script{ throttle() }
    local r = get_json("/t/retry")
    assert.are.equal(2, r.attempts)
    assert.are.equal(1, #r.sleeps)
    assert.is_true(r.sleeps[1] > 0 and r.sleeps[1] < 1)
    local reqs = plain:requests()
    assert.are.equal(2, #reqs)
    assert.are.equal(json(reqs[1].body).ClientToken, json(reqs[2].body).ClientToken)
  end)

  it("reuses the pooled connection on the second call", function()
    local r1 = get_json("/t/create?target=http")
    local r2 = get_json("/t/create?target=http")
    assert.are.equal(r1.stats.connects, r2.stats.connects)
    assert.are.equal(r1.stats.reused + 1, r2.stats.reused)
    local reqs = plain:requests()
    assert.are.equal(2, #reqs)
    assert.are.equal(reqs[1].connection, reqs[2].connection)
    -- and two calls within one request share one connection too
    local t = get_json("/t/twice")
    assert.are.equal(0, t.connects)
    assert.are.equal(2, t.reused)
    reqs = plain:requests()
    assert.are.equal(reqs[1].connection, reqs[4].connection)
  end)

  it("retries once on a fresh connection when the pooled one turns out dead", function()
    local r1 = get_json("/t/create?target=http")
    plain:script{ { fault = "reset" } }
    local r2 = get_json("/t/create?target=http")
    assert.are.equal(1, r2.attempts)   -- not a retry of the request loop
    assert.are.equal(r1.stats.stale_retries + 1, r2.stats.stale_retries)
    local reqs = plain:requests()
    assert.are.equal(3, #reqs)
    assert.are.equal(reqs[1].connection, reqs[2].connection)
    assert.are_not.equal(reqs[2].connection, reqs[3].connection)
  end)

  it("does not block the worker: 20 concurrent calls of 300 ms each finish together", function()
    local items, paths = {}, {}
    for i = 1, 20 do
      items[i] = { pass = true, delay = 0.3 }
      paths[i] = "/t/create?target=shared&alias=par-" .. i
    end
    plain:script(items)
    local t0 = core.monotonic()
    local res, out = srv:get_parallel(paths)
    local elapsed = core.monotonic() - t0
    if os.getenv("AWSC_VERBOSE") then print(("\n20 concurrent calls: %.3f s"):format(elapsed)) end
    for i, r in ipairs(res) do
      assert.are.equal(200, r.status, "request " .. i .. ": " .. tostring(r.body) .. "\n" .. out)
    end
    assert.are.equal(20, #plain:instances())
    -- a blocking transport needs 20 x 0.3 s = 6 s
    assert.is_true(elapsed < 3, ("20 calls took %.2f s"):format(elapsed))
    local reqs = plain:requests()
    local first, last = math.huge, -math.huge
    for _, q in ipairs(reqs) do
      first, last = math.min(first, q.time), math.max(last, q.time)
    end
    assert.is_true(last - first < 2.5, ("requests arrived over %.2f s"):format(last - first))
  end)

  it("fetches credentials once for concurrent first calls (single flight per worker)", function()
    local paths = {}
    for i = 1, 8 do paths[i] = "/t/creds?i=" .. i end
    local res, out = srv:get_parallel(paths)
    for i, r in ipairs(res) do
      assert.are.equal(200, r.status, "request " .. i .. ": " .. tostring(r.body) .. "\n" .. out)
      assert.are.equal(1, json(r.body).fetches, r.body)
    end
    assert.are.equal(8, #plain:instances())
  end)

  it("refuses calls from set_by_lua, header_filter and log phases with a ConfigError naming the phase", function()
    local code, body = srv:get("/set")
    assert.are.equal(200, code)
    local r = json(body)
    assert.are.equal("ConfigError", r.code)
    assert.are.equal("set", r.phase)
    assert.truthy(r.message:find('"set" phase', 1, true))
    assert.truthy(r.message:find('transport = "curl"', 1, true))

    local _, _, head = srv:get("/filter")
    local hv = head:match("[Xx]%-[Rr]esult: ([^\r\n]*)")
    assert.truthy(hv, head)
    r = json(hv)
    assert.are.equal("ConfigError", r.code)
    assert.are.equal("header_filter", r.phase)

    srv:get("/logphase")
    local logged
    for _ = 1, 40 do
      local c, b = srv:get("/t/result?key=log")
      if c == 200 then logged = json(b) break end
      fake.sleep(0.05)
    end
    assert.truthy(logged, "the log handler stored nothing")
    assert.are.equal("ConfigError", logged.code)
    assert.are.equal("log", logged.phase)
    assert.are.equal(0, #plain:requests())
  end)

  it("lets transport = \"curl\" block from a phase without cosockets", function()
    local code, body = srv:get("/set?kind=curl")
    assert.are.equal(200, code)
    assert.truthy(body:match("^ok %x+%-"), body)
    assert.are.equal(1, #plain:instances())
  end)

  it("loads a LuaRocks build made for LuaJIT (luarocks --lua-version 5.1 make) in nginx", function()
    if not succeeds("command -v luarocks >/dev/null 2>&1") then
      pending("luarocks is not installed")
      return
    end
    local work = nginx.mktemp_dir()
    local rock_srv
    finally(function()
      if rock_srv then rock_srv:stop() end
      os.execute("rm -rf " .. fake.shell_quote(work))
    end)
    local q = fake.shell_quote
    sh(("cd %s && tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C %s"):format(q(root), q(work)))
    local rockspec = io.popen("cd " .. q(work) .. " && ls *.rockspec"):read("*l")
    assert.truthy(rockspec, "no rockspec in the repository")
    local log = work .. "/luarocks.log"
    local ok = succeeds(("cd %s && luarocks --lua-version 5.1 --tree %s make %s LUA_INCDIR=%s >%s 2>&1"):format(
      q(work), q(work .. "/tree"), q(rockspec), q(nginx.luajit_incdir()), q(log)))
    assert(ok, "luarocks make failed:\n" .. (fake.read_file(log) or ""))
    local tree = work .. "/tree"
    rock_srv = nginx.start{
      lua_path = tree .. "/share/lua/5.1/?.lua;" .. tree .. "/share/lua/5.1/?/init.lua",
      lua_cpath = tree .. "/lib/lua/5.1/?.so",
      server = ([[location = /rock { content_by_lua_block {
        local aws = require("aws_connect")
        local client = aws.new{ endpoint = %q, region = "us-east-1", max_attempts = 1,
          credentials = { access_key_id = "AKIDFAKE", secret_access_key = "secret" } }
        local inst = client:create_instance{ identity_management_type = "CONNECT_MANAGED",
          inbound_calls_enabled = true, outbound_calls_enabled = false, instance_alias = "from-rock" }
        ngx.say(inst.id, " ", debug.getinfo(aws.new, "S").source, " ",
          package.searchpath("aws_connect.core", package.cpath))
      } }]]):format(plain.endpoint),
    }
    local code, body = rock_srv:get("/rock")
    assert.are.equal(200, code, body .. "\n" .. rock_srv:log():sub(-2000))
    local id, lua_file, so_file = body:match("^(%S+) @(%S+) (%S+)")
    assert.truthy(id, body)
    assert.are.equal(tree .. "/share/lua/5.1/aws_connect/init.lua", lua_file)
    assert.are.equal(tree .. "/lib/lua/5.1/aws_connect/core.so", so_file)
    assert.are.equal("from-rock", plain:instances()[1].InstanceAlias)
  end)

  it("reads chunked bodies and pools the connection after them", function()
    local r = get_json("/t/chunked?port=" .. srv.port .. "&n=300")
    for i = 1, 2 do
      assert.are.equal(200, r.results[i].status, cjson.encode(r.results[i]))
      assert.are.equal("chunked", r.results[i].te)
      assert.are.equal(300, r.results[i].items)
    end
    assert.is_false(r.results[1].reused)
    assert.is_true(r.results[2].reused)
    -- the size cap applies to chunked bodies too
    r = get_json("/t/chunked?port=" .. srv.port .. "&n=300&max=1000")
    assert.are.equal("too_large", r.results[1].kind)
    assert.truthy(r.results[1].message:find("1000 byte limit", 1, true))
  end)
end)
