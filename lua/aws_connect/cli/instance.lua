-- aws_connect.cli.instance: the instance commands beyond the AWS CLI,
-- over the library's instance layer: create-instance --wait (create, then
-- poll DescribeInstance until ACTIVE with progress on stderr, and print
-- DescribeInstance's output), wait-instance --instance-id ID, and
-- ensure-instance (create-instance's flags; finds the instance by alias or
-- creates it with a token derived from the parameters, so running it again
-- never makes a second instance): prints {"Created": bool, "Instance":
-- ..., "ClientToken": ...} with the AWS member names.

local model = require("aws_connect.model")
local commands = require("aws_connect.cli.commands")

local M = {}

local function op_of(name) return model.service("connect"):operation(name) end

local function progress(ctx, fmt, ...)
  ctx.stderr:write("aws-connect: ", fmt:format(...), "\n")
  if ctx.stderr.flush then ctx.stderr:flush() end
end

local function wait(ctx, client, id, opts)
  return client:wait_for_instance(id, {
    timeout = opts.wait_timeout or 600,
    interval = opts.wait_interval or 5,
    on_poll = function(inst, elapsed)
      progress(ctx, "instance %s is %s (%.0f s)", tostring(id), tostring(inst.instance_status), elapsed)
    end,
  })
end

-- DescribeInstance's output for the instance wait_for_instance returned
local function describe_doc(ctx, inst, ts)
  local result = require("aws_connect.cli.result")
  local body = ctx.wire:take_body()
  local raw = body and require("aws_connect.jmespath.json").decode(body) or nil
  return result.document(op_of("DescribeInstance"), { instance = inst,
    replication_configuration = inst.replication_configuration }, raw, { timestamp_format = ts })
end

local function render(ctx, doc, ro)
  local s = require("aws_connect.cli.format").render(doc, ro)
  if s ~= "" then ctx.stdout:write(s) end
  return 0
end

local function check_wait_flags(opts)
  if not opts.wait and (opts.wait_timeout or opts.wait_interval) then
    require("aws_connect.cli.argv").usage("--timeout and --interval go with --wait")
  end
end

--- The command of a model operation (create-instance gets --wait).
function M.command(name, op)
  if op.name ~= "CreateInstance" then return { name = name, op = op } end
  return {
    name = name, op = op, extra = commands.wait_flags(true),
    run = function(ctx, client, _, params, opts, ro, ts)
      check_wait_flags(opts)
      if not opts.wait then return nil end
      local res = client:call("CreateInstance", params)
      ctx.wire:take_body()
      progress(ctx, "created instance %s; waiting until it is ACTIVE", tostring(res.id))
      local inst = wait(ctx, client, res.id, opts)
      return render(ctx, describe_doc(ctx, inst, ts), ro)
    end,
  }
end

local EXTRA = {}

EXTRA["wait-instance"] = {
  name = "wait-instance", op = "DescribeInstance", extra = commands.wait_flags(false), beyond = true,
  summary = "Waits until an instance is ACTIVE (polls DescribeInstance; progress on stderr), then prints "
    .. "DescribeInstance's output. CREATION_FAILED exits 254, a timeout 255.",
  run = function(ctx, client, _, params, opts, ro, ts)
    local inst = wait(ctx, client, params.InstanceId, opts)
    return render(ctx, describe_doc(ctx, inst, ts), ro)
  end,
}

EXTRA["ensure-instance"] = {
  name = "ensure-instance", op = "CreateInstance", extra = commands.wait_flags(true), beyond = true,
  summary = "Returns the instance with --instance-alias, creating it when there is none; safe to run again "
    .. "(the client token is derived from the parameters, so a retried run never creates a second instance).",
  run = function(ctx, client, _, params, opts, ro, ts)
    local result = require("aws_connect.cli.result")
    local values = require("aws_connect.jmespath.values")
    local inst, info = client:ensure_instance(params)
    ctx.wire:take_body()
    local doc
    if opts.wait then
      if info.created then progress(ctx, "created instance %s; waiting until it is ACTIVE", tostring(inst.id)) end
      local full = wait(ctx, client, inst.id, opts)
      doc = describe_doc(ctx, full, ts).Instance
    elseif info.created then
      doc = result.document(op_of("CreateInstance"), inst, nil, { timestamp_format = ts })
    else
      local list_op = op_of("ListInstances")
      local shape = list_op.output.by_key.InstanceSummaryList.shape.member
      doc = result.value(shape, inst, nil, { timestamp_format = ts })
    end
    local out, order = { Created = info.created == true, Instance = doc }, { "Created", "Instance" }
    if info.client_token then out.ClientToken = info.client_token; order[3] = "ClientToken" end
    return render(ctx, values.new_object(out, order), ro)
  end,
}

--- The extra command called name, or nil (its operation loaded now).
function M.extra(name)
  local c = EXTRA[name]
  if not c then return nil end
  if type(c.op) == "string" then c.op = op_of(c.op) end
  return c
end

--- The names of the extra commands and their summaries.
function M.extras()
  local list = {}
  for name, c in pairs(EXTRA) do list[#list + 1] = { name, c.summary } end
  table.sort(list, function(a, b) return a[1] < b[1] end)
  return list
end

return M
