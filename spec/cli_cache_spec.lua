-- Temporary credentials shared across processes as the AWS CLI shares them
-- (~/.aws/cli/cache): separate lua5.4 processes in a row, each a fresh
-- client with an assume-role profile, against a local STS stand-in
-- (spec/support/fake_metadata.py) that counts the calls. File names and
-- JSON are the AWS CLI's (the expected names are computed here with
-- Python's json and hashlib, not with the code under test).

local fm = require("spec.support.fake_metadata")
local cjson = require("cjson")
local helpers = require("spec.support.helpers")

local q, capture, write, read = helpers.q, helpers.capture, helpers.write, helpers.read

local ROOT = (capture("pwd"):gsub("%s+$", ""))
local LUA = "lua5.4"

-- the AWS CLI's cache file name for AssumeRole arguments (botocore's
-- AssumeRoleCredentialFetcher: sha1 of json.dumps(args, sort_keys=True))
local function cli_key(args_json)
  return (capture("/usr/bin/python3 -c " .. q("import json,hashlib,sys\n"
    .. "print(hashlib.sha1(json.dumps(json.loads(sys.argv[1]), sort_keys=True).encode('utf-8')).hexdigest())")
    .. " " .. q(args_json)):gsub("%s+$", ""))
end

-- One process: a fresh client resolves credentials and prints the access key.
local SCRIPT = [[
local aws_connect = require("aws_connect")
local opts = { profile = "r", region = "us-east-1" }
if arg[1] == "off" then opts.credential_cache = false end
local ok, c = pcall(function() return aws_connect._private(aws_connect.new(opts)).resolver:get() end)
if not ok then io.write("ERROR ", tostring(c), "\n") os.exit(1) end
io.write(c.access_key_id, "\n")
]]

describe("the cross-process credential cache", function()
  local srv, dir

  setup(function() srv = fm.start() end)
  teardown(function() if srv then srv:stop() end end)

  before_each(function()
    srv:reset()
    srv:config{ sts_secrets = { AKIDBASE = "base-secret" }, expiration = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 3600) }
    dir = helpers.tmpdir("clicache", ".aws")
    write(dir .. "/run.lua", SCRIPT)
  end)
  after_each(function() helpers.rmdir(dir) end)

  local function profile(extra)
    write(dir .. "/.aws/config", "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
      .. "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n" .. (extra or ""))
  end

  -- runs one process with a clean environment (loopback only, no IMDS)
  local function run(arg)
    local cmd = table.concat({
      "env -i", "PATH=" .. q(os.getenv("PATH") or "/usr/bin:/bin"), "HOME=" .. q(dir),
      "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_STS=" .. q(srv.endpoint),
      "LUA_PATH=" .. q(ROOT .. "/?.lua;" .. ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"),
      "LUA_CPATH=" .. q(ROOT .. "/build/lua5.4/?.so;;"),
      LUA, q(dir .. "/run.lua"), arg and q(arg) or "", "2>&1",
    }, " ")
    return (capture(cmd):gsub("%s+$", ""))
  end

  local function sts_calls()
    local n = 0
    for _, r in ipairs(srv:requests()) do if r.channel == "sts" then n = n + 1 end end
    return n
  end

  it("lets two processes in a row with an assume-role profile make one STS call", function()
    profile()
    assert.are.equal("ASIAFAKE0001", run())
    assert.are.equal("ASIAFAKE0001", run())
    assert.are.equal(1, sts_calls())
  end)

  it("writes the AWS CLI's file name and JSON, mode 0600", function()
    profile("duration_seconds = 3600\nexternal_id = ext-1\n")
    assert.are.equal("ASIAFAKE0001", run())
    local path = dir .. "/.aws/cli/cache/"
      .. cli_key('{"RoleArn": "arn:aws:iam::123456789012:role/ops", "DurationSeconds": 3600, "ExternalId": "ext-1"}')
      .. ".json"
    local doc = cjson.decode((assert(read(path), "no file " .. path .. "; have: "
      .. capture("ls " .. q(dir .. "/.aws/cli/cache") .. " 2>&1"))))
    assert.are.equal("ASIAFAKE0001", doc.Credentials.AccessKeyId)
    assert.are.equal("secret-1", doc.Credentials.SecretAccessKey)
    assert.are.equal("token-1", doc.Credentials.SessionToken)
    assert.is_truthy(doc.Credentials.Expiration:find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), doc.Credentials.Expiration)
    assert.are.equal("600", (capture("stat -c %a " .. q(path)):gsub("%s+", "")))
    assert.are.equal("700", (capture("stat -c %a " .. q(dir .. "/.aws/cli/cache")):gsub("%s+", "")))
  end)

  it("uses credentials the AWS CLI cached, with a session name the user chose in the key", function()
    profile("role_session_name = alice\n")
    local key = cli_key('{"RoleArn": "arn:aws:iam::123456789012:role/ops", "RoleSessionName": "alice"}')
    assert(os.execute("mkdir -p " .. q(dir .. "/.aws/cli/cache")))
    -- as botocore's JSONFileCache writes the AssumeRole response (datetimes in isoformat)
    write(dir .. "/.aws/cli/cache/" .. key .. ".json", cjson.encode{
      Credentials = { AccessKeyId = "ASIAFROMCLI", SecretAccessKey = "cli-secret", SessionToken = "cli-token",
        Expiration = os.date("!%Y-%m-%dT%H:%M:%S+00:00", os.time() + 3600) },
      AssumedRoleUser = { AssumedRoleId = "AROA:alice", Arn = "arn:aws:sts::123456789012:assumed-role/ops/alice" },
      ResponseMetadata = { RequestId = "r", HTTPStatusCode = 200 },
    })
    assert.are.equal("ASIAFROMCLI", run())
    assert.are.equal(0, sts_calls())
  end)

  it("calls STS again when the cached credentials expire within 15 minutes, and replaces them", function()
    profile()
    local path = dir .. "/.aws/cli/cache/" .. cli_key('{"RoleArn": "arn:aws:iam::123456789012:role/ops"}') .. ".json"
    assert(os.execute("mkdir -p " .. q(dir .. "/.aws/cli/cache")))
    write(path, cjson.encode{ Credentials = { AccessKeyId = "ASIAOLD", SecretAccessKey = "s", SessionToken = "t",
      Expiration = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 14 * 60) } })
    assert.are.equal("ASIAFAKE0001", run())
    assert.are.equal(1, sts_calls())
    assert.are.equal("ASIAFAKE0001", cjson.decode(read(path)).Credentials.AccessKeyId)
  end)

  it("is not used with credential_cache = false", function()
    profile()
    assert.are.equal("ASIAFAKE0001", run("off"))
    assert.are.equal("ASIAFAKE0002", run("off"))
    assert.are.equal(2, sts_calls())
    assert.is_nil(read(dir .. "/.aws/cli/cache"))
  end)
end)
