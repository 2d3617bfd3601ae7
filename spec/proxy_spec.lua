-- Proxies: the proxy option and HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and
-- their lower-case forms) are honoured, for Connect calls and for the
-- credential providers, through a local forward proxy on 127.0.0.1
-- (spec/support/proxy.py, which only forwards to loopback addresses).

local aws_connect = require("aws_connect")
local fake = require("spec.support.fake_server")
local fm = require("spec.support.fake_metadata")
local helpers = require("spec.support.helpers")

local q = helpers.q

local PARAMS = helpers.instance_params()
local CREDS = helpers.creds()

local function proxied(proxy)
  local lines = {}
  for l in proxy:log():gmatch("[^\n]+") do
    if l:find("^PROXY ") then lines[#lines + 1] = l end
  end
  return lines
end

local connect, proxy, mark

setup(function()
  connect = fake.start{}
  proxy = fm.launch(fm.dir .. "/proxy.py", { "--port", "0" })
end)

teardown(function()
  if connect then connect:stop() end
  if proxy then proxy:stop() end
end)

before_each(function()
  connect:reset()
  mark = #proxied(proxy)
end)

local function new_lines()
  local all = proxied(proxy)
  local out = {}
  for i = mark + 1, #all do out[#out + 1] = all[i] end
  return out
end

local function client(opts)
  opts.region = "us-east-1"
  opts.endpoint = opts.endpoint or connect.endpoint
  opts.credentials = CREDS
  opts.max_attempts = 1
  return aws_connect.new(opts)
end

describe("a client", function()
  it("sends through HTTP_PROXY (upper case, which libcurl itself ignores) for an http endpoint", function()
    local c = client{ getenv = { HTTP_PROXY = proxy.endpoint } }
    assert.is_string(c:create_instance(PARAMS).id)
    assert.are.same({ "PROXY PUT " .. connect.endpoint .. "/instance" }, new_lines())
    assert.is_true(connect:requests()[1].signature_valid)
  end)

  it("prefers http_proxy to HTTP_PROXY", function()
    local c = client{ getenv = { http_proxy = proxy.endpoint, HTTP_PROXY = "http://127.0.0.1:1" } }
    assert.is_string(c:create_instance(PARAMS).id)
    assert.are.equal(1, #new_lines())
  end)

  it("goes direct for a host in NO_PROXY", function()
    local c = client{ getenv = { HTTP_PROXY = proxy.endpoint, NO_PROXY = "localhost,127.0.0.1" } }
    assert.is_string(c:create_instance(PARAMS).id)
    assert.are.same({}, new_lines())
    assert.are.equal(1, #connect:requests())
  end)

  it("uses the proxy option without any environment, and goes direct with proxy = false", function()
    local c = client{ proxy = proxy.endpoint, getenv = {} }
    assert.is_string(c:create_instance(PARAMS).id)
    assert.are.equal(1, #new_lines())
    c = client{ proxy = false, getenv = { HTTP_PROXY = "http://127.0.0.1:1" } }
    assert.is_string(c:create_instance(PARAMS).id)
    assert.are.equal(1, #new_lines())
  end)

  it("does not use HTTPS_PROXY for an http endpoint", function()
    local c = client{ getenv = { HTTPS_PROXY = proxy.endpoint } }
    assert.is_string(c:create_instance(PARAMS).id)
    assert.are.same({}, new_lines())
  end)

  it("tunnels HTTPS through HTTPS_PROXY with CONNECT and verifies the server's certificate", function()
    local dir = helpers.tmpdir("proxy")
    local tls
    finally(function()
      if tls then tls:stop() end
      helpers.rmdir(dir)
    end)
    local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
    os.execute("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
      .. " -addext subjectAltName=IP:127.0.0.1 -keyout " .. q(key) .. " -out " .. q(cert) .. " >/dev/null 2>&1")
    tls = fake.start{ tls_cert = cert, tls_key = key }
    local c = client{ endpoint = tls.endpoint, ca_file = cert, getenv = { HTTPS_PROXY = proxy.endpoint } }
    assert.is_string(c:create_instance(PARAMS).id)
    assert.are.same({ "PROXY CONNECT 127.0.0.1:" .. tls.port }, new_lines())
    assert.is_true(tls:requests()[1].signature_valid)
  end)

  it("reports a proxy that cannot be reached as a NetworkError", function()
    local closed = fm.launch(fm.dir .. "/proxy.py", { "--port", "0" })
    local url = closed.endpoint
    closed:stop()
    local c = client{ proxy = url, getenv = {} }
    local ok, e = pcall(c.create_instance, c, PARAMS)
    assert.is_false(ok)
    assert.are.equal("NetworkError", e.code)
    assert.are.equal(0, #connect:requests())
  end)
end)

describe("credential providers", function()
  it("reach the container endpoint through the proxy, and directly when NO_PROXY lists it", function()
    local meta = fm.start()
    finally(function() meta:stop() end)
    local env = { AWS_EC2_METADATA_DISABLED = "true", AWS_CONTAINER_CREDENTIALS_FULL_URI = meta.endpoint .. "/creds",
                  HTTP_PROXY = proxy.endpoint }
    local c = aws_connect.new{ region = "us-east-1", getenv = env }
    assert.are.equal("ASIAFAKE0001", aws_connect._private(c).resolver:get().access_key_id)
    assert.are.same({ "PROXY GET " .. meta.endpoint .. "/creds" }, new_lines())
    env.NO_PROXY = "127.0.0.1"
    c = aws_connect.new{ region = "us-east-1", getenv = env }
    assert.are.equal("ASIAFAKE0002", aws_connect._private(c).resolver:get().access_key_id)
    assert.are.equal(1, #new_lines())
  end)
end)

describe("libcurl", function()
  -- why the Lua layer always passes a proxy ("" for none): libcurl reads the
  -- process environment itself when the option is nil
  local function run(proxy_expr)
    local lua = arg and arg[-1] or "lua5.4"
    local code = ("local s = require('aws_connect.curl').session(); "
      .. "local r, k = s:request{ method = 'GET', url = '%s/_fake/config', proxy = %s, timeout = 5 }; "
      .. "print(r and r.status or k)"):format(connect.endpoint, proxy_expr)
    local cmd = ("env -u NO_PROXY -u no_proxy http_proxy=%s LUA_CPATH=%s %s -e %s 2>&1"):format(
      q(proxy.endpoint), q(helpers.absolute_cpath()), lua, q(code))
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    return out
  end

  it("honours http_proxy from the environment when the proxy option is nil", function()
    assert.are.equal("200\n", run("nil"))
    assert.are.same({ "PROXY GET " .. connect.endpoint .. "/_fake/config" }, new_lines())
  end)

  it("ignores the environment when the proxy option is \"\"", function()
    assert.are.equal("200\n", run("''"))
    assert.are.same({}, new_lines())
  end)
end)
