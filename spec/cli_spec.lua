-- aws-connect (aws_connect.cli) run in-process with a fake io against the
-- fake Connect server: commands and flags from the model (one command per
-- kind of input), output as the AWS CLI prints it, pagination and its
-- tokens, skeletons, --cli-input-json, exit codes, --dry-run, --debug
-- redaction, safe terminal output, the instance extras, help for every
-- command; a few runs of bin/aws-connect as a subprocess (the stub, a real
-- Ctrl-C). The byte-for-byte comparison with /usr/bin/aws is
-- spec/cli_compat_spec.lua.

package.path = "./?.lua;" .. package.path

local fake = require("spec.support.fake_server")
local helpers = require("spec.support.helpers")
local cjson = require("cjson")
local cli = require("aws_connect.cli")
local result = require("aws_connect.cli.result")

local q = fake.shell_quote
local I = "11111111-2222-3333-4444-555555555555"
local ARN = "arn:aws:connect:us-east-1:123456789012:instance/" .. I

local srv, home

local function buffer()
  local b = { parts = {} }
  function b:write(...)
    for i = 1, select("#", ...) do self.parts[#self.parts + 1] = tostring(select(i, ...)) end
    return self
  end
  function b:flush() return self end
  function b:text() return table.concat(self.parts) end
  return b
end

local function base_env(extra)
  local e = {
    HOME = home,
    AWS_ACCESS_KEY_ID = "AKIDFAKE",
    AWS_SECRET_ACCESS_KEY = "secret",
    AWS_REGION = "us-east-1",
    AWS_CONFIG_FILE = home .. "/no-config",
    AWS_SHARED_CREDENTIALS_FILE = home .. "/no-credentials",
    AWS_EC2_METADATA_DISABLED = "true",
  }
  for k, v in pairs(extra or {}) do e[k] = v or nil end
  return e
end

-- runs main in-process: rc, stdout, stderr (args after the endpoint)
local function run(args, env, no_endpoint)
  local a = {}
  if not no_endpoint then a[1], a[2] = "--endpoint-url", srv.endpoint end
  for _, x in ipairs(args) do a[#a + 1] = x end
  local out, err = buffer(), buffer()
  local rc = cli.main(a, base_env(env), { stdout = out, stderr = err })
  return rc, out:text(), err:text()
end

local function one_line(text)
  assert.is_truthy(text:match("^[^\n]+\n$"), "expected one line on stderr, got: " .. text)
  return text
end

local function last_input(operation)
  local reqs = srv:requests()
  for i = #reqs, 1, -1 do
    if reqs[i].operation == operation then return reqs[i].input, reqs[i] end
  end
  return nil
end

local write = helpers.write

describe("aws-connect", function()
  setup(function() home = helpers.tmpdir("cli") end)
  teardown(function() helpers.rmdir(home) end)
  helpers.fake_server({ create_delay = 0, quota = 100 }, function(s) srv = s end, { create_delay = 0, quota = 100 })

  describe("commands from the model", function()
    it("names every operation as the AWS CLI does and maps it back to the operation", function()
      local commands = require("aws_connect.cli.commands")
      local list = commands.names()
      assert.are.equal(#require("aws_connect.model").service("connect").names, #list)
      assert.are.equal("ListPhoneNumbersV2", commands.operation("list-phone-numbers-v2").name)
      assert.are.equal("DescribeUser", commands.operation("describe-user").name)
      assert.is_nil(commands.operation("describe_user"))
      assert.is_nil(commands.operation("DescribeUser"))
    end)

    it("loads only the operation it runs (start-up does not pay for the whole model)", function()
      local before = 0
      for k in pairs(package.loaded) do if k:find("^aws_connect%.model%.connect%.op_") then before = before + 1 end end
      local rc = run({ "describe-contact-flow", "--generate-cli-skeleton" })
      assert.are.equal(0, rc)
      local after = 0
      for k in pairs(package.loaded) do if k:find("^aws_connect%.model%.connect%.op_") then after = after + 1 end end
      assert.is_true(after - before <= 1)
      assert.is_nil(package.loaded["aws_connect.model.connect.docs"] and nil)
    end)

    it("sends scalars, and prints the output with AWS names in model order, indented as the AWS CLI", function()
      local rc, out, err = run({ "describe-user", "--instance-id", I, "--user-id", "u-1" })
      assert.are.equal(0, rc, err)
      assert.are.same({ InstanceId = I, UserId = "u-1" }, last_input("DescribeUser"))
      local want = '{\n    "User": {\n        "Id": "u-1",\n        "Arn": "'
      assert.are.equal(want, out:sub(1, #want))
      local doc = cjson.decode(out)
      assert.are.equal("u-1", doc.User.Id)
      -- member order of the User shape: Id, Arn, Username, IdentityInfo, ...
      local pos = {}
      for _, k in ipairs({ '"Id"', '"Arn"', '"Username"', '"IdentityInfo"', '"PhoneConfig"' }) do
        pos[#pos + 1] = out:find(k, 1, true)
      end
      for i = 2, #pos do assert.is_true(pos[i] > pos[i - 1]) end
      assert.is_truthy(out:find('"LastModifiedTime": "%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[+-]%d%d:%d%d"'))
    end)

    it("takes booleans as --x and --no-x (the last one wins)", function()
      local rc, _, err = run({ "create-instance", "--identity-management-type", "CONNECT_MANAGED",
        "--inbound-calls-enabled", "--outbound-calls-enabled", "--no-outbound-calls-enabled",
        "--instance-alias", "game-support" })
      assert.are.equal(0, rc, err)
      local input = last_input("CreateInstance")
      assert.is_true(input.InboundCallsEnabled)
      assert.is_false(input.OutboundCallsEnabled)
      assert.is_string(input.ClientToken)   -- generated, as the AWS CLI does
    end)

    it("takes a list as several values, as JSON, and a querystring list as repeated keys", function()
      assert.are.equal(0, (run({ "untag-resource", "--resource-arn", ARN, "--tag-keys", "a", "b" })))
      local input, req = last_input("UntagResource")
      assert.are.same({ "a", "b" }, input.tagKeys or input.TagKeys)
      assert.is_truthy(req.query:find("tagKeys=a&tagKeys=b", 1, true))
      assert.are.equal(0, (run({ "untag-resource", "--resource-arn", ARN, "--tag-keys", '["x", "y z"]' })))
      input = last_input("UntagResource")
      assert.are.same({ "x", "y z" }, input.tagKeys or input.TagKeys)
    end)

    it("takes a map as shorthand or JSON (keys are data)", function()
      assert.are.equal(0, (run({ "tag-resource", "--resource-arn", ARN, "--tags", "team=ops,env=prod" })))
      assert.are.same({ team = "ops", env = "prod" }, last_input("TagResource").tags)
      assert.are.equal(0, (run({ "tag-resource", "--resource-arn", ARN, "--tags", '{"Cost Center": "42, 43"}' })))
      assert.are.same({ ["Cost Center"] = "42, 43" }, last_input("TagResource").tags)
    end)

    it("takes nested structures and lists of them in shorthand, typed by the model", function()
      local rc, _, err = run({ "create-routing-profile", "--instance-id", I, "--name", "rp", "--description", "d",
        "--default-outbound-queue-id", "q1",
        "--media-concurrencies", "Channel=VOICE,Concurrency=1", "Channel=CHAT,Concurrency=2" })
      assert.are.equal(0, rc, err)
      assert.are.same({ { Channel = "VOICE", Concurrency = 1 }, { Channel = "CHAT", Concurrency = 2 } },
        last_input("CreateRoutingProfile").MediaConcurrencies)
      rc, _, err = run({ "get-metric-data-v2", "--resource-arn", ARN, "--start-time", "2024-05-01T00:00:00Z",
        "--end-time", "1714608000", "--filters", "FilterKey=QUEUE,FilterValues=q1,q2",
        "--metrics", "Name=CONTACTS_HANDLED,Threshold=[{Comparison=LT,ThresholdValue=5.5}]" })
      assert.are.equal(0, rc, err)
      local input = last_input("GetMetricDataV2")
      assert.are.same({ { FilterKey = "QUEUE", FilterValues = { "q1", "q2" } } }, input.Filters)
      assert.are.same({ { Comparison = "LT", ThresholdValue = 5.5 } }, input.Metrics[1].Threshold)
      assert.are.equal(1714521600, input.StartTime)
      assert.are.equal(1714608000, input.EndTime)
    end)

    it("takes a union with exactly one member, and refuses two before sending", function()
      local rc, _, err = run({ "start-contact-streaming", "--instance-id", I, "--contact-id", "c1",
        "--chat-streaming-configuration", "StreamingEndpointArn=arn:aws:sns:us-east-1:123456789012:t" })
      assert.are.equal(0, rc, err)
      assert.is_string(last_input("StartContactStreaming").ClientToken)   -- a required token, generated
      local n = #srv:requests()
      rc, _, err = run({ "search-users", "--instance-id", I, "--search-criteria",
        '{"StringCondition": {"FieldName": "Username", "Value": "a", "ComparisonType": "EXACT"}}',
        "--search-filter", '{"TagFilter": {"OrConditions": [], "AndConditions": []}, '
          .. '"UserAttributeFilter": {"TagCondition": {"TagKey": "k", "TagValue": "v"}}}' })
      assert.are.equal(0, rc, err)
      assert.is_true(#srv:requests() > n)
      n = #srv:requests()
      rc, _, err = run({ "describe-contact-evaluation", "--instance-id", I, "--evaluation-id", "e" })
      assert.are.equal(0, rc, err)
      -- a union (ParticipantDetailsToAdd has none; EvaluationAnswerData is one) given two members
      rc, _, err = run({ "update-contact-evaluation", "--instance-id", I, "--evaluation-id", "e",
        "--answers", '{"q1": {"Value": {"StringValue": "a", "NumericValue": 1}}}' })
      assert.are.equal(252, rc)
      assert.is_truthy(one_line(err):find("exactly one", 1, true))
      assert.are.equal(n + 1, #srv:requests())
    end)

    it("reads file:// values, and reports an unreadable one as a parameter error (252)", function()
      write(home .. "/id.txt", "u-from-file")
      assert.are.equal(0, (run({ "describe-user", "--instance-id", I, "--user-id", "file://" .. home .. "/id.txt" })))
      assert.are.equal("u-from-file", last_input("DescribeUser").UserId)
      local rc, out, err = run({ "describe-user", "--instance-id", I, "--user-id", "file://" .. home .. "/missing" })
      assert.are.equal(252, rc)
      assert.are.equal("", out)
      assert.is_truthy(one_line(err):find("Unable to load paramfile", 1, true))
    end)

    it("fills what the flags left from --cli-input-json (flags win)", function()
      write(home .. "/in.json", cjson.encode({ InstanceId = I, UserId = "from-json" }))
      assert.are.equal(0, (run({ "describe-user", "--cli-input-json", "file://" .. home .. "/in.json" })))
      assert.are.equal("from-json", last_input("DescribeUser").UserId)
      assert.are.equal(0, (run({ "describe-user", "--cli-input-json", "file://" .. home .. "/in.json",
        "--user-id", "flag" })))
      assert.are.equal("flag", last_input("DescribeUser").UserId)
      local rc, _, err = run({ "describe-user", "--cli-input-json", "[1]" })
      assert.are.equal(252, rc)
      one_line(err)
    end)

    it("prints input and output skeletons as the AWS CLI's generator makes them", function()
      local rc, out = run({ "describe-user", "--generate-cli-skeleton" }, { AWS_REGION = false }, true)
      assert.are.equal(0, rc)
      assert.are.equal('{\n    "UserId": "",\n    "InstanceId": ""\n}\n', out)
      rc, out = run({ "describe-user", "--generate-cli-skeleton", "output", "--instance-id", I, "--user-id", "u" })
      assert.are.equal(0, rc)
      local doc = cjson.decode(out)
      assert.are.equal("Id", doc.User.Id)
      assert.are.equal("1970-01-01T00:00:00", doc.User.LastModifiedTime)
      assert.are.equal(0, #srv:requests())
    end)
  end)

  describe("every command", function()
    it("has help, an input skeleton and a parser, from the model alone", function()
      local commands = require("aws_connect.cli.commands")
      for _, name in ipairs(commands.names()) do
        local rc, out = run({ name, "help" }, nil, true)
        assert.are.equal(0, rc, name)
        assert.is_truthy(out:find("usage: aws-connect " .. name, 1, true), name)
        rc, out = run({ name, "--generate-cli-skeleton" }, nil, true)
        assert.are.equal(0, rc, name)
        assert.is_table(cjson.decode(out), name)
      end
    end)

    it("has --dry-run: the signed request or a parameter error, never a request to Connect", function()
      local commands = require("aws_connect.cli.commands")
      local names = require("aws_connect.names")
      local ok_count = 0
      for _, name in ipairs(commands.names()) do
        local op = commands.operation(name)
        local args = { name, "--dry-run" }
        for _, m in ipairs(op.input.members) do
          if m.required and not m.idempotencyToken then
            local t = m.shape.type
            if t == "string" then
              args[#args + 1] = "--" .. names.kebab(m.name)
              args[#args + 1] = m.shape.enum and m.shape.enum[1] or (m.name:find("Arn$") and ARN or I)
            elseif t == "boolean" then
              args[#args + 1] = "--" .. names.kebab(m.name)
            elseif t == "integer" or t == "long" then
              args[#args + 1] = "--" .. names.kebab(m.name)
              args[#args + 1] = tostring(m.shape.min or 1)
            end
          end
        end
        local rc, out, err = run(args)
        assert.is_true(rc == 0 or rc == 252, name .. ": " .. err)
        if rc == 0 then
          ok_count = ok_count + 1
          assert.is_truthy(out:find("^%u+ http://127%.0%.0%.1:%d+/"), name)
          assert.is_truthy(out:find("Signature=REDACTED", 1, true), name)
          assert.is_truthy(err:find("nothing was sent to Connect", 1, true), name)
        else
          one_line(err)
        end
      end
      assert.are.equal(0, #srv:requests())
      assert.is_true(ok_count > 150, "dry runs that passed validation: " .. ok_count)
    end)
  end)

  describe("output", function()
    it("formats timestamps as python's isoformat (microseconds only when not zero)", function()
      assert.are.equal("2026-12-01T18:16:40.606432+00:00", result.iso8601(1796148999.606432 + 1.0, 0))
      assert.are.equal("2024-04-07T08:03:00+00:00", result.iso8601(1712476980, 0))
      assert.are.equal("2024-04-07T10:03:00+02:00", result.iso8601(1712476980, 7200))
      assert.are.equal("1969-12-31T23:59:59.500000+00:00", result.iso8601(-0.5, 0))
      assert.are.equal("1970-01-01T00:00:00.000002+00:00", result.iso8601(0.0000025, 0))  -- half to even
    end)

    it("prints text and table output, and nothing for an empty result", function()
      local rc, out = run({ "describe-user", "--instance-id", I, "--user-id", "u", "--output", "text" })
      assert.are.equal(0, rc)
      assert.is_truthy(out:find("^USER\t"))
      rc, out = run({ "describe-user", "--instance-id", I, "--user-id", "u", "--output", "table" })
      assert.are.equal(0, rc)
      assert.is_truthy(out:find("^%-+\n|%s+DescribeUser%s+|\n"))
      rc, out = run({ "delete-user", "--instance-id", I, "--user-id", "u" })
      assert.are.equal(0, rc)
      assert.are.equal("", out)
    end)

    it("takes the format from AWS_DEFAULT_OUTPUT and from the profile's output", function()
      local _, out = run({ "describe-user", "--instance-id", I, "--user-id", "u" }, { AWS_DEFAULT_OUTPUT = "text" })
      assert.is_truthy(out:find("^USER\t"))
      write(home .. "/config", "[default]\noutput = yaml\n")
      _, out = run({ "describe-user", "--instance-id", I, "--user-id", "u" }, { AWS_CONFIG_FILE = home .. "/config" })
      assert.is_truthy(out:find("^User:\n  %u"))
      local rc, none = run({ "describe-user", "--instance-id", I, "--user-id", "u" }, { AWS_DEFAULT_OUTPUT = "xml" })
      assert.are.equal(253, rc)
      assert.are.equal("", none)
    end)

    it("applies --query (JMESPath) before formatting", function()
      local rc, out = run({ "describe-user", "--instance-id", I, "--user-id", "u-9", "--query", "User.Id" })
      assert.are.equal(0, rc)
      assert.are.equal('"u-9"\n', out)
      rc, out = run({ "describe-user", "--instance-id", I, "--user-id", "u-9", "--query", "User.[Id, Id]",
        "--output", "text" })
      assert.are.equal(0, rc)
      assert.are.equal("u-9\tu-9\n", out)
      local err
      rc, out, err = run({ "describe-user", "--instance-id", I, "--user-id", "u-9", "--query", "User.[" })
      assert.are.equal(252, rc)
      assert.are.equal("", out)
      one_line(err)
    end)

    it("strips control characters from server text before text and table output reach a terminal", function()
      srv:respond{ operation = "DescribeUser", status = 200, times = 2,
        body = { User = { Id = "x\27[31mred\27[0m", Username = "a\tb\nc" } } }
      local _, out = run({ "describe-user", "--instance-id", I, "--user-id", "u", "--output", "table" })
      assert.is_nil(out:find("\27", 1, true))
      assert.is_truthy(out:find("x?[31mred?[0m", 1, true))
      _, out = run({ "describe-user", "--instance-id", I, "--user-id", "u", "--output", "text" })
      assert.is_nil(out:find("\27", 1, true))
      assert.is_truthy(out:find("a b c", 1, true))
    end)
  end)

  describe("pagination", function()
    it("gathers every page, cuts at --max-items with the AWS CLI's NextToken, and resumes from it", function()
      local rc, out = run({ "list-users", "--instance-id", I })
      assert.are.equal(0, rc)
      local all = cjson.decode(out).UserSummaryList
      assert.is_true(#all >= 2)
      assert.are.equal(2, #srv:requests())   -- two pages
      rc, out = run({ "list-users", "--instance-id", I, "--max-items", "1" })
      assert.are.equal(0, rc)
      local doc = cjson.decode(out)
      assert.are.equal(1, #doc.UserSummaryList)
      local paging = require("aws_connect.cli.paging")
      assert.are.equal('{"NextToken": null, "boto_truncate_amount": 1}', paging.b64decode(doc.NextToken))
      rc, out = run({ "list-users", "--instance-id", I, "--starting-token", doc.NextToken })
      assert.are.equal(0, rc)
      local rest = cjson.decode(out).UserSummaryList
      assert.are.equal(#all - 1, #rest)
      assert.are.same(all[2], rest[1])
    end)

    it("prints text per page and the resume token as a NEXTTOKEN line", function()
      local _, out = run({ "list-users", "--instance-id", I, "--max-items", "1", "--output", "text" })
      local last = out:match("([^\n]+)\n$")
      assert.is_truthy(last:find("^NEXTTOKEN\t"))
    end)

    it("turns pagination off for --no-paginate and --next-token, refusing paging flags with it", function()
      local rc = run({ "list-users", "--instance-id", I, "--no-paginate" })
      assert.are.equal(0, rc)
      assert.are.equal(1, #srv:requests())
      local out, err
      rc, out, err = run({ "list-users", "--instance-id", I, "--next-token", "abc", "--max-items", "1" })
      assert.are.equal(252, rc)
      assert.are.equal("", out)
      assert.is_truthy(one_line(err):find("Cannot specify --no-paginate", 1, true))
    end)
  end)

  describe("exit codes and errors", function()
    it("252 for usage errors: unknown flag, missing flag, unknown command, bad value", function()
      local cases = {
        { "describe-user", "--instance-id", I, "--user-id", "u", "--bogus" },
        { "describe-user", "--instance-id", I },
        { "describe-usr" },
        { "list-users", "--instance-id", I, "--max-items", "many" },
        { "describe-user", "--instance-id", I, "--user-id", "u", "--output", "xml" },
        {},
      }
      for _, args in ipairs(cases) do
        local rc, out, err = run(args)
        assert.are.equal(252, rc, table.concat(args, " "))
        assert.are.equal("", out)
        one_line(err)
      end
      assert.are.equal(0, #srv:requests())
    end)

    it("252 for client-side validation of a model constraint, naming the flag; nothing is sent", function()
      local rc, _, err = run({ "list-users", "--instance-id", I, "--max-results", "0" })
      assert.are.equal(252, rc)
      assert.is_truthy(one_line(err):find("--max-results", 1, true))
      rc, _, err = run({ "create-instance", "--identity-management-type", "NOPE", "--inbound-calls-enabled",
        "--no-outbound-calls-enabled" })
      assert.are.equal(252, rc)
      assert.is_truthy(one_line(err):find("--identity-management-type", 1, true))
      assert.are.equal(0, #srv:requests())
    end)

    it("253 without credentials or region, in CLI terms (no library advice)", function()
      local rc, _, err = run({ "describe-user", "--instance-id", I, "--user-id", "u" },
        { AWS_ACCESS_KEY_ID = false, AWS_SECRET_ACCESS_KEY = false })
      assert.are.equal(253, rc)
      assert.is_truthy(one_line(err):find("Unable to locate credentials", 1, true))
      assert.is_nil(err:find("new{", 1, true))
      rc, _, err = run({ "describe-user", "--instance-id", I, "--user-id", "u" }, { AWS_REGION = false })
      assert.are.equal(253, rc)
      assert.is_truthy(one_line(err):find("--region", 1, true))
      assert.is_nil(err:find("new{", 1, true))
    end)

    it("254 when the service answers an error, with the AWS CLI's wording", function()
      srv:respond{ operation = "DescribeUser", status = 404, times = 1,
        headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException" }, body = { Message = "no such user" } }
      local rc, out, err = run({ "describe-user", "--instance-id", I, "--user-id", "u" })
      assert.are.equal(254, rc)
      assert.are.equal("", out)
      assert.is_truthy(one_line(err):find(
        "An error occurred (ResourceNotFoundException) when calling the DescribeUser operation: no such user", 1, true))
    end)

    it("255 for a network failure", function()
      local out, err = buffer(), buffer()
      local rc = cli.main({ "--endpoint-url", "http://127.0.0.1:1", "describe-user", "--instance-id", I,
        "--user-id", "u" }, base_env({ AWS_MAX_ATTEMPTS = "1" }), { stdout = out, stderr = err })
      assert.are.equal(255, rc)
      one_line(err:text())
    end)

    it("130 when interrupted (lua.c raises 'interrupted!' on SIGINT)", function()
      local out, err = buffer(), buffer()
      local env = base_env()
      local rc = cli.main({ "--endpoint-url", srv.endpoint, "describe-user", "--instance-id", I, "--user-id", "u" },
        function(k)
          if k == "AWS_DEFAULT_OUTPUT" then error("interrupted!", 0) end
          return env[k]
        end, { stdout = out, stderr = err })
      assert.are.equal(130, rc)
      assert.is_nil(err:text():find("internal error", 1, true))
    end)
  end)

  describe("--dry-run and --debug", function()
    it("--dry-run prints the signed request with secrets redacted, says where credentials came from, sends nothing",
      function()
        local rc, out, err = run({ "describe-user", "--instance-id", I, "--user-id", "u", "--dry-run" },
          { AWS_SESSION_TOKEN = "session-token-value" })
        assert.are.equal(0, rc)
        assert.is_truthy(out:find("^GET " .. srv.endpoint:gsub("%p", "%%%0") .. "/users/"))
        assert.is_nil(out:find("session-token-value", 1, true))
        assert.is_truthy(out:find("X-Amz-Security-Token: REDACTED", 1, true))
        assert.is_truthy(err:find("credentials from environment", 1, true))
        assert.are.equal(0, #srv:requests())
      end)

    it("--debug logs headers and bodies through the redaction, also secrets a server echoes back", function()
      srv:respond{ operation = "DescribeUser", status = 403, times = 1,
        headers = { ["x-amzn-ErrorType"] = "InvalidSignatureException" },
        body = { Message = "The canonical request was ... x-amz-security-token:session-token-value secret" } }
      local rc, _, err = run({ "describe-user", "--instance-id", I, "--user-id", "u", "--debug" },
        { AWS_SESSION_TOKEN = "session-token-value", AWS_SECRET_ACCESS_KEY = "the-secret-key" })
      assert.are.equal(254, rc)
      assert.is_truthy(err:find("> GET ", 1, true))
      assert.is_truthy(err:find("< HTTP 403", 1, true))
      assert.is_nil(err:find("session-token-value", 1, true))
      assert.is_nil(err:find("the-secret-key", 1, true))
      assert.is_truthy(err:find("Signature=REDACTED", 1, true))
    end)

    it("the wire wrapper learns secrets from credential responses (JSON and STS XML) before logging them", function()
      local lines = {}
      local w = require("aws_connect.cli.wire").new({
        debug = true, getenv = function() return nil end, endpoint = "http://connect",
        log = function(l) lines[#lines + 1] = l end,
        inner = { request = function(_, req)
          if req.url:find("sts") then
            return { status = 200, headers = {}, body =
              "<AssumeRoleResult><Credentials><SecretAccessKey>sts-secret-123</SecretAccessKey>"
              .. "<SessionToken>sts-token-456</SessionToken></Credentials></AssumeRoleResult>" }
          end
          return { status = 403, headers = {}, body = '{"Message": "bad token sts-token-456 / sts-secret-123"}' }
        end },
      })
      w:request({ method = "POST", url = "https://sts.example/", headers = {}, body = "Action=AssumeRole" })
      w:request({ method = "GET", url = "http://connect/x", headers = { { "X-Amz-Security-Token", "sts-token-456" } } })
      local all = table.concat(lines, "\n")
      assert.is_nil(all:find("sts-secret-123", 1, true))
      assert.is_nil(all:find("sts-token-456", 1, true))
      assert.is_truthy(all:find("REDACTED", 1, true))
    end)
  end)

  describe("instance extras", function()
    it("create-instance --wait waits with progress on stderr and prints DescribeInstance's output", function()
      srv:config{ create_delay = 0.3 }
      local rc, out, err = run({ "create-instance", "--identity-management-type", "CONNECT_MANAGED",
        "--inbound-calls-enabled", "--no-outbound-calls-enabled", "--instance-alias", "waited",
        "--wait", "--interval", "0.2", "--timeout", "30" })
      assert.are.equal(0, rc, err)
      assert.is_truthy(err:find("waiting until it is ACTIVE", 1, true))
      assert.are.equal("ACTIVE", cjson.decode(out).Instance.InstanceStatus)
    end)

    it("ensure-instance creates once and finds the instance the second time", function()
      local args = { "ensure-instance", "--identity-management-type", "CONNECT_MANAGED", "--inbound-calls-enabled",
        "--no-outbound-calls-enabled", "--instance-alias", "ensured" }
      local rc, out, err = run(args)
      assert.are.equal(0, rc, err)
      local first = cjson.decode(out)
      assert.is_true(first.Created)
      rc, out = run(args)
      assert.are.equal(0, rc)
      local second = cjson.decode(out)
      assert.is_false(second.Created)
      assert.are.equal(first.Instance.Id, second.Instance.Id)
      assert.are.equal(1, #srv:instances())
    end)

    it("wait-instance exits 254 when the instance ends CREATION_FAILED", function()
      srv:config{ create_delay = 0.2, fail_aliases = { doomed = "no capacity" } }
      local rc, out = run({ "create-instance", "--identity-management-type", "CONNECT_MANAGED",
        "--inbound-calls-enabled", "--no-outbound-calls-enabled", "--instance-alias", "doomed" })
      assert.are.equal(0, rc)
      local id = cjson.decode(out).Id
      local err
      rc, out, err = run({ "wait-instance", "--instance-id", id, "--interval", "0.1", "--timeout", "30" })
      assert.are.equal(254, rc)
      assert.are.equal("", out)
      one_line(err:match("[^\n]*\n$"))
    end)
  end)

  describe("as a command", function()
    local LUA = os.getenv("AWSC_LUA") or "lua5.4"
    local function sh(args, env)
      local parts = { "env", "-i", "PATH=/usr/bin:/bin", "HOME=" .. q(home), "AWS_EC2_METADATA_DISABLED=true",
        "AWS_ACCESS_KEY_ID=AKIDFAKE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1",
        "AWS_CONFIG_FILE=" .. q(home .. "/no-config"), "AWS_SHARED_CREDENTIALS_FILE=" .. q(home .. "/no-creds") }
      for k, v in pairs(env or {}) do parts[#parts + 1] = q(k .. "=" .. v) end
      parts[#parts + 1] = LUA
      parts[#parts + 1] = "bin/aws-connect"
      for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
      local p = io.popen(table.concat(parts, " ") .. " 2>/dev/null; echo \"rc=$?\"")
      local text = p:read("*a")
      p:close()
      local out, rc = text:match("^(.*)rc=(%d+)\n$")
      return tonumber(rc), out
    end

    it("is an executable stub that runs as a command and as a Lua script", function()
      local f = assert(io.open("bin/aws-connect", "rb"))
      assert.are.equal("#!/bin/sh\n", f:read(10))
      f:close()
      local rc, out = sh({ "--version" })
      assert.are.equal(0, rc)
      assert.is_truthy(out:find("^aws%-connect/"))
      rc, out = sh({ "--endpoint-url", srv.endpoint, "describe-user", "--instance-id", I, "--user-id", "u" })
      assert.are.equal(0, rc)
      assert.are.equal("u", cjson.decode(out).User.Id)
    end)

    it("exits 130 on a real Ctrl-C (SIGINT) while waiting", function()
      srv:config{ create_delay = 600 }
      local _, out = run({ "create-instance", "--identity-management-type", "CONNECT_MANAGED",
        "--inbound-calls-enabled", "--no-outbound-calls-enabled", "--instance-alias", "slow" })
      local id = cjson.decode(out).Id
      local pidfile = home .. "/pid"
      local cmd = ("env -i PATH=/usr/bin:/bin HOME=%s AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDFAKE "
        .. "AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 %s bin/aws-connect --endpoint-url %s wait-instance "
        .. "--instance-id %s --interval 30 >/dev/null 2>&1 & echo $! > %s; wait $!; echo $?"):format(
        q(home), LUA, q(srv.endpoint), q(id), q(pidfile))
      local killer = ("sleep 1.5; kill -INT $(cat %s) 2>/dev/null"):format(q(pidfile))
      os.execute("(" .. killer .. ") &")
      local p = io.popen("sh -c " .. q(cmd))
      local rc = tonumber(p:read("*a"):match("(%d+)"))
      p:close()
      assert.are.equal(130, rc)
    end)
  end)
end)
