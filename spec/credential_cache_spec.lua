-- The cross-process credential cache (issue 14, deliverable 4): the AWS
-- CLI's file names (checked against Debian's botocore, run here with
-- /usr/bin/python3), its JSON both ways, mode 0600 and atomic writes,
-- refusal of expired or expiring entries, and hostile files.

local cache = require("aws_connect.credential_cache")
local core = require("aws_connect.core")
local helpers = require("spec.support.helpers")

local PY = "/usr/bin/python3"

local sh_quote, write, read, rm_rf = helpers.q, helpers.write, helpers.read, helpers.rmdir

local function scratch_dir() return helpers.tmpdir("credcache") end

local function mode_of(path)
  local p = io.popen("stat -c %a " .. sh_quote(path))
  local m = p:read("*l"); p:close()
  return m
end

local function listing(dir)
  local p = io.popen("ls -A " .. sh_quote(dir))
  local names = {}
  for l in p:lines() do names[#names + 1] = l end
  p:close()
  table.sort(names)
  return names
end

-- Runs a Python snippet with botocore; input is handed over as a JSON file.
-- Returns stdout lines.
local function python(code, input, home)
  local dir = scratch_dir()
  write(dir .. "/in.json", core.json_encode(input or {}))
  write(dir .. "/run.py", "import json, sys\nARGS = json.load(open(sys.argv[1], encoding='utf-8'))\n" .. code)
  local env = "env -i PATH=/usr/bin:/bin AWS_EC2_METADATA_DISABLED=true HOME=" .. sh_quote(home or dir)
  local p = io.popen(env .. " " .. PY .. " " .. sh_quote(dir .. "/run.py") .. " " .. sh_quote(dir .. "/in.json") .. " 2>&1")
  local lines = {}
  for l in p:lines() do lines[#lines + 1] = l end
  p:close()
  rm_rf(dir)
  return lines
end

describe("credential cache file names", function()
  -- each case: the AssumeRole arguments as the AWS CLI holds them
  local ROLE = "arn:aws:iam::123456789012:role/ops"
  local CASES = {
    { RoleArn = ROLE },
    { RoleArn = ROLE, RoleSessionName = "my-session" },
    { RoleArn = ROLE, RoleSessionName = "s", ExternalId = "ext-1", SerialNumber = "arn:aws:iam::123456789012:mfa/me",
      DurationSeconds = 3600 },
    { RoleArn = ROLE, ExternalId = 'quote " back \\ slash / tab \t nl \n del \127' },
    { RoleArn = ROLE, RoleSessionName = "caf\195\169-\226\130\172-\240\159\152\128" },   -- é, €, an emoji
    { RoleArn = ROLE, Policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["connect:*","sts:Get*"],'
      .. '"Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}]}' },
  }

  it("are botocore's for the same assume-role arguments", function()
    local keys = python([==[
from botocore.credentials import AssumeRoleCredentialFetcher
for a in ARGS:
    role = a.pop('RoleArn')
    f = AssumeRoleCredentialFetcher(client_creator=None, source_credentials=None, role_arn=role, extra_args=a)
    print(f._cache_key)
]==], CASES)
    assert.are.equal(#CASES, #keys, table.concat(keys, "\n"))
    for i, args in ipairs(CASES) do
      local key = assert(cache.key_assume_role(args))
      assert.are.equal(keys[i], key, "case " .. i)
      assert.truthy(key:find("^%x+$") and #key == 40)
    end
  end)

  it("are botocore's for SSO role credentials, sso_session and legacy profiles", function()
    local cases = {
      { role_name = "Admin", account_id = "123456789012", session_name = "my-sso" },
      { role_name = "Admin", account_id = "123456789012", start_url = "https://d-1234567890.awsapps.com/start" },
      { role_name = "R\195\180le", account_id = "000000000000", session_name = "sess\"ion" },
    }
    local keys = python([==[
from botocore.credentials import SSOCredentialFetcher
for a in ARGS:
    f = SSOCredentialFetcher(a.get('start_url'), 'us-east-1', a['role_name'], a['account_id'],
                             client_creator=None, sso_session_name=a.get('session_name'))
    print(f._cache_key)
]==], cases)
    assert.are.equal(#cases, #keys, table.concat(keys, "\n"))
    for i, args in ipairs(cases) do
      assert.are.equal(keys[i], (cache.key_sso(args)), "case " .. i)
    end
  end)

  it("sort policy keys, so that the same policy written differently has one key", function()
    local a = cache.key_assume_role{ RoleArn = "r", Policy = '{"b":1,"a":[2,{"y":1,"x":2}]}' }
    local b = cache.key_assume_role{ RoleArn = "r", Policy = '{ "a" : [2, {"x":2, "y":1}], "b" : 1 }' }
    assert.are.equal(a, b)
  end)

  it("write JSON as Python does (separators, escapes, floats)", function()
    local d = cache._py_dumps
    assert.are.equal('{"a": [1, 2.5, true, null], "b": "\\u00e9\\ud83d\\ude00"}',
      d({ b = "\195\169\240\159\152\128", a = setmetatable({ 1, 2.5, true, core.null }, { __jsontype = "array" }) }, ", ", ": "))
    assert.are.equal('{"a":1}', d({ a = 1 }, ",", ":"))
    assert.are.equal("0.1", d(0.1)); assert.are.equal("1e-05", d(0.00001)); assert.are.equal("0.0001", d(0.0001))
    assert.are.equal("1.5e+300", d(1.5e300)); assert.are.equal("-2.25", d(-2.25))
    assert.is_nil(d(0 / 0))
    assert.is_nil(d("\255"))
  end)

  it("refuse arguments that cannot be hashed, without raising", function()
    assert.is_nil(cache.key_assume_role(nil))
    assert.is_nil(cache.key_assume_role{ ExternalId = "x" })
    assert.is_nil(cache.key_assume_role{ RoleArn = "r", Policy = "{not json" })
    assert.is_nil(cache.key_assume_role{ RoleArn = "r", ExternalId = "\192\128" })   -- overlong UTF-8
    assert.is_nil(cache.key_sso{ role_name = "r" })
    assert.is_nil(cache.key_sso{ role_name = "r", account_id = "1" })
  end)
end)

describe("credential cache files", function()
  local dir, home
  local NOW = 1700000000
  local KEY = "0123456789abcdef0123456789abcdef01234567"

  before_each(function()
    home = scratch_dir()
    dir = home .. "/.aws/cli/cache"
  end)
  after_each(function() rm_rf(home) end)

  local function creds(exp)
    return { access_key_id = "ASIACACHE", secret_access_key = "cache-secret", session_token = "cache-token",
      expiration = exp }
  end

  it("are found under the home folder", function()
    assert.are.equal(dir, cache.dir(function(k) return k == "HOME" and home .. "/" or nil end))
    assert.is_nil(cache.dir(function() return nil end))
  end)

  it("round-trip, mode 0600 in a folder made 0700, with no temporary file left behind", function()
    assert.is_true(cache.store(dir, KEY, cache.assume_role_response(creds(NOW + 3600),
      { Arn = "arn:aws:sts::123456789012:assumed-role/ops/s", AssumedRoleId = "AROA:s" })))
    assert.are.equal("600", mode_of(dir .. "/" .. KEY .. ".json"))
    assert.are.equal("700", mode_of(dir))
    assert.are.same({ KEY .. ".json" }, listing(dir))
    local c = assert(cache.load(dir, KEY, NOW))
    assert.are.same({ access_key_id = "ASIACACHE", secret_access_key = "cache-secret", session_token = "cache-token",
      expiration = NOW + 3600 }, c)
    local doc = core.json_decode(read(dir .. "/" .. KEY .. ".json"))
    assert.are.equal(os.date("!%Y-%m-%dT%H:%M:%SZ", NOW + 3600), doc.Credentials.Expiration)
    assert.are.equal("AROA:s", doc.AssumedRoleUser.AssumedRoleId)
  end)

  it("replace an existing entry whole", function()
    assert.is_true(cache.store(dir, KEY, cache.assume_role_response(creds(NOW + 3600))))
    local newer = creds(NOW + 7200); newer.access_key_id = "ASIANEWER"
    assert.is_true(cache.store(dir, KEY, cache.assume_role_response(newer)))
    assert.are.equal("ASIANEWER", cache.load(dir, KEY, NOW).access_key_id)
    assert.are.same({ KEY .. ".json" }, listing(dir))
    assert.are.equal("600", mode_of(dir .. "/" .. KEY .. ".json"))
  end)

  it("keep SSO role credentials in the AWS CLI's shape, account id included", function()
    local c = creds(NOW + 3600); c.account_id = "123456789012"
    assert.is_true(cache.store(dir, KEY, cache.sso_response(c)))
    local doc = core.json_decode(read(dir .. "/" .. KEY .. ".json"))
    assert.are.equal("sso", doc.ProviderType)
    assert.are.equal("123456789012", doc.Credentials.AccountId)
    assert.are.equal("123456789012", cache.load(dir, KEY, NOW).account_id)
  end)

  it("are refused when expired or within the 15-minute refresh window", function()
    assert.is_true(cache.store(dir, KEY, cache.assume_role_response(creds(NOW + 3600))))
    assert.truthy(cache.load(dir, KEY, NOW + 3600 - 16 * 60))
    local c, why = cache.load(dir, KEY, NOW + 3600 - 14 * 60)
    assert.is_nil(c); assert.are.equal("expired", why)
    assert.is_nil(cache.load(dir, KEY, NOW + 4000))
    assert.truthy(cache.load(dir, KEY, NOW + 3600 - 14 * 60, { window = 60 }))
  end)

  it("read what the AWS CLI writes (botocore's JSONFileCache, Expiration as Python's %Z form)", function()
    local lines = python([==[
import datetime
from dateutil.tz import tzutc
from botocore.utils import JSONFileCache
c = JSONFileCache(ARGS['dir'])
exp = datetime.datetime.fromtimestamp(ARGS['exp'], tzutc())
c[ARGS['key']] = {'Credentials': {'AccessKeyId': 'ASIABOTO', 'SecretAccessKey': 'boto-secret',
                  'SessionToken': 'boto-token', 'Expiration': exp},
                  'AssumedRoleUser': {'AssumedRoleId': 'AROA:x', 'Arn': 'arn'},
                  'ResponseMetadata': {'HTTPStatusCode': 200}}
print(open(ARGS['dir'] + '/' + ARGS['key'] + '.json').read())
]==], { dir = dir, key = KEY, exp = NOW + 3600 })
    assert.truthy(lines[1] and lines[1]:find('"Expiration": "', 1, true), table.concat(lines, "\n"))
    local c = assert(cache.load(dir, KEY, NOW))
    assert.are.equal("ASIABOTO", c.access_key_id)
    assert.are.equal("boto-token", c.session_token)
    assert.are.equal(NOW + 3600, c.expiration)
  end)

  it("are read by botocore's own cached fetcher, which then makes no STS call", function()
    local now = math.floor(core.now())
    local args = { RoleArn = "arn:aws:iam::123456789012:role/ops", RoleSessionName = "shared" }
    local key = assert(cache.key_assume_role(args))
    assert.is_true(cache.store(dir, key, cache.assume_role_response(creds(now + 3600))))
    local lines = python([==[
from botocore.credentials import AssumeRoleCredentialFetcher
from botocore.utils import JSONFileCache
def no_sts(*a, **k):
    raise SystemExit('STS called')
f = AssumeRoleCredentialFetcher(client_creator=no_sts, source_credentials=None, role_arn=ARGS['RoleArn'],
                                extra_args={'RoleSessionName': ARGS['RoleSessionName']}, cache=JSONFileCache(ARGS['dir']))
c = f.fetch_credentials()
print(c['access_key'], c['token'])
]==], { RoleArn = args.RoleArn, RoleSessionName = args.RoleSessionName, dir = dir })
    assert.are.same({ "ASIACACHE cache-token" }, lines)
  end)

  it("ignore hostile or broken files with a log line, never raising", function()
    assert(core.mkdir_private(dir))
    local logs = {}
    local opts = { log = function(level, msg) logs[#logs + 1] = level .. " " .. msg end }
    local path = dir .. "/" .. KEY .. ".json"
    local function refused(text)
      write(path, text)
      local c = cache.load(dir, KEY, NOW, opts)
      assert.is_nil(c, text:sub(1, 40))
    end
    refused("{not json")
    refused("[]")
    refused('{"Credentials": "x"}')
    refused('{"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "soon"}}')
    refused('{"Credentials": {"AccessKeyId": "A", "Expiration": "2099-01-01T00:00:00Z"}}')
    refused('{"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "2099-01-01T00:00:00Z"}}'
      .. (" "):rep(cache.MAX_BYTES))
    assert.is_true(#logs >= 6)
    for _, l in ipairs(logs) do
      assert.truthy(l:find("^warn credential cache"), l)
      assert.falsy(l:find("S\"", 1, true))
    end
    -- a folder or a FIFO where the file should be: refused at once
    os.remove(path)
    assert(os.execute("mkdir " .. sh_quote(path)))
    assert.is_nil(cache.load(dir, KEY, NOW, opts))
    os.execute("rmdir " .. sh_quote(path))
    assert(os.execute("mkfifo " .. sh_quote(path)))
    local t0 = core.monotonic()
    assert.is_nil(cache.load(dir, KEY, NOW, opts))
    assert.is_true(core.monotonic() - t0 < 5)
    -- nothing there: not cached, and nothing logged
    os.remove(path)
    local n = #logs
    local c, why = cache.load(dir, KEY, NOW, opts)
    assert.is_nil(c); assert.are.equal("not cached", why)
    assert.are.equal(n, #logs)
  end)

  it("take keys that are file names only", function()
    for _, key in ipairs({ "../x", "a/b", "", ("a"):rep(129), "x.json", "a\0b" }) do
      assert.is_nil(cache.load(dir, key, NOW), key)
      assert.is_nil(cache.store(dir, key, cache.assume_role_response(creds(NOW + 3600))), key)
    end
    assert.are.same({}, listing(home))
  end)

  it("fail without raising when the folder cannot be made", function()
    write(home .. "/.aws", "a file, not a folder")
    local logs = {}
    local ok, err = cache.store(dir, KEY, cache.assume_role_response(creds(NOW + 3600)),
      { log = function(_, m) logs[#logs + 1] = m end })
    assert.is_nil(ok)
    assert.is_string(err)
    assert.are.equal(1, #logs)
    assert.is_nil(cache.store(dir, KEY, { Credentials = { AccessKeyId = "A" } }))
  end)
end)
