-- aws-connect side by side with the AWS CLI v2 (/usr/bin/aws, Debian's
-- awscli): both run as subprocesses against the same fake Connect server,
-- in a scratch HOME whose ~/.aws/models holds our Connect model (so the
-- AWS CLI knows every operation), and must print the same stdout and exit
-- with the same code: success (json, text, table, yaml, --query),
-- pagination (--max-items, --starting-token, text per page), service
-- errors, usage errors and missing credentials. Pending when /usr/bin/aws
-- is absent. Slow (the AWS CLI takes about 1.5 s per run).

package.path = "./?.lua;" .. package.path

local fake = require("spec.support.fake_server")
local q = fake.shell_quote

local AWS = "/usr/bin/aws"
local LUA = os.getenv("AWSC_LUA") or "lua5.4"
local I = "11111111-2222-3333-4444-555555555555"

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local srv, home

local function sh(prog, args, creds)
  local parts = { "env", "-i", "PATH=/usr/bin:/bin", "HOME=" .. q(home), "AWS_EC2_METADATA_DISABLED=true",
    "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "TZ=UTC" }
  if creds ~= false then
    parts[#parts + 1] = "AWS_ACCESS_KEY_ID=AKIDFAKE"
    parts[#parts + 1] = "AWS_SECRET_ACCESS_KEY=secret"
  end
  for _, p in ipairs(prog) do parts[#parts + 1] = p end
  parts[#parts + 1] = "--endpoint-url"
  parts[#parts + 1] = q(srv.endpoint)
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  local out = home .. "/out"
  local p = io.popen(table.concat(parts, " ") .. " >" .. q(out) .. " 2>/dev/null; echo $?")
  local rc = tonumber(p:read("*a"):match("(%d+)"))
  p:close()
  return rc, read(out)
end

local CASES = {
  { "describe-user", "--instance-id", I, "--user-id", "u-1" },
  { "describe-user", "--instance-id", I, "--user-id", "u-1", "--output", "text" },
  { "describe-user", "--instance-id", I, "--user-id", "u-1", "--output", "table" },
  { "describe-user", "--instance-id", I, "--user-id", "u-1", "--output", "yaml" },
  { "describe-user", "--instance-id", I, "--user-id", "u-1", "--query", "User.{id: Id, arn: Arn, tags: Tags}" },
  { "list-users", "--instance-id", I },
  { "list-users", "--instance-id", I, "--max-items", "1" },
  { "list-users", "--instance-id", I, "--max-items", "1", "--output", "text" },
  { "list-users", "--instance-id", I, "--output", "table" },
  { "list-users", "--instance-id", I, "--no-paginate" },
  { "search-users", "--instance-id", I, "--max-items", "1" },
  { "list-routing-profile-queues", "--instance-id", I, "--routing-profile-id", "rp" },
  { "get-current-metric-data", "--instance-id", I, "--filters", "Queues=q1,q2,Channels=VOICE",
    "--current-metrics", "Name=AGENTS_ONLINE,Unit=COUNT" },
  { "list-instances", "--output", "text" },
  { "describe-user", "--generate-cli-skeleton" },
  { "create-routing-profile", "--generate-cli-skeleton" },
  { "describe-user", "--generate-cli-skeleton", "output", "--instance-id", I, "--user-id", "u" },
  -- usage errors
  { "describe-user", "--instance-id", I },
  { "describe-user", "--instance-id", I, "--user-id", "u", "--bogus", "1" },
  { "describe-usr" },
  { "describe-user", "--instance-id", I, "--user-id", "u", "--output", "xml" },
  { "list-users", "--instance-id", I, "--next-token", "t", "--max-items", "1" },
}

local runnable = exists(AWS)
local maybe = runnable and describe or pending

maybe("aws-connect next to " .. AWS, function()
  setup(function()
    local p = io.popen("mktemp -d")
    home = p:read("*l")
    p:close()
    local models = home .. "/.aws/models/connect/2017-08-08"
    os.execute("mkdir -p " .. q(models) .. " && cp data/models/connect-2017-08-08/service-2.json "
      .. "data/models/connect-2017-08-08/paginators-1.json " .. q(models))
    srv = fake.start{ create_delay = 0 }
  end)
  teardown(function()
    if srv then srv:stop() end
    if home and home:match("^/tmp/") then os.execute("rm -rf " .. q(home)) end
  end)

  local function same(args, creds)
    local rc_a, out_a = sh({ AWS, "connect" }, args, creds)
    local rc_o, out_o = sh({ LUA, "bin/aws-connect" }, args, creds)
    assert.are.equal(rc_a, rc_o, table.concat(args, " "))
    assert.are.equal(out_a, out_o, table.concat(args, " "))
    return rc_a, out_a
  end

  for _, args in ipairs(CASES) do
    it("prints the same and exits the same: " .. table.concat(args, " "), function()
      same(args)
    end)
  end

  it("resumes from the NextToken both print the same", function()
    local _, out = same({ "list-users", "--instance-id", I, "--max-items", "1", "--query", "NextToken" })
    local token = out:match('"(.*)"')
    assert.is_string(token)
    same({ "list-users", "--instance-id", I, "--starting-token", token })
  end)

  it("answers a service error the same (254, nothing on stdout)", function()
    for _ = 1, 2 do
      srv:respond{ operation = "DescribeUser", status = 404, times = 1,
        headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException" }, body = { Message = "no such user" } }
    end
    local rc = same({ "describe-user", "--instance-id", I, "--user-id", "u" })
    assert.are.equal(254, rc)
  end)

  it("answers missing credentials the same (253)", function()
    local rc = same({ "describe-user", "--instance-id", I, "--user-id", "u" }, false)
    assert.are.equal(253, rc)
  end)
end)

if not runnable then
  describe("aws-connect next to the AWS CLI", function()
    pending("needs " .. AWS .. " (Debian's awscli package, AWS CLI v2)")
  end)
end
