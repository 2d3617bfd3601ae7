-- aws_connect.instances: the friendly instance layer over the generic
-- operations (design.md): create_instance -> {id, arn}; describe_instance(id)
-- -> the instance table; list_instances -> {instances, next_token};
-- delete_instance(id[, opts]); instances() (every instance of every page,
-- over client:items); wait_for_instance() (polls DescribeInstance until
-- ACTIVE) and ensure_instance() (create by alias, idempotent across process
-- restarts).
--
-- install(Client, env) adds the methods; env gives what they need and
-- nothing more: env.call(client, operation, params, what) -> result, meta
-- (the generic pipeline), env.sleep(client) (the client's one sleep rule),
-- env.clock(client) and env.log(client, level, msg).

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
-- shape.lua (and the regex engine behind it) loads with the first call
local shape = setmetatable({}, { __index = function(t, k)
  local m = require("aws_connect.shape")
  setmetatable(t, { __index = m })
  return m[k]
end })
local model = require("aws_connect.model")
local names = require("aws_connect.names")

local M = {}

-- Raised when an instance reaches CREATION_FAILED; kind "service" (the
-- service decided), message and status_reason carry the service's reason.
M.CREATION_FAILED = "InstanceCreationFailed"

local function check_options(opts, known, what)
  if opts == nil then return {} end
  if type(opts) ~= "table" then errors.validation("options", what .. ": options must be a table, got " .. type(opts)) end
  for k in pairs(opts) do
    if not known[k] then
      local list = {}
      for name in pairs(known) do list[#list + 1] = name end
      table.sort(list)
      errors.validation(tostring(k), ("unknown option %s for %s; known options: %s"):format(
        tostring(k), what, table.concat(list, ", ")))
    end
  end
  return opts
end

local function number_option(opts, name, default, min)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < min or v == math.huge then
    errors.validation(name, ("%s must be a finite number >= %s, got %s"):format(name, tostring(min), tostring(v)))
  end
  return v
end

--- The aliases of the Connect service compare without regard to case
--- (an alias is also the host name of the instance's access URL).
local function same_alias(a, b)
  return type(a) == "string" and type(b) == "string" and a:lower() == b:lower()
end

--- The client token ensure_instance sends for a set of validated
--- parameters. It is derived only from the parameters (and the ids of
--- earlier CREATION_FAILED instances with the alias), never from the
--- clock or a random source, so that a process that dies after sending
--- CreateInstance (the instance exists, the response is lost) and runs
--- again sends the same token: the service then answers with the instance
--- the first run created instead of creating a second one, which would
--- also count against the per-30-days create/delete limit. The failed ids
--- change the token so a retry after a failed creation can create anew
--- (the service would otherwise replay the failed instance for that token).
--- "ensure-" and 40 hex digits (160 bits of SHA-256): 47 characters, far
--- below the 500 allowed, and short enough for any log line.
function M.ensure_token(input, failed_ids)
  local failed = {}
  for i, v in ipairs(failed_ids or {}) do failed[i] = v end
  table.sort(failed)
  setmetatable(failed, { __jsontype = "array" })
  local canonical = assert(core.json_encode({
    v = 1,                                        -- version of this serialisation
    alias = input.instance_alias,
    identity_management_type = input.identity_management_type,
    inbound_calls_enabled = input.inbound_calls_enabled,
    outbound_calls_enabled = input.outbound_calls_enabled,
    directory_id = input.directory_id or false,
    tags = input.tags or false,                  -- json_encode sorts the keys
    failed = failed,
  }))
  return "ensure-" .. core.sha256_hex(canonical):sub(1, 40)
end

local function connect_op(name)
  return model.service("connect"):operation(name)
end

--- Positional id forms: describe_instance(id), delete_instance(id, opts);
--- a table is taken as the parameters.
local function id_params(id, extra, what)
  if type(id) == "table" and extra == nil then return id end
  local params = {}
  if extra ~= nil then
    if type(extra) ~= "table" then errors.validation("options", what .. ": options must be a table") end
    for k, v in next, extra do params[k] = v end
  end
  local given = params.instance_id
  if given == nil then given = params.InstanceId end
  if given ~= nil and given ~= id then
    errors.validation("instance_id", what .. ": the instance id is given twice, with different values")
  end
  params.instance_id, params.InstanceId = id, nil
  if id == nil then errors.validation("instance_id", "instance_id is required") end
  return params
end

local function bad_shape(what, meta)
  errors.raise("ResponseError", "unexpected response shape: " .. what,
    { status = meta.status, request_id = meta.request_id, attempts = meta.attempts })
end

function M.install(Client, env)
  local call = env.call

  function Client:create_instance(params)
    local res, meta = call(self, "CreateInstance", params, "create_instance")
    if type(res.id) ~= "string" then bad_shape("CreateInstance response has no Id", meta) end
    return { id = res.id, arn = res.arn }, meta
  end

  function Client:describe_instance(id)
    local res, meta = call(self, "DescribeInstance", id_params(id, nil, "describe_instance"), "describe_instance")
    local inst = res.instance
    if type(inst) ~= "table" then bad_shape("DescribeInstance response has no Instance", meta) end
    inst.replication_configuration = res.replication_configuration
    return inst, meta
  end

  function Client:list_instances(params)
    local res, meta = call(self, "ListInstances", params, "list_instances")
    return { instances = res.instance_summary_list or setmetatable({}, shape.ARRAY_MT), next_token = res.next_token },
      meta
  end

  function Client:delete_instance(id, opts)
    return call(self, "DeleteInstance", id_params(id, opts, "delete_instance"), "delete_instance")
  end

  --- Iterates over every instance of every ListInstances page:
  ---   for instance, page in client:instances{ max_results = 10 } do ... end
  --- page is { number = n, request_id = ... } of the page the instance came
  --- from. Errors are raised from the loop; a repeated NextToken raises
  --- ResponseError instead of looping forever.
  function Client:instances(opts)
    env.check(self)
    if opts ~= nil and type(opts) ~= "table" then
      errors.validation("options", "instances: options must be a table, got " .. type(opts))
    end
    local params = {}
    for k, v in next, opts or {} do
      if k ~= "max_results" and k ~= "MaxResults" then
        errors.validation(tostring(k), ("unknown option %s for instances; known options: max_results"):format(
          tostring(k)))
      end
      params[k] = v
    end
    -- checked now, not at the first page
    shape.input(connect_op("ListInstances"), params, "instances")
    return self:items("ListInstances", params)
  end

  --- Polls DescribeInstance until the instance is ACTIVE and returns it (and
  --- the meta of the last call). CREATION_FAILED raises
  --- InstanceCreationFailed (kind "service", status_reason = the reason);
  --- no ACTIVE within opts.timeout seconds raises TimeoutError. Uses the
  --- client's sleep and clock (new{ sleep = fn, clock = fn }).
  ---   opts: timeout = 600, interval = 5,
  ---         on_poll = function(instance, elapsed_seconds) (progress; optional)
  function Client:wait_for_instance(id, opts)
    env.check(self)
    opts = check_options(opts, { timeout = true, interval = true, on_poll = true }, "wait_for_instance")
    local timeout = number_option(opts, "timeout", 600, 0)
    local interval = number_option(opts, "interval", 5, 0)
    local on_poll = opts.on_poll
    if on_poll ~= nil and type(on_poll) ~= "function" then
      errors.validation("on_poll", "on_poll must be a function, got " .. type(on_poll))
    end
    if id == nil then errors.validation("instance_id", "instance_id is required") end
    local start = env.clock(self)
    local deadline = start + timeout
    local polls = 0
    while true do
      local inst, meta = self:describe_instance(id)
      polls = polls + 1
      local now = env.clock(self)
      local status = inst.instance_status
      if on_poll then on_poll(inst, now - start) end
      if status == "ACTIVE" then
        env.log(self, "info", ("instance %s is ACTIVE after %.1f s (%d polls)"):format(tostring(id), now - start,
          polls))
        return inst, meta
      end
      if status == "CREATION_FAILED" then
        local reason = inst.status_reason and inst.status_reason.message
        errors.raise(M.CREATION_FAILED,
          ("instance %s failed to create: %s"):format(tostring(id), reason or "no reason given"), {
            kind = "service",
            status_reason = reason,
            instance_id = inst.id or id,
            instance = inst,
            request_id = meta.request_id,
            status = meta.status,
            attempts = polls,       -- DescribeInstance calls made while waiting
          })
      end
      local left = deadline - now
      if left <= 0 then
        errors.raise("TimeoutError", ("instance %s is still %s after %.0f s (timeout %s s, %d polls)"):format(
          tostring(id), tostring(status), now - start, tostring(timeout), polls),
          { instance_id = inst.id or id, instance = inst, attempts = polls })
      end
      env.log(self, "debug", ("instance %s is %s; next poll in %.1f s"):format(
        tostring(id), tostring(status), math.min(interval, left)))
      env.sleep(self)(math.min(interval, left))
    end
  end

  --- Returns the instance with params.instance_alias, creating it when no
  --- instance (other than CREATION_FAILED ones) has that alias. Takes the
  --- create_instance parameters (instance_alias required). Returns
  ---   instance, { created = bool, client_token = ..., request_id = ... }
  --- where instance is the ListInstances summary of the existing instance,
  --- or the CreateInstance result { id, arn } when it was created. An
  --- existing instance whose identity type or call settings differ from
  --- those asked for raises ValidationError (nothing is created).
  function Client:ensure_instance(params)
    env.check(self)
    local checked = shape.input(connect_op("CreateInstance"), params, "ensure_instance")
    local input = {}
    for k, v in pairs(checked) do input[names.snake(k)] = v end
    if input.instance_alias == nil then
      errors.validation("instance_alias", "ensure_instance needs instance_alias (instances are found by alias)")
    end
    local alias = input.instance_alias
    local found, failed = nil, {}
    for inst in self:instances() do
      if same_alias(inst.instance_alias, alias) then
        if inst.instance_status == "CREATION_FAILED" then
          failed[#failed + 1] = inst.id
        elseif not found then
          found = inst
        end
      end
    end
    if found then
      for _, name in ipairs({ "identity_management_type", "inbound_calls_enabled", "outbound_calls_enabled" }) do
        if found[name] ~= nil and found[name] ~= input[name] then
          errors.validation(name, ("instance %s (alias %s) exists with %s = %s, but %s was asked for"):format(
            tostring(found.id), alias, name, tostring(found[name]), tostring(input[name])))
        end
      end
      env.log(self, "info", ("ensure_instance: instance %s with alias %s exists (%s)"):format(
        tostring(found.id), alias, tostring(found.instance_status)))
      return found, { created = false }
    end
    local create = {}
    for k, v in pairs(input) do create[k] = v end
    if create.client_token == nil then create.client_token = M.ensure_token(input, failed) end
    local inst, meta = self:create_instance(create)
    env.log(self, "info", ("ensure_instance: created instance %s with alias %s (client token %s)"):format(
      tostring(inst.id), alias, create.client_token))
    meta.created = true
    return inst, meta
  end
end

return M
