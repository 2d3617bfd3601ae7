-- aws_connect.cli: the aws-connect command as a module (bin/aws-connect and
-- the installed command are stubs that call main): create,
-- describe, list, delete, wait for and ensure Amazon Connect instances.
-- Owns argument parsing, output (json | table), exit codes and the
-- --dry-run / --debug transports; everything else is the library's.
--
-- Exit codes: 0 success, 1 service error, 2 usage or validation error,
-- 3 credentials, network, timeout or unreadable response.

local aws_connect = require("aws_connect")
local core = require("aws_connect.core")
local errors = aws_connect.errors

local PROG = "aws-connect"

-- the streams and environment of the current main() call
local IO, ENV = io, nil

local EXIT_OK, EXIT_SERVICE, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3

-- Errors ---------------------------------------------------------------------

local Usage = {}
Usage.__tostring = function(u) return u.message end

local function usage_error(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, Usage), 0)
end

local DRY_RUN = setmetatable({}, { __tostring = function() return "dry run" end })

local function one_line(s)
  return (tostring(s):gsub("[\r\n]+", " "))
end

-- Flags ----------------------------------------------------------------------

local GLOBAL_FLAGS = {
  { "region", "REGION", "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile)" },
  { "profile", "NAME", "profile of the shared config files (else AWS_PROFILE, default)" },
  { "endpoint-url", "URL", "Connect endpoint, e.g. http://127.0.0.1:4566" },
  { "output", "FORMAT", "json (default; stable, sorted keys) or table" },
  { "debug", nil, "log each request and response to stderr (signature and secrets redacted)" },
  { "dry-run", nil, "print the signed request (signature and secrets redacted), send nothing" },
  { "help", nil, "show help" },
}

local CREATE_FLAGS = {
  { "identity-management-type", "TYPE", "SAML | CONNECT_MANAGED | EXISTING_DIRECTORY (required)" },
  { "inbound-calls-enabled", nil, "enable inbound calls (this or --no-inbound-calls-enabled is required)" },
  { "no-inbound-calls-enabled", nil, "disable inbound calls" },
  { "outbound-calls-enabled", nil, "enable outbound calls (this or --no-outbound-calls-enabled is required)" },
  { "no-outbound-calls-enabled", nil, "disable outbound calls" },
  { "instance-alias", "ALIAS", "alias of the instance (1-45 letters, digits, hyphens)" },
  { "directory-id", "ID", "directory (d-0123456789) for EXISTING_DIRECTORY" },
  { "tags", "K=V,...", "tags as key=value,key=value or a JSON object" },
  { "client-token", "TOKEN", "idempotency token (default: generated)" },
  { "wait", nil, "wait until the instance is ACTIVE (progress on stderr)" },
  { "timeout", "SECONDS", "with --wait: give up after this long (default 600)" },
  { "interval", "SECONDS", "with --wait: seconds between polls (default 5)" },
}

local COMMANDS, ORDER = {}, {}

