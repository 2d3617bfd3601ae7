-- TLS is verified by default: against an HTTPS fake server whose CA and
-- certificate are made at test time with the openssl command-line tool,
-- a call fails with a NetworkError naming the certificate problem (and is
-- not retried) unless ca_file trusts that CA; verify_tls = false works and
-- logs a warning.

local aws_connect = require("aws_connect")
local fake = require("spec.support.fake_server")

local KEY, SECRET = "AKIDTLSSPEC", "tls/spec+secret/key"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function q(s) return fake.shell_quote(s) end

-- A CA and a server certificate for IP 127.0.0.1 (no DNS names), in dir.
local function make_pki(dir)
  local d = function(f) return q(dir .. "/" .. f) end
  local quiet = " >/dev/null 2>&1"
  assert(sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=aws_connect test CA'"
    .. " -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'"
    .. " -keyout " .. d("ca.key") .. " -out " .. d("ca.pem") .. quiet), "openssl: CA")
  assert(sh("openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1'"
    .. " -keyout " .. d("server.key") .. " -out " .. d("server.csr") .. quiet), "openssl: CSR")
  local ext = assert(io.open(dir .. "/server.ext", "w"))
  ext:write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
  ext:close()
  assert(sh("openssl x509 -req -days 2 -in " .. d("server.csr") .. " -CA " .. d("ca.pem") .. " -CAkey " .. d("ca.key")
    .. " -CAcreateserial -extfile " .. d("server.ext") .. " -out " .. d("server.pem") .. quiet), "openssl: sign")
end

local PARAMS = { identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
  outbound_calls_enabled = false }

describe("TLS against an HTTPS fake server with a CA made at test time", function()
  local dir, srv, plain

  setup(function()
    local p = io.popen("mktemp -d")
    dir = p:read("*l")
    p:close()
    assert(dir and dir ~= "", "mktemp -d failed")
    make_pki(dir)
    srv = fake.start{ access_key = KEY, secret_key = SECRET, create_delay = 0,
      tls_cert = dir .. "/server.pem", tls_key = dir .. "/server.key" }
    plain = fake.start{ access_key = KEY, secret_key = SECRET, create_delay = 0 }
  end)

  teardown(function()
    if srv then srv:stop() end
    if plain then plain:stop() end
    if dir and dir:match("^/tmp/") then sh("rm -rf " .. q(dir)) end
  end)

  local logs, delays
  local function client(extra)
    logs, delays = {}, {}
    local opts = {
      region = "us-east-1", endpoint = srv.endpoint, getenv = {},
      credentials = { access_key_id = KEY, secret_access_key = SECRET },
      logger = function(level, msg) logs[#logs + 1] = { level, msg } end,
      sleep = function(d) delays[#delays + 1] = d end,
    }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return aws_connect.new(opts)
  end

  before_each(function()
    srv:reset()
  end)

  it("verifies certificates by default: NetworkError naming the problem, not retried, nothing sent", function()
    assert.truthy(srv.endpoint:find("^https://"))
    local c = client()
    local ok, err = pcall(c.create_instance, c, PARAMS)
    assert.is_false(ok)
    assert.are.equal("NetworkError", err.code)
    assert.are.equal("network", err.kind)
    assert.truthy(err.message:lower():find("certificate", 1, true), err.message)
    assert.truthy(err.message:find("local issuer", 1, true), err.message)
    assert.is_false(err.retryable)
    assert.are.equal(1, err.attempts)
    assert.are.equal(0, #delays)
    assert.are.equal(0, #srv:requests())
  end)

  it("succeeds when ca_file names the CA", function()
    local c = client{ ca_file = dir .. "/ca.pem" }
    local inst, meta = c:create_instance(PARAMS)
    assert.is_string(inst.id)
    assert.are.equal(1, meta.attempts)
    local reqs = srv:requests()
    assert.are.equal(1, #reqs)
    assert.is_true(reqs[1].signature_valid, tostring(reqs[1].signature_error))
    assert.are.equal(1, #srv:instances())
  end)

  it("checks the host name too, even with the right CA", function()
    -- the certificate is for IP 127.0.0.1 only; localhost is the same server
    local c = client{ ca_file = dir .. "/ca.pem", endpoint = "https://localhost:" .. srv.port }
    local ok, err = pcall(c.list_instances, c)
    assert.is_false(ok)
    assert.are.equal("NetworkError", err.code)
    assert.is_false(err.retryable)
    assert.are.equal(1, err.attempts)
    assert.truthy(err.message:lower():find("certificate", 1, true) or err.message:find("localhost", 1, true),
      err.message)
  end)

  it("works with verify_tls = false and logs a warning", function()
    local c = client{ verify_tls = false }
    local warned = false
    for _, l in ipairs(logs) do
      if l[1] == "warn" and l[2]:find("verify_tls", 1, true) then warned = true end
    end
    assert.is_true(warned, "a warning is logged when verification is off")
    local inst, meta = c:create_instance(PARAMS)
    assert.is_string(inst.id)
    assert.are.equal(1, meta.attempts)
  end)

  it("refuses an unreadable ca_file with a ConfigError before sending", function()
    local c = client{ ca_file = dir .. "/does-not-exist.pem" }
    local ok, err = pcall(c.list_instances, c)
    assert.is_false(ok)
    assert.are.equal("ConfigError", err.code)
    assert.are.equal(0, err.attempts)
    assert.are.equal(0, #srv:requests())
  end)

  it("retries a handshake that breaks off (not a certificate problem)", function()
    -- https to a plain-HTTP port: the handshake fails, like a reset would
    local c = client{ endpoint = "https://127.0.0.1:" .. plain.port }
    local ok, err = pcall(c.list_instances, c)
    assert.is_false(ok)
    assert.are.equal("NetworkError", err.code)
    assert.is_true(err.retryable)
    assert.are.equal(3, err.attempts)
    assert.are.equal(2, #delays)
    assert.truthy(err.message:find("TLS handshake", 1, true), err.message)
  end)
end)
