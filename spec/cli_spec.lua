-- bin/aws-connect (the aws_connect.cli module) run as a subprocess with the
-- interpreter under test against the fake Connect server:
-- its commands and flags, JSON and table output, one-line errors on
-- stderr, exit codes (0 success, 1 service, 2 usage/validation,
-- 3 credentials/network/timeout), --dry-run, --debug and --wait.
-- The child gets a clean environment (env -i) with a temporary HOME, so no
-- profile or credential file of the machine is read, and the instance
-- metadata service is off (and pointed at a closed loopback port).

package.path = "./?.lua;" .. package.path

local fake = require("spec.support.fake_server")
local aws_connect = require("aws_connect")
local cjson = require("cjson")

local LUA = os.getenv("AWSC_LUA") or "lua5.4"
local q = fake.shell_quote

local srv, home

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Runs the CLI; env entries override the defaults (false removes one).
-- Returns exit code, stdout, stderr.
local function run(args, env)
  local e = {
    PATH = os.getenv("PATH") or "/usr/bin:/bin",
    HOME = home,
    LUA_PATH = "lua/?.lua;lua/?/init.lua;;",
    LUA_CPATH = "build/" .. LUA .. "/?.so;;",
    AWS_ACCESS_KEY_ID = "AKIDFAKE",
    AWS_SECRET_ACCESS_KEY = "secret",
    AWS_REGION = "us-east-1",
    AWS_CONFIG_FILE = home .. "/no-config",
    AWS_SHARED_CREDENTIALS_FILE = home .. "/no-credentials",
    AWS_EC2_METADATA_DISABLED = "true",
    AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:1",
  }
  for k, v in pairs(env or {}) do e[k] = v or nil end
  local parts = { "env", "-i" }
  for k, v in pairs(e) do parts[#parts + 1] = q(k .. "=" .. v) end
  parts[#parts + 1] = LUA
  parts[#parts + 1] = "bin/aws-connect"
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  local out, err = home .. "/stdout", home .. "/stderr"
  local p = io.popen(table.concat(parts, " ") .. " >" .. q(out) .. " 2>" .. q(err) .. "; echo $?")
  local rc = tonumber(p:read("*a"):match("(%d+)"))
  p:close()
  return rc, read(out), read(err)
end

-- the CLI against the fake server
local function cli(args, env)
  local a = { "--endpoint-url", srv.endpoint }
  for _, x in ipairs(args) do a[#a + 1] = x end
  return run(a, env)
end

local function one_line(text)
  assert.is_truthy(text:match("^[^\n]+\n$"), "expected one line on stderr, got: " .. text)
  return text
end

local function client()
  return aws_connect.new{
    region = "us-east-1", endpoint = srv.endpoint, getenv = {},
    credentials = { access_key_id = "AKIDFAKE", secret_access_key = "secret" },
  }
end

local CREATE = { "--identity-management-type", "CONNECT_MANAGED", "--inbound-calls-enabled",
  "--no-outbound-calls-enabled" }

local function create_args(alias, extra)
  local a = {}
  for _, x in ipairs(CREATE) do a[#a + 1] = x end
  a[#a + 1] = "--instance-alias"
  a[#a + 1] = alias
  for _, x in ipairs(extra or {}) do a[#a + 1] = x end
  return a
end

local function with(cmd, args)
  local a = { cmd }
  for _, x in ipairs(args) do a[#a + 1] = x end
  return a
end

local function count(method, path)
  local n = 0
  for _, r in ipairs(srv:requests()) do
    if r.method == method and (path == nil or r.path == path) then n = n + 1 end
  end
  return n
end

describe("aws-connect", function()
  setup(function()
    local p = io.popen("mktemp -d")
    home = p:read("*l")
    p:close()
    srv = fake.start{ create_delay = 0, quota = 100 }
  end)
  teardown(function()
    if srv then srv:stop() end
    if home and home:match("^/tmp/") then os.execute("rm -rf " .. q(home)) end
  end)
  before_each(function()
    srv:reset()
    srv:config{ create_delay = 0, quota = 100 }
  end)

  it("is an executable stub that runs as a command (sh picks a built Lua) and as a Lua script", function()
    -- not "#!/usr/bin/env lua": `lua` may be any installed Lua (spec/install_spec.lua)
    assert.are.equal("#!/bin/sh\n", read("bin/aws-connect"):sub(1, 10))
    local p = io.popen("test -x bin/aws-connect && echo yes")
    assert.are.equal("yes", p:read("*l"))
    p:close()
    assert.is_function(loadfile("bin/aws-connect"))
    local rc, out = run{ "--help" }   -- through the interpreter, as every test here
    assert.are.equal(0, rc)
    assert.is_truthy(out:find("^usage: aws%-connect "))
  end)

  describe("create-instance", function()
    it("creates the instance and prints id, arn and client token as JSON with sorted keys", function()
      local rc, out, err = cli(with("create-instance", create_args("game-support", { "--tags", "team=ops,env=prod" })))
      assert.are.equal(0, rc, err)
      assert.are.equal("", err)
      local doc = cjson.decode(out)
      local rec = srv:instances()[1]
      assert.are.equal(rec.Id, doc.id)
      assert.are.equal(rec.Arn, doc.arn)
      assert.are.equal(rec.ClientToken, doc.client_token)
      assert.are.equal(('{"arn":%s,"client_token":%s,"id":%s}\n'):format(
        cjson.encode(doc.arn), cjson.encode(doc.client_token), cjson.encode(doc.id)):gsub("\\/", "/"), out)
      assert.are.equal("game-support", rec.InstanceAlias)
      assert.are.equal("CONNECT_MANAGED", rec.IdentityManagementType)
      assert.is_true(rec.InboundCallsEnabled)
      assert.is_false(rec.OutboundCallsEnabled)
      assert.are.same({ team = "ops", env = "prod" }, rec.Tags)
    end)

    it("accepts tags as JSON and repeated --tags, and --directory-id and --client-token", function()
      local rc, _, err = cli(with("create-instance", {
        "--identity-management-type", "EXISTING_DIRECTORY", "--no-inbound-calls-enabled",
        "--outbound-calls-enabled", "--directory-id", "d-0123456789abcdef"
      }))
      assert.are.equal(2, rc, err) -- 18 characters: invalid, nothing sent
      assert.are.equal(0, #srv:requests())
      rc, _, err = cli(with("create-instance", {
        "--identity-management-type=EXISTING_DIRECTORY", "--no-inbound-calls-enabled",
        "--outbound-calls-enabled", "--directory-id", "d-0123456789", "--client-token", "tok-1",
        "--tags", '{"Cost Center":"42, 43"}', "--tags", "team=ops",
      }))
      assert.are.equal(0, rc, err)
      local rec = srv:instances()[1]
      assert.are.equal("d-0123456789", rec.DirectoryId)
      assert.are.equal("tok-1", rec.ClientToken)
      assert.is_false(rec.InboundCallsEnabled)
      assert.is_true(rec.OutboundCallsEnabled)
      assert.are.same({ ["Cost Center"] = "42, 43", team = "ops" }, rec.Tags)
    end)

    it("--wait shows progress on stderr and prints the ACTIVE instance", function()
      srv:config{ create_delay = 0.3 }
      local rc, out, err = cli(with("create-instance", create_args("waited", { "--wait", "--interval", "0.1" })))
      assert.are.equal(0, rc, err)
      local doc = cjson.decode(out)
      assert.are.equal("ACTIVE", doc.instance_status)
      assert.are.equal("waited", doc.instance_alias)
      assert.is_truthy(err:find("created instance " .. doc.id .. "; waiting until it is ACTIVE", 1, true), err)
      assert.is_truthy(err:find("instance " .. doc.id:gsub("%p", "%%%0") .. " is ACTIVE %(%d+ s%)\n$"), err)
    end)
  end)

  describe("describe-instance", function()
    it("prints the instance as JSON", function()
      local made = client():create_instance{ identity_management_type = "SAML", inbound_calls_enabled = false,
        outbound_calls_enabled = true, instance_alias = "described", tags = { ["Team Name"] = "ops" } }
      local rc, out, err = cli{ "describe-instance", "--instance-id", made.id }
      assert.are.equal(0, rc, err)
      local doc = cjson.decode(out)
      assert.are.equal(made.id, doc.id)
      assert.are.equal("SAML", doc.identity_management_type)
      assert.are.equal("ACTIVE", doc.instance_status)
      assert.is_false(doc.inbound_calls_enabled)
      assert.are.same({ ["Team Name"] = "ops" }, doc.tags)
      assert.are.equal("number", type(doc.created_time))
    end)

    it("prints a key/value table with --output table", function()
      local made = client():create_instance{ identity_management_type = "CONNECT_MANAGED",
        inbound_calls_enabled = true, outbound_calls_enabled = false, instance_alias = "tabled",
        tags = { team = "ops", env = "prod" } }
      local rc, out, err = cli{ "describe-instance", "--instance-id", made.id, "--output", "table" }
      assert.are.equal(0, rc, err)
      assert.is_truthy(out:find("^id +" .. made.id:gsub("%-", "%%-") .. "\n"), out)
      assert.is_truthy(out:find("\ninstance_status +ACTIVE\n"), out)
      assert.is_truthy(out:find("\ntags +env=prod, team=ops\n"), out)
      assert.is_truthy(out:find("\ncreated_time +%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ\n"), out)
    end)

    it("exits 1 with the service error on one line of stderr", function()
      local rc, out, err = cli{ "describe-instance", "--instance-id", "no-such-id" }
      assert.are.equal(1, rc)
      assert.are.equal("", out)
      one_line(err)
      assert.is_truthy(err:find("^aws%-connect: ResourceNotFoundException: "), err)
      assert.is_truthy(err:find("HTTP 404", 1, true), err)
    end)
  end)

  describe("list-instances", function()
    it("lists every page", function()
      local c = client()
      local ids = {}
      for i = 1, 12 do
        ids[i] = c:create_instance{ identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
          outbound_calls_enabled = false, instance_alias = "l" .. i }.id
      end
      local rc, out, err = cli{ "list-instances", "--page-size", "5" }
      assert.are.equal(0, rc, err)
      local seen = {}
      for i, s in ipairs(cjson.decode(out).instances) do seen[i] = s.id end
      assert.are.same(ids, seen)
      assert.are.equal(3, count("GET", "/instance"))
    end)

    it("stops after --max-items", function()
      local c = client()
      for i = 1, 12 do
        c:create_instance{ identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
          outbound_calls_enabled = false, instance_alias = "m" .. i }
      end
      local rc, out, err = cli{ "list-instances", "--max-items", "7", "--page-size", "5" }
      assert.are.equal(0, rc, err)
      assert.are.equal(7, #cjson.decode(out).instances)
      assert.are.equal(2, count("GET", "/instance"))
    end)

    it("prints an empty JSON array when there are none", function()
      local rc, out = cli{ "list-instances" }
      assert.are.equal(0, rc)
      assert.are.equal('{"instances":[]}\n', out)
    end)

    it("prints one row per instance with --output table", function()
      local c = client()
      for i = 1, 3 do
        c:create_instance{ identity_management_type = "CONNECT_MANAGED", inbound_calls_enabled = true,
          outbound_calls_enabled = false, instance_alias = "row" .. i }
      end
      local rc, out = cli{ "list-instances", "--output", "table" }
      assert.are.equal(0, rc)
      local lines = {}
      for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal(4, #lines)
      assert.is_truthy(lines[1]:find("^ID +ALIAS +STATUS +IDENTITY +INBOUND +OUTBOUND +CREATED$"), lines[1])
      assert.is_truthy(lines[2]:find(" row1 +ACTIVE +CONNECT_MANAGED +yes +no +%d%d%d%d%-"), lines[2])
    end)
  end)

  describe("delete-instance", function()
    it("deletes the instance with the given client token", function()
      local made = client():create_instance{ identity_management_type = "CONNECT_MANAGED",
        inbound_calls_enabled = true, outbound_calls_enabled = false }
      local rc, out, err = cli{ "delete-instance", "--instance-id", made.id, "--client-token", "del-1" }
      assert.are.equal(0, rc, err)
      assert.are.same({ instance_id = made.id, deleted = true, client_token = "del-1" }, cjson.decode(out))
      assert.are.same({}, srv:instances())
      local last = srv:requests()[#srv:requests()]
      assert.are.equal("clientToken=del-1", last.query)
    end)
  end)

  describe("wait-instance", function()
    it("prints the instance once it is ACTIVE", function()
      srv:config{ create_delay = 0.3 }
      local made = client():create_instance{ identity_management_type = "CONNECT_MANAGED",
        inbound_calls_enabled = true, outbound_calls_enabled = false }
      local rc, out, err = cli{ "wait-instance", "--instance-id", made.id, "--interval", "0.1" }
      assert.are.equal(0, rc, err)
      assert.are.equal("ACTIVE", cjson.decode(out).instance_status)
      assert.is_truthy(err:find("is ACTIVE", 1, true), err)
    end)

    it("exits 3 with a TimeoutError when the time is up", function()
      srv:config{ create_delay = 3600 }
      local made = client():create_instance{ identity_management_type = "CONNECT_MANAGED",
        inbound_calls_enabled = true, outbound_calls_enabled = false }
      local rc, out, err = cli{ "wait-instance", "--instance-id", made.id, "--timeout", "0" }
      assert.are.equal(3, rc)
      assert.are.equal("", out)
      local last = err:match("([^\n]*)\n$")
      assert.is_truthy(last:find("^aws%-connect: TimeoutError: instance .* is still CREATION_IN_PROGRESS"), err)
    end)

    it("exits 1 with the status reason when the creation failed", function()
      srv:config{ fail_next_create = "Not enough capacity in us-east-1." }
      local made = client():create_instance{ identity_management_type = "CONNECT_MANAGED",
        inbound_calls_enabled = true, outbound_calls_enabled = false }
      local rc, out, err = cli{ "wait-instance", "--instance-id", made.id }
      assert.are.equal(1, rc)
      assert.are.equal("", out)
      local last = err:match("([^\n]*)\n$")
      assert.is_truthy(last:find("^aws%-connect: InstanceCreationFailed: .*Not enough capacity in us%-east%-1%."), err)
    end)
  end)

  describe("ensure-instance", function()
    it("creates once and then reports the existing instance", function()
      local rc, out, err = cli(with("ensure-instance", create_args("ensured")))
      assert.are.equal(0, rc, err)
      local first = cjson.decode(out)
      assert.is_true(first.created)
      assert.is_truthy(first.client_token:match("^ensure%-%x+$"))
      rc, out, err = cli(with("ensure-instance", create_args("ensured")))
      assert.are.equal(0, rc, err)
      local second = cjson.decode(out)
      assert.is_false(second.created)
      assert.are.equal(first.instance.id, second.instance.id)
      assert.are.equal(1, #srv:instances())
    end)

    it("exits 2 when the existing instance has other settings", function()
      client():create_instance{ identity_management_type = "SAML", inbound_calls_enabled = true,
        outbound_calls_enabled = false, instance_alias = "taken" }
      local rc, _, err = cli(with("ensure-instance", create_args("taken")))
      assert.are.equal(2, rc)
      one_line(err)
      assert.is_truthy(err:find("ValidationError", 1, true), err)
      assert.is_truthy(err:find("[--identity-management-type]", 1, true), err)
      assert.are.equal(1, #srv:instances())
    end)
  end)

  describe("usage", function()
    local cases = {
      { {}, "no command" },
      { { "launch-instance" }, "unknown command" },
      { { "describe-instance" }, "--instance-id is required" },
      { { "describe-instance", "--instance-id" }, "needs a value" },
      { { "describe-instance", "--instance-id", "a", "--instance-id", "b" }, "given twice" },
      { { "describe-instance", "--instance-id", "a", "extra" }, "unexpected argument" },
      { { "describe-instance", "--bogus" }, "unknown option --bogus" },
      { { "describe-instance", "--instance-id", "a", "--output", "yaml" }, "--output" },
      { { "list-instances", "--max-items", "0" }, "--max-items" },
      { { "list-instances", "--page-size", "11" }, "--page-size" },
      { { "list-instances", "--debug=yes" }, "takes no value" },
      { { "create-instance", "--inbound-calls-enabled", "--no-inbound-calls-enabled" }, "only one" },
      { { "create-instance", "--tags", "novalue" }, "--tags" },
      { { "create-instance", "--timeout", "5" }, "--wait" },
      { { "wait-instance", "--instance-id", "a", "--timeout", "soon" }, "--timeout" },
    }
    for _, case in ipairs(cases) do
      it("exits 2 for: aws-connect " .. table.concat(case[1], " "), function()
        local rc, out, err = cli(case[1])
        assert.are.equal(2, rc, err)
        assert.are.equal("", out)
        one_line(err)
        assert.is_truthy(err:find("^aws%-connect: usage: "), err)
        assert.is_truthy(err:find(case[2], 1, true), err)
        assert.are.equal(0, #srv:requests())
      end)
    end

    it("exits 2 for invalid parameters, naming the flag, and sends nothing", function()
      local rc, out, err = cli(with("create-instance", create_args("d-not-allowed")))
      assert.are.equal(2, rc)
      assert.are.equal("", out)
      one_line(err)
      assert.is_truthy(err:find("^aws%-connect: ValidationError: instance_alias"), err)
      assert.is_truthy(err:find("[--instance-alias]", 1, true), err)
      rc, out, err = cli{ "create-instance", "--identity-management-type", "CONNECT_MANAGED", "--inbound-calls-enabled" }
      assert.are.equal(2, rc)
      assert.are.equal("", out)
      assert.is_truthy(err:find("[--outbound-calls-enabled or --no-outbound-calls-enabled]", 1, true), err)
      assert.are.equal(0, #srv:requests())
    end)

    it("shows --help for every command with its flags and the global ones", function()
      local rc, out = run{ "--help" }
      assert.are.equal(0, rc)
      for _, name in ipairs({ "create-instance", "describe-instance", "list-instances", "delete-instance",
          "wait-instance", "ensure-instance" }) do
        assert.is_truthy(out:find("\n  " .. name .. " ", 1, true), name)
        local crc, cout = run{ name, "--help" }
        assert.are.equal(0, crc)
        assert.is_truthy(cout:find("^usage: aws%-connect " .. name:gsub("%-", "%%-") .. " "), cout)
        for _, g in ipairs({ "--region", "--profile", "--endpoint-url", "--output", "--debug", "--dry-run" }) do
          assert.is_truthy(cout:find(g, 1, true), name .. " help lacks " .. g)
        end
        local hrc, hout = run{ "help", name }
        assert.are.equal(0, hrc)
        assert.are.equal(cout, hout)
      end
      local _, cout = run{ "create-instance", "-h" }
      for _, f in ipairs({ "--identity-management-type", "--inbound-calls-enabled", "--no-outbound-calls-enabled",
          "--instance-alias", "--directory-id", "--tags", "--client-token", "--wait", "--timeout" }) do
        assert.is_truthy(cout:find(f, 1, true), f)
      end
      local _, lout = run{ "list-instances", "--help" }
      assert.is_truthy(lout:find("--max-items", 1, true))
      local _, wout = run{ "wait-instance", "--help" }
      assert.is_truthy(wout:find("--timeout", 1, true))
    end)
  end)

  describe("environment errors", function()
    it("exits 3 on a network error", function()
      local rc, out, err = run({ "describe-instance", "--instance-id", "x", "--endpoint-url", "http://127.0.0.1:1" },
        { AWS_MAX_ATTEMPTS = "1" })
      assert.are.equal(3, rc)
      assert.are.equal("", out)
      one_line(err)
      assert.is_truthy(err:find("^aws%-connect: NetworkError: "), err)
    end)

    it("exits 3 without credentials", function()
      local rc, out, err = cli({ "describe-instance", "--instance-id", "x" },
        { AWS_ACCESS_KEY_ID = false, AWS_SECRET_ACCESS_KEY = false })
      assert.are.equal(3, rc, err)
      assert.are.equal("", out)
      one_line(err)
      assert.is_truthy(err:find("^aws%-connect: CredentialsError"), err)
      assert.are.equal(0, #srv:requests())
    end)
  end)

  describe("--dry-run", function()
    local SECRET, TOKEN = "dry-run-secret-key-value", "dry-run-session-token-value"

    it("prints the signed request with the signature and the session token redacted, and sends nothing", function()
      local rc, out, err = cli(with("create-instance", create_args("dry", { "--dry-run", "--output", "table" })),
        { AWS_SECRET_ACCESS_KEY = SECRET, AWS_SESSION_TOKEN = TOKEN })
      assert.are.equal(0, rc, err)
      assert.are.equal(0, #srv:requests())
      assert.are.same({}, srv:instances())
      assert.is_truthy(out:find("^PUT " .. srv.endpoint:gsub("%p", "%%%0") .. "/instance\n"), out)
      assert.is_truthy(out:find("\nAuthorization: AWS4%-HMAC%-SHA256 Credential=AKIDFAKE/%d+/us%-east%-1/connect/aws4_request, "
        .. "SignedHeaders=[%w;-]+, Signature=REDACTED\n"), out)
      assert.is_truthy(out:find("\nX-Amz-Security-Token: REDACTED\n", 1, true), out)
      assert.is_truthy(out:find('\n\n{"ClientToken":"', 1, true), out)
      assert.is_truthy(out:find('"InstanceAlias":"dry"', 1, true), out)
      assert.is_nil(out:find(SECRET, 1, true))
      assert.is_nil(out:find(TOKEN, 1, true))
      assert.is_nil(err:find(SECRET, 1, true))
    end)

    it("prints the request as JSON with --output json", function()
      local rc, out, err = cli({ "delete-instance", "--instance-id", "i/1", "--dry-run", "--client-token", "t1" },
        { AWS_SESSION_TOKEN = TOKEN })
      assert.are.equal(0, rc, err)
      assert.are.equal(0, #srv:requests())
      local doc = cjson.decode(out)
      assert.is_true(doc.dry_run)
      assert.are.equal("DELETE", doc.method)
      assert.are.equal(srv.endpoint .. "/instance/i%2F1?clientToken=t1", doc.url)
      local names = {}
      for _, h in ipairs(doc.headers) do
        names[h[1]] = h[2]
      end
      assert.is_truthy(names.Authorization:find("Signature=REDACTED$"))
      assert.are.equal("REDACTED", names["X-Amz-Security-Token"])
      assert.is_nil(out:find(TOKEN, 1, true))
    end)

    it("signs for the --region given, at the region's endpoint", function()
      local rc, out, err = run{ "describe-instance", "--instance-id", "i-1", "--region", "eu-west-2",
        "--dry-run", "--output", "json" }
      assert.are.equal(0, rc, err)
      local doc = cjson.decode(out)
      assert.are.equal("https://connect.eu-west-2.amazonaws.com/instance/i-1", doc.url)
      local auth
      for _, h in ipairs(doc.headers) do if h[1] == "Authorization" then auth = h[2] end end
      assert.is_truthy(auth:find("/eu-west-2/connect/aws4_request", 1, true), auth)
    end)

    it("passes --profile to the client (region from the profile)", function()
      -- an explicit profile takes its credentials from the files, not the environment (as botocore)
      write(home .. "/config", "[profile ops]\nregion = ap-southeast-2\n"
        .. "aws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n")
      local rc, out, err = run({ "describe-instance", "--instance-id", "i-1", "--profile", "ops", "--dry-run" },
        { AWS_REGION = false, AWS_CONFIG_FILE = home .. "/config" })
      os.remove(home .. "/config")
      assert.are.equal(0, rc, err)
      local doc = cjson.decode(out)
      assert.are.equal("https://connect.ap-southeast-2.amazonaws.com/instance/i-1", doc.url)
      local auth
      for _, h in ipairs(doc.headers) do if h[1] == "Authorization" then auth = h[2] end end
      assert.is_truthy(auth:find("Credential=AKIDPROFILE/%d+/ap%-southeast%-2/"), auth)
      assert.is_nil(out:find("profile-secret", 1, true))
    end)
  end)

  describe("--debug", function()
    it("logs each request and response to stderr, redacted, and keeps stdout clean", function()
      local TOKEN = "debug-session-token-value"
      srv:config{ session_token = TOKEN }
      local made = client()
      local ok, e = pcall(made.list_instances, made) -- without the token the fake refuses
      assert.is_false(ok)
      assert.are.equal("UnrecognizedClientException", e.code)
      local rc, out, err = cli({ "list-instances", "--debug" }, { AWS_SESSION_TOKEN = TOKEN })
      assert.are.equal(0, rc, err)
      assert.are.same({ instances = {} }, cjson.decode(out))
      assert.is_truthy(err:find("> GET " .. srv.endpoint .. "/instance\n", 1, true), err)
      assert.is_truthy(err:find("Signature=REDACTED", 1, true), err)
      assert.is_truthy(err:find("X-Amz-Security-Token: REDACTED", 1, true), err)
      assert.is_truthy(err:find("< HTTP 200", 1, true), err)
      assert.is_truthy(err:find('< {"InstanceSummaryList":[]}', 1, true), err)
      assert.is_nil(err:find(TOKEN, 1, true))
      assert.is_nil(err:find("secret", 1, true))
    end)
  end)
end)