local function command(name, def)
  COMMANDS[name] = def
  ORDER[#ORDER + 1] = name
end

local function flag_spec(cmd, name)
  for _, f in ipairs(cmd and cmd.flags or {}) do
    if f[1] == name then return f end
  end
  for _, f in ipairs(GLOBAL_FLAGS) do
    if f[1] == name then return f end
  end
  return nil
end

-- Parses argv into the command name and a table of flag values (booleans
-- for flags without a value). Global flags may come before or after the
-- command, as with the AWS CLI.
local function parse_args(argv)
  local name, flags, seen = nil, {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" then a = "--help" end
    if a:sub(1, 2) == "--" then
      local key, value = a:match("^%-%-([^=]+)=(.*)$")
      if not key then key = a:sub(3) end
      local cmd = name and COMMANDS[name]
      local spec = flag_spec(cmd, key)
      if not spec then
        usage_error("unknown option --%s%s; see '%s %s--help'", key, name and (" for " .. name) or "",
          PROG, name and (name .. " ") or "")
      end
      if spec[2] then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then usage_error("option --%s needs a value (%s)", key, spec[2]) end
        end
        if key == "tags" then
          flags.tags = flags.tags or {}                 -- repeated --tags merge
          flags.tags[#flags.tags + 1] = value
        else
          if seen[key] then usage_error("option --%s given twice", key) end
          flags[key] = value
        end
      else
        if value ~= nil then usage_error("option --%s takes no value", key) end
        flags[key] = true
      end
      seen[key] = true
    elseif name == nil then
      if a == "help" then
        flags.help = true
        name = argv[i + 1]
        if name and not COMMANDS[name] then usage_error("unknown command '%s'; see '%s --help'", name, PROG) end
        return name, flags
      end
      if not COMMANDS[a] then usage_error("unknown command '%s'; see '%s --help'", a, PROG) end
      name = a
    else
      usage_error("unexpected argument '%s' for %s; see '%s %s --help'", a, name, PROG, name)
    end
    i = i + 1
  end
  return name, flags
end

local function number_flag(flags, key, min)
  local v = flags[key]
  if v == nil then return nil end
  local n = tonumber(v)
  if not n or n ~= n or n < min or n == math.huge then
    usage_error("--%s must be a number >= %s, got '%s'", key, tostring(min), v)
  end
  return n
end

local function integer_flag(flags, key, min, max)
  local n = number_flag(flags, key, min)
  if n and (n ~= math.floor(n) or (max and n > max)) then
    usage_error("--%s must be a whole number%s, got '%s'", key,
      max and (" from " .. min .. " to " .. max) or "", flags[key])
  end
  return n
end

local function bool_pair(flags, key)
  local yes, no = flags[key], flags["no-" .. key]
  if yes and no then usage_error("give only one of --%s and --no-%s", key, key) end
  if yes then return true end
  if no then return false end
  return nil
end

-- --tags team=ops,env=prod  or  --tags '{"team":"ops"}'; repeatable.
local function parse_tags(list)
  if list == nil then return nil end
  local tags = {}
  for _, part in ipairs(list) do
    if part:match("^%s*{") then
      local t, err = core.json_decode(part)
      if type(t) ~= "table" then usage_error("--tags: not a JSON object: %s", tostring(err or part)) end
      for k, v in pairs(t) do tags[k] = v end
    else
      for item in (part .. ","):gmatch("([^,]*),") do
        if item ~= "" then
          local k, v = item:match("^([^=]*)=(.*)$")
          if not k or k == "" then usage_error("--tags: expected key=value, got '%s'", item) end
          tags[k] = v
        end
      end
    end
  end
  return tags
end

local function create_params(flags)
  return {
    identity_management_type = flags["identity-management-type"],
    inbound_calls_enabled = bool_pair(flags, "inbound-calls-enabled"),
    outbound_calls_enabled = bool_pair(flags, "outbound-calls-enabled"),
    instance_alias = flags["instance-alias"],
    directory_id = flags["directory-id"],
    tags = parse_tags(flags.tags),
    client_token = flags["client-token"],
  }
end

local function require_flag(flags, key)
  if flags[key] == nil then usage_error("--%s is required", key) end
  return flags[key]
end

-- Output -----------------------------------------------------------------------

local function array(t)
  return setmetatable(t, { __jsontype = "array" })
end

local function iso_time(t)
  if type(t) ~= "number" then return tostring(t) end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

local INSTANCE_ORDER = {
  "id", "arn", "instance_alias", "instance_status", "status_reason", "identity_management_type",
  "inbound_calls_enabled", "outbound_calls_enabled", "created_time", "service_role",
  "instance_access_url", "tags", "replication_configuration",
}

local function cell(key, v)
  if key == "created_time" and type(v) == "number" then return iso_time(v) end
  if type(v) == "table" then
    if key == "status_reason" then return tostring(v.message or "") end
    local parts = {}
    for _, k in ipairs(sorted_keys(v)) do
      local x = v[k]
      parts[#parts + 1] = tostring(k) .. "=" .. (type(x) == "table" and core.json_encode(x) or tostring(x))
    end
    return table.concat(parts, ", ")
  end
  return one_line(v)
end

-- key/value rows, well-known instance fields first
local function kv_table(t)
  local rows, done = {}, {}
  for _, k in ipairs(INSTANCE_ORDER) do
    if t[k] ~= nil then rows[#rows + 1] = { k, cell(k, t[k]) }; done[k] = true end
  end
  for _, k in ipairs(sorted_keys(t)) do
    if not done[k] then rows[#rows + 1] = { tostring(k), cell(k, t[k]) } end
  end
  local w = 0
  for _, r in ipairs(rows) do if #r[1] > w then w = #r[1] end end
  local out = {}
  for _, r in ipairs(rows) do out[#out + 1] = r[1] .. (" "):rep(w - #r[1] + 2) .. r[2] end
  return table.concat(out, "\n")
end

local function columns(headers, rows)
  local widths = {}
  for i, h in ipairs(headers) do widths[i] = #h end
  for _, r in ipairs(rows) do
    for i = 1, #headers do
      r[i] = r[i] == nil and "-" or tostring(r[i])
      if #r[i] > widths[i] then widths[i] = #r[i] end
    end
  end
  local function line(r)
    local cells = {}
    for i = 1, #headers do
      cells[i] = i == #headers and r[i] or (r[i] .. (" "):rep(widths[i] - #r[i]))
    end
    return table.concat(cells, "  ")
  end
  local out = { line(headers) }
  for _, r in ipairs(rows) do out[#out + 1] = line(r) end
  return table.concat(out, "\n")
end

local function yes_no(b)
  if b == nil then return nil end
  return b and "yes" or "no"
end

local function emit(ctx, value, table_text)
  if ctx.output == "json" then
    local text, err = core.json_encode(value)
    if not text then error("cannot encode the output as JSON: " .. tostring(err), 0) end
    IO.stdout:write(text, "\n")
  else
    IO.stdout:write(table_text, "\n")
  end
end

-- Redaction shared by --dry-run and --debug.
local function redacted_headers(headers)
  local out = {}
  for i, h in ipairs(headers or {}) do
    local name, value = h[1], h[2]
    local lname = name:lower()
    if lname == "authorization" then
      value = (value:gsub("Signature=%x+", "Signature=REDACTED"))
    elseif lname == "x-amz-security-token" or lname:find("token", 1, true) or lname:find("secret", 1, true) then
      value = "REDACTED"
    end
    out[i] = { name, value }
  end
  return out
end

-- Transports -------------------------------------------------------------------

local function starts_with(s, prefix)
  return prefix ~= nil and s:sub(1, #prefix) == prefix
end

-- Wraps the curl transport: requests to the Connect endpoint are captured
-- (--dry-run: raise DRY_RUN) and/or logged (--debug). Requests to other
-- hosts (credential providers: IMDS, containers, STS) pass through, and
-- only their method, host and path are logged: their bodies carry secrets.
local function cli_transport(ctx)
  local real = require("aws_connect.transport.curl").new()
  local t = {}
  function t.request(_, req)
    local connect = starts_with(req.url, ctx.endpoint)
    if ctx.debug then
      if connect then
        local lines = { ("> %s %s"):format(req.method, req.url) }
        for _, h in ipairs(redacted_headers(req.headers)) do lines[#lines + 1] = "> " .. h[1] .. ": " .. h[2] end
        if req.body and req.body ~= "" then lines[#lines + 1] = "> " .. one_line(req.body) end
        ctx.log("debug", table.concat(lines, "\n"))
      else
        ctx.log("debug", ("> %s %s (credential provider)"):format(req.method, (req.url:gsub("%?.*$", ""))))
      end
    end
    if connect and ctx.dry_run then
      ctx.captured = req
      error(DRY_RUN, 0)
    end
    local resp, kind, msg = real:request(req)
    if ctx.debug then
      if not resp then
        ctx.log("debug", ("< request failed: %s %s"):format(tostring(kind), one_line(msg or "")))
      elseif connect then
        local lines = { ("< HTTP %d %s"):format(resp.status, resp.reason or "") }
        for _, h in ipairs(redacted_headers(resp.headers)) do lines[#lines + 1] = "< " .. h[1] .. ": " .. h[2] end
        if resp.body and resp.body ~= "" then lines[#lines + 1] = "< " .. one_line(resp.body) end
        ctx.log("debug", table.concat(lines, "\n"))
      else
        ctx.log("debug", ("< HTTP %d (credential provider)"):format(resp.status))
      end
    end
    return resp, kind, msg
  end
  function t.discard() real:discard() end
  function t.close() real:close() end
  return t
end

local function print_dry_run(ctx)
  local req = ctx.captured
  local headers = redacted_headers(req.headers)
  if ctx.output == "json" then
    local hs = {}
    for i, h in ipairs(headers) do hs[i] = array({ h[1], h[2] }) end
    emit(ctx, { dry_run = true, method = req.method, url = req.url, headers = array(hs), body = req.body or "" })
    return
  end
  local lines = { req.method .. " " .. req.url }
  for _, h in ipairs(headers) do lines[#lines + 1] = h[1] .. ": " .. h[2] end
  lines[#lines + 1] = ""
  if req.body and req.body ~= "" then lines[#lines + 1] = req.body end
  IO.stdout:write(table.concat(lines, "\n"), "\n")
end

local function make_client(ctx, flags)
  local opts = {
    region = flags.region,
    profile = flags.profile,
    endpoint = flags["endpoint-url"],
    app_id = "cli",
    getenv = ENV,
  }
  if ctx.debug or ctx.dry_run then opts.transport = cli_transport(ctx) end
  if ctx.debug then opts.logger = ctx.log end
  local client = aws_connect.new(opts)
  ctx.endpoint = client.endpoint
  return client
end

-- Commands ---------------------------------------------------------------------

local function wait_for(client, id, flags)
  local timeout = number_flag(flags, "timeout", 0) or 600
  local interval = number_flag(flags, "interval", 0) or 5
  return client:wait_for_instance(id, {
    timeout = timeout,
    interval = interval,
    on_poll = function(inst, elapsed)
      IO.stderr:write(("%s: instance %s is %s (%.0f s)\n"):format(PROG, tostring(id),
        tostring(inst.instance_status), elapsed))
      IO.stderr:flush()
    end,
  })
end

local function emit_instance(ctx, inst)
  emit(ctx, inst, kv_table(inst))
end

command("create-instance", {
  summary = "create an instance (optionally wait until it is ACTIVE)",
  flags = CREATE_FLAGS,
  run = function(ctx, client, flags)
    local inst, meta = client:create_instance(create_params(flags))
    if flags.wait then
      IO.stderr:write(("%s: created instance %s; waiting until it is ACTIVE\n"):format(PROG, inst.id))
      inst = wait_for(client, inst.id, flags)
      emit_instance(ctx, inst)
    else
      local out = { id = inst.id, arn = inst.arn, client_token = meta.client_token }
      emit(ctx, out, kv_table(out))
    end
  end,
})

command("describe-instance", {
  summary = "show an instance",
  flags = { { "instance-id", "ID", "identifier of the instance (required)" } },
  run = function(ctx, client, flags)
    emit_instance(ctx, (client:describe_instance(require_flag(flags, "instance-id"))))
  end,
})

command("list-instances", {
  summary = "list the instances of the account and region (every page)",
  flags = {
    { "max-items", "N", "stop after N instances" },
    { "page-size", "N", "instances per ListInstances call, 1-10 (default 10)" },
  },
  run = function(ctx, client, flags)
    local max_items = integer_flag(flags, "max-items", 1)
    local page_size = integer_flag(flags, "page-size", 1, 10)
    local list = {}
    if not max_items or max_items > 0 then
      for inst in client:instances{ max_results = page_size } do
        list[#list + 1] = inst
        if max_items and #list >= max_items then break end
      end
    end
    local rows = {}
    for i, s in ipairs(list) do
      rows[i] = { s.id, s.instance_alias, s.instance_status, s.identity_management_type,
        yes_no(s.inbound_calls_enabled), yes_no(s.outbound_calls_enabled), s.created_time and iso_time(s.created_time) }
    end
    emit(ctx, { instances = array(list) },
      columns({ "ID", "ALIAS", "STATUS", "IDENTITY", "INBOUND", "OUTBOUND", "CREATED" }, rows))
  end,
})

command("delete-instance", {
  summary = "delete an instance",
  flags = {
    { "instance-id", "ID", "identifier of the instance (required)" },
    { "client-token", "TOKEN", "idempotency token (default: generated)" },
  },
  run = function(ctx, client, flags)
    local id = require_flag(flags, "instance-id")
    local _, meta = client:delete_instance(id, { client_token = flags["client-token"] })
    local out = { instance_id = id, deleted = true, client_token = meta.client_token }
    emit(ctx, out, "deleted instance " .. id)
  end,
})

command("wait-instance", {
  summary = "wait until an instance is ACTIVE (progress on stderr)",
  flags = {
    { "instance-id", "ID", "identifier of the instance (required)" },
    { "timeout", "SECONDS", "give up after this long (default 600)" },
    { "interval", "SECONDS", "seconds between polls (default 5)" },
  },
  run = function(ctx, client, flags)
    emit_instance(ctx, (wait_for(client, require_flag(flags, "instance-id"), flags)))
  end,
})

command("ensure-instance", {
  summary = "return the instance with --instance-alias, creating it if there is none (safe to re-run)",
  flags = CREATE_FLAGS,
  run = function(ctx, client, flags)
    local inst, meta = client:ensure_instance(create_params(flags))
    if flags.wait then
      if meta.created then
        IO.stderr:write(("%s: created instance %s; waiting until it is ACTIVE\n"):format(PROG, inst.id))
      end
      inst = wait_for(client, inst.id, flags)
    end
    local out = { created = meta.created, instance = inst }
    if meta.client_token then out.client_token = meta.client_token end
    emit(ctx, out, kv_table(inst) .. "\ncreated" .. (" "):rep(19) .. (meta.created and "yes" or "no"))
  end,
})

-- Help -------------------------------------------------------------------------

local function flag_lines(flags)
  local out = {}
  for _, f in ipairs(flags) do
    local left = "  --" .. f[1] .. (f[2] and (" " .. f[2]) or "")
    out[#out + 1] = left .. (" "):rep(math.max(2, 36 - #left)) .. f[3]
  end
  return table.concat(out, "\n")
end

local function help(name)
  if name then
    local c = COMMANDS[name]
    return ("usage: %s %s [options]\n\n%s.\n\noptions:\n%s\n\nglobal options:\n%s\n"):format(
      PROG, name, c.summary:sub(1, 1):upper() .. c.summary:sub(2), flag_lines(c.flags), flag_lines(GLOBAL_FLAGS))
  end
  local lines = {}
  for _, n in ipairs(ORDER) do lines[#lines + 1] = "  " .. n .. (" "):rep(20 - #n) .. COMMANDS[n].summary end
  return ("usage: %s COMMAND [options]\n\nManage Amazon Connect instances.\n\ncommands:\n%s\n\n"
    .. "global options:\n%s\n\n'%s COMMAND --help' shows the options of a command.\n"
    .. "Exit codes: 0 success, 1 service error, 2 usage or validation error,\n"
    .. "3 credentials, network or timeout error.\n"):format(
    PROG, table.concat(lines, "\n"), flag_lines(GLOBAL_FLAGS), PROG)
end

-- Main -------------------------------------------------------------------------

local function exit_code_of(err)
  local kind = err.kind
  if kind == "validation" or kind == "config" then return EXIT_USAGE end
  if kind == "credentials" or kind == "network" or kind == "timeout" or kind == "response" then return EXIT_ENV end
  return EXIT_SERVICE
end

-- the flag a validation error's field comes from, as a hint
local function flag_hint(field)
  local base = type(field) == "string" and field:match("^[%a_]+")
  if not base then return "" end
  if base == "inbound_calls_enabled" or base == "outbound_calls_enabled" then
    local f = base:gsub("_", "-")
    return (" [--%s or --no-%s]"):format(f, f)
  end
  local f = base:gsub("_", "-")
  if flag_spec(nil, f) then return " [--" .. f .. "]" end
  for _, c in pairs(COMMANDS) do
    if flag_spec(c, f) then return " [--" .. f .. "]" end
  end
  return ""
end

local function fail(code, text)
  IO.stderr:write(PROG, ": ", one_line(text), "\n")
  return code
end

local function main(argv)
  local ctx = { output = "json" }
  local ok, res = pcall(function()
    local name, flags = parse_args(argv)
    if flags.help then
      IO.stdout:write(help(name))
      return EXIT_OK
    end
    if not name then
      usage_error("no command given; commands: %s (see '%s --help')", table.concat(ORDER, ", "), PROG)
    end
    local output = flags.output or "json"
    if output ~= "json" and output ~= "table" then usage_error("--output must be json or table, got '%s'", output) end
    ctx.output = output
    ctx.debug = flags.debug
    ctx.dry_run = flags["dry-run"]
    ctx.log = function(level, msg)
      IO.stderr:write(("[%s] %s\n"):format(level, msg))
    end
    if not flags.wait and (flags.timeout or flags.interval) and name ~= "wait-instance" then
      usage_error("--timeout and --interval go with --wait")
    end
    local client = make_client(ctx, flags)
    COMMANDS[name].run(ctx, client, flags)
    client:close()
    return EXIT_OK
  end)
  if ok then return res end
  if res == DRY_RUN then
    print_dry_run(ctx)
    return EXIT_OK
  end
  if getmetatable(res) == Usage then return fail(EXIT_USAGE, "usage: " .. res.message) end
  if errors.is_error(res) then
    local text = tostring(res):gsub("^aws_connect: ", "")
    if res.kind == "validation" then text = text .. flag_hint(res.field) end
    return fail(exit_code_of(res), text)
  end
  return fail(EXIT_SERVICE, "internal error: " .. tostring(res))
end

local M = {}

--- Runs the command: argv (arg-style: argv[1] is the first argument), env
--- (a function or a table used instead of os.getenv; nil: the process
--- environment), stdio (a table with stdout and stderr; nil: io). Returns
--- the exit code.
function M.main(argv, env, stdio)
  IO, ENV = stdio or io, env
  local ok, code = pcall(main, argv or {})
  IO, ENV = io, nil
  if not ok then error(code, 0) end
  return code
end

return M
