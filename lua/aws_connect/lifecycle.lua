-- aws_connect.lifecycle: client methods built on the instance API calls:
-- instances() (every page of ListInstances), wait_for_instance() (polls
-- DescribeInstance until ACTIVE) and ensure_instance() (create by alias,
-- idempotent across process restarts). install() adds them to the client
-- method table; they use only public methods plus the client's private
-- sleep, clock and logger.

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local validate = require("aws_connect.validate")
local operations = require("aws_connect.operations")

local M = {}

-- Raised when an instance reaches CREATION_FAILED; kind "service" (the
-- service decided), message and status_reason carry the service's reason.
M.CREATION_FAILED = "InstanceCreationFailed"

local function check_options(opts, known, what)
  if opts == nil then return {} end
  if type(opts) ~= "table" then errors.validation("options", what .. ": options must be a table, got " .. type(opts)) end
  for k in pairs(opts) do
    if not known[k] then
      local names = {}
      for name in pairs(known) do names[#names + 1] = name end
      table.sort(names)
      errors.validation(tostring(k), ("unknown option %s for %s; known options: %s"):format(
        tostring(k), what, table.concat(names, ", ")))
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

function M.install(Client, api)
  local function private(self)
    local p = api._private(self)
    if not p then errors.raise("ConfigError", "not a client (use client:method(), not client.method())") end
    return p
  end

  -- The client's backoff sleep (injected, ngx.sleep where nginx allows it,
  -- else the blocking C sleep): one rule for retries and polling.
  local function sleep_of(p)
    return api._sleep_of(p)
  end

  --- Iterates over every instance of every ListInstances page:
  ---   for instance, page in client:instances{ max_results = 10 } do ... end
  --- page is { number = n, request_id = ... } of the page the instance came
  --- from. Errors are raised from the loop. A service that sends the same
  --- NextToken twice raises ResponseError instead of looping forever.
  function Client:instances(opts)
    private(self)
    opts = check_options(opts, { max_results = true, MaxResults = true }, "instances")
    local page_size = opts.max_results
    if page_size == nil then page_size = opts.MaxResults end
    if page_size ~= nil then validate.integer("max_results", page_size, 1, 10) end
    local list, i, token, done, pages = nil, 0, nil, false, 0
    local seen = {}
    local page_meta
    return function()
      while true do
        if list and i < #list then
          i = i + 1
          return list[i], page_meta
        end
        if done then return nil end
        local res, meta = self:list_instances{ max_results = page_size, next_token = token }
        pages = pages + 1
        page_meta = { number = pages, request_id = meta.request_id }
        list, i = res.instances, 0
        token = res.next_token
        if token == nil or token == "" then
          done = true
        elseif seen[token] then
          errors.raise("ResponseError", "ListInstances returned the same NextToken twice; stopping the pagination",
            { request_id = meta.request_id })
        else
          seen[token] = true
        end
      end
    end
  end

  --- Polls DescribeInstance until the instance is ACTIVE and returns it (and
  --- the meta of the last call). CREATION_FAILED raises
  --- InstanceCreationFailed (kind "service", status_reason = the reason);
  --- no ACTIVE within opts.timeout seconds raises TimeoutError. Uses the
  --- client's sleep and clock (new{ sleep = fn, clock = fn }).
  ---   opts: timeout = 600, interval = 5,
  ---         on_poll = function(instance, elapsed_seconds) (progress; optional)
  function Client:wait_for_instance(id, opts)
    local p = private(self)
    opts = check_options(opts, { timeout = true, interval = true, on_poll = true }, "wait_for_instance")
    local timeout = number_option(opts, "timeout", 600, 0)
    local interval = number_option(opts, "interval", 5, 0)
    local on_poll = opts.on_poll
    if on_poll ~= nil and type(on_poll) ~= "function" then
      errors.validation("on_poll", "on_poll must be a function, got " .. type(on_poll))
    end
    if id == nil then errors.validation("instance_id", "instance_id is required") end
    local clock = p.clock
    local start = clock()
    local deadline = start + timeout
    local polls = 0
    while true do
      local inst, meta = self:describe_instance(id)
      polls = polls + 1
      local now = clock()
      local status = inst.instance_status
      if on_poll then on_poll(inst, now - start) end
      if status == "ACTIVE" then
        api._log(p, "info", ("instance %s is ACTIVE after %.1f s (%d polls)"):format(tostring(id), now - start, polls))
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
      api._log(p, "debug", ("instance %s is %s; next poll in %.1f s"):format(
        tostring(id), tostring(status), math.min(interval, left)))
      sleep_of(p)(math.min(interval, left))
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
    local p = private(self)
    local input = validate.members(params, operations.create_instance.members, "ensure_instance")
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
      api._log(p, "info", ("ensure_instance: instance %s with alias %s exists (%s)"):format(
        tostring(found.id), alias, tostring(found.instance_status)))
      return found, { created = false }
    end
    local create = {}
    for k, v in pairs(input) do create[k] = v end
    if create.client_token == nil then create.client_token = M.ensure_token(input, failed) end
    local inst, meta = self:create_instance(create)
    api._log(p, "info", ("ensure_instance: created instance %s with alias %s (client token %s)"):format(
      tostring(inst.id), alias, create.client_token))
    meta.created = true
    return inst, meta
  end
end

return M
