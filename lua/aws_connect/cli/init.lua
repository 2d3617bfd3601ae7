-- aws_connect.cli: the aws-connect command, a drop-in for `aws connect`
-- (AWS CLI v2) for every operation of the Connect model, as a module:
-- main(argv, env, io) -> exit code; bin/aws-connect is a stub that calls it.
--
-- This file owns the flow of one run and the exit codes: global options
-- (cli/argv.lua), the command and its flags (cli/commands.lua,
-- cli/values.lua), the client, one call or the pages of a paginated
-- operation (cli/paging.lua), the output (cli/result.lua, cli/format/),
-- help (cli/help.lua) and the instance extras (cli/instance.lua).
--
-- Exit codes as AWS CLI v2's: 0 success, 252 usage or parameter errors
-- (client-side validation included), 253 configuration or credentials,
-- 254 the service answered an error, 255 anything else, 130 on Ctrl-C.
-- Errors are one line on stderr, in CLI terms.

local argv = require("aws_connect.cli.argv")

local M = {}

local PROG = "aws-connect"
M.PROG = PROG

local EXIT_OK, EXIT_USAGE, EXIT_CONFIG, EXIT_SERVICE, EXIT_OTHER, EXIT_INTERRUPT = 0, 252, 253, 254, 255, 130
M.EXIT = { ok = EXIT_OK, usage = EXIT_USAGE, config = EXIT_CONFIG, service = EXIT_SERVICE, other = EXIT_OTHER,
  interrupt = EXIT_INTERRUPT }

local Done = {}   -- raised to end a run early with an exit code

local function int_arg(v) return require("aws_connect.cli.values").py_int(v) end

-- the AWS CLI's global options (awscli/data/cli.json), and ours
M.GLOBAL = {
  { name = "--debug", dest = "debug", nargs = 0, value = true, help = "log every request and response to stderr "
    .. "(headers and bodies, secrets redacted)" },
  { name = "--endpoint-url", dest = "endpoint_url", help = "the Connect endpoint, e.g. http://127.0.0.1:4566" },
  { name = "--no-verify-ssl", dest = "verify_ssl", nargs = 0, value = false,
    help = "do not verify TLS certificates" },
  { name = "--no-paginate", dest = "paginate", nargs = 0, value = false, help = "one call, no automatic pagination" },
  { name = "--output", dest = "output", choices = { "json", "text", "table", "yaml", "yaml-stream" },
    help = "json (default), text, table, yaml or yaml-stream (else AWS_DEFAULT_OUTPUT, the profile's output)" },
  { name = "--query", dest = "query", help = "a JMESPath expression applied to the output" },
  { name = "--profile", dest = "profile", help = "a profile of the shared config files" },
  { name = "--region", dest = "region", help = "the AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile)" },
  { name = "--version", dest = "version", nargs = 0, value = true, help = "print the version and exit" },
  { name = "--color", dest = "color", choices = { "on", "off", "auto" }, help = "accepted; tables are not colored" },
  { name = "--no-sign-request", dest = "sign_request", nargs = 0, value = false,
    help = "not supported (Connect needs signed requests)" },
  { name = "--ca-bundle", dest = "ca_bundle", help = "PEM file of the CAs to trust" },
  { name = "--cli-read-timeout", dest = "read_timeout", convert = int_arg, type_name = "int",
    help = "seconds a response may take (0: no limit; default 60)" },
  { name = "--cli-connect-timeout", dest = "connect_timeout", convert = int_arg, type_name = "int",
    help = "seconds to connect (0: no limit; default 3.1)" },
  { name = "--cli-binary-format", dest = "cli_binary_format", choices = { "base64", "raw-in-base64-out" },
    help = "accepted (Connect has no binary members)" },
  { name = "--no-cli-pager", dest = "no_cli_pager", nargs = 0, value = true, help = "accepted (there is no pager)" },
  { name = "--cli-auto-prompt", dest = "cli_auto_prompt", nargs = 0, value = true, help = "not supported" },
  { name = "--no-cli-auto-prompt", dest = "no_cli_auto_prompt", nargs = 0, value = true, help = "accepted" },
  { name = "--dry-run", dest = "dry_run", nargs = 0, value = true, beyond = true,
    help = "print the signed request (secrets redacted) and send nothing" },
}

local global_parser = argv.parser(M.GLOBAL, "command")

-- Errors in CLI terms ------------------------------------------------------------------

local function one_line(s)
  return require("aws_connect.redact").printable(tostring(s), 2000)
end

-- library advice -> command-line advice
local function cli_terms(msg)
  msg = msg:gsub("[Pp]ass new{ region = [^}]*}, set", "pass --region, set")
  msg = msg:gsub("%.? ?Pass new{ credentials = [^}]*}, set", ". Set")
  msg = msg:gsub("new{ profile = [^}]*}", "--profile")
  msg = msg:gsub("%(from profile option%)", "(from --profile)")
  msg = msg:gsub("endpoint option", "--endpoint-url")
  msg = msg:gsub("region option", "--region")
  return msg
end

local function split_path(field)
  local segs = {}
  local first, rest = field:match("^([%w_]+)(.*)$")
  if not first then return nil end
  segs[1] = { kind = "member", name = first }
  local i = 1
  while i <= #rest do
    local name = rest:match("^%.([%w_]+)", i)
    if name then
      segs[#segs + 1] = { kind = "member", name = name }
      i = i + #name + 1
    else
      local idx = rest:match("^%[(%d+)%]", i)
      if idx then
        segs[#segs + 1] = { kind = "index", text = "[" .. idx .. "]" }
        i = i + #idx + 2
      else
        segs[#segs + 1] = { kind = "raw", text = rest:sub(i) }
        break
      end
    end
  end
  return segs
end

--- A library field path (snake_case: routing_profile.queue_configs[2])
--- in CLI terms (--routing-profile QueueConfigs[2]), or nil.
function M.cli_field(op, field)
  if type(field) ~= "string" or not op or not op.input then return nil end
  local segs = split_path(field)
  if not segs then return nil end
  local m = op.input.by_key[segs[1].name]
  if not m then return nil end
  local names = require("aws_connect.names")
  local out = { "--" .. names.kebab(m.name) }
  local shape = m.shape
  local inner = {}
  for i = 2, #segs do
    local s = segs[i]
    if s.kind == "member" then
      while shape and (shape.type == "list" or shape.type == "map") do shape = shape.member or shape.value end
      local mm = shape and shape.by_key and shape.by_key[s.name]
      inner[#inner + 1] = (#inner > 0 and "." or "") .. (mm and mm.name or s.name)
      shape = mm and mm.shape
    else
      inner[#inner + 1] = s.text
    end
  end
  if #inner > 0 then out[2] = " " .. table.concat(inner) end
  return table.concat(out)
end

local function message_of(err, op)
  local msg = err.message or ""
  if err.kind == "validation" and err.field then
    local f = M.cli_field(op, err.field)
    if f then
      if msg:sub(1, #err.field) == err.field then msg = f .. msg:sub(#err.field + 1) else msg = msg .. " (" .. f .. ")" end
    end
    msg = msg:gsub("did you mean '([%w_]+)'%?", function(s)
      local m = op and op.input and op.input.by_key[s]
      return "did you mean '" .. (m and m.name or s) .. "'?"
    end)
  end
  return cli_terms(msg)
end

local function exit_code_of(err)
  local kind = err.kind
  if kind == "validation" then return EXIT_USAGE end
  if kind == "config" or kind == "credentials" then return EXIT_CONFIG end
  if kind == "service" then return EXIT_SERVICE end
  return EXIT_OTHER
end

--- The one line an error is reported by.
function M.describe(err, op)
  local code = err.code
  local msg = message_of(err, op)
  if code == "ConfigError" and err.field == "region" then
    return "You must specify a region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or add region to the "
      .. "profile (aws configure)"
  end
  if err.kind == "service" and op and code ~= "InstanceCreationFailed" then
    local s = ("An error occurred (%s) when calling the %s operation: %s"):format(code, op.name, msg)
    local extra = {}
    if err.status then extra[#extra + 1] = "HTTP " .. tostring(err.status) end
    if err.request_id then extra[#extra + 1] = "request id " .. err.request_id end
    if err.attempts and err.attempts > 1 then extra[#extra + 1] = err.attempts .. " attempts" end
    if #extra > 0 then s = s .. " (" .. table.concat(extra, ", ") .. ")" end
    return s
  end
  if err.kind == "credentials" and msg:find("^no credentials found") then
    msg = "Unable to locate credentials" .. msg:sub(#"no credentials found" + 1)
    if not msg:find("aws configure", 1, true) then msg = msg .. ' (or run "aws configure")' end
  end
  if err.kind == "validation" then return "Parameter validation failed: " .. msg end
  return code .. ": " .. msg
end

-- Running --------------------------------------------------------------------------------

local function write(ctx, s)
  if s ~= "" then ctx.stdout:write(s) end
end

local function fail(ctx, code, text)
  ctx.stderr:write(PROG, ": ", one_line(text), "\n")
  return code
end

local function version_text()
  local core = require("aws_connect.core")
  local lua = (type(jit) == "table" and jit.version) or _VERSION
  return ("%s/%s (lua-aws-connect %s) %s\n"):format(PROG, core.version, core.version, lua:gsub(" ", "/"))
end

local function profile_settings(ctx, g)
  local config = require("aws_connect.config")
  local files = config.load_files(ctx.getenv)
  local name = config.profile_name({ profile = g.profile }, ctx.getenv, files)
  return files.profiles[name] or {}
end

-- the output format and timestamp format (the AWS CLI's chains)
local function output_settings(ctx, g)
  local profile = profile_settings(ctx, g)
  local fmt = g.output
  if fmt == nil then
    local e = ctx.getenv("AWS_DEFAULT_OUTPUT")
    if e ~= nil and e ~= "" then fmt = e end
  end
  if fmt == nil and type(profile.output) == "string" and profile.output ~= "" then fmt = profile.output end
  fmt = fmt or "json"
  local ok = false
  for _, f in ipairs(require("aws_connect.cli.format").FORMATS) do if f == fmt then ok = true end end
  if not ok then
    error(require("aws_connect.errors").new("ConfigError", ("Unknown output type: %s"):format(argv.shown(fmt)),
      { field = "output" }), 0)
  end
  local ts = type(profile.cli_timestamp_format) == "string" and profile.cli_timestamp_format or "iso8601"
  if ts ~= "iso8601" and ts ~= "wire" then
    error(require("aws_connect.errors").new("ConfigError", ('Unknown cli_timestamp_format value: %s, valid values '
      .. 'are "wire" or "iso8601"'):format(argv.shown(ts)), { field = "cli_timestamp_format" }), 0)
  end
  return fmt, ts
end

local function terminal_width(ctx)
  if ctx.stdout ~= io.stdout then return 80 end
  local ok = os.execute("test -t 1")
  if not (ok == true or ok == 0) then return 80 end
  local p = io.popen("stty size </dev/tty 2>/dev/null")
  if not p then return 80 end
  local line = p:read("*l")
  p:close()
  local cols = line and tonumber(line:match("%d+%s+(%d+)"))
  return cols or 80
end

local function make_client(ctx, g)
  local aws_connect = require("aws_connect")
  local wire = require("aws_connect.cli.wire").new({
    debug = g.debug, getenv = ctx.getenv,
    log = function(line) ctx.stderr:write(PROG, " [debug] ", line, "\n") end,
  })
  local opts = {
    region = g.region, profile = g.profile, endpoint = g.endpoint_url, getenv = ctx.getenv, transport = wire,
    ca_file = g.ca_bundle,
  }
  if g.verify_ssl == false then opts.verify_tls = false end
  if g.connect_timeout ~= nil then opts.connect_timeout = g.connect_timeout > 0 and g.connect_timeout or 86400 end
  if g.read_timeout ~= nil then opts.timeout = g.read_timeout > 0 and g.read_timeout or 86400 end
  if g.debug or g.verify_ssl == false then
    opts.logger = function(level, msg)
      if g.debug or level == "warn" then ctx.stderr:write(PROG, " [", level, "] ", one_line(msg), "\n") end
    end
  end
  local client = aws_connect.new(opts)
  wire.endpoint = client.endpoint
  ctx.wire = wire
  return client
end

function M.fetcher(ctx, client, op, ts)
  local result = require("aws_connect.cli.result")
  local jjson = require("aws_connect.jmespath.json")
  return function(params)
    local res, meta = client:call(op.name, params)
    local wire = ctx.wire
    local status, headers = wire.last_status, wire.last_headers
    local body = wire:take_body()
    local raw = body and body:find("%S") and jjson.decode(body) or nil
    local doc = result.document(op, res, raw, { timestamp_format = ts })
    if doc.Errors ~= nil then
      -- the AWS CLI keeps ResponseMetadata when the output has an Errors member
      -- (awscli/formatter.py _remove_request_id)
      table.insert(getmetatable(doc).__order, 1, "ResponseMetadata")
      doc.ResponseMetadata = result.response_metadata(meta, status, headers)
    end
    return doc
  end
end

local function dry_run(ctx, client, op, params)
  local wire = ctx.wire
  local before = wire.requests or 0
  local n = 0
  local inner = wire.inner
  wire.inner = { request = function(_, req) n = n + 1; return inner:request(req) end,
    discard = function() if inner.discard then inner:discard() end end }
  local ok, req = pcall(client.prepare, client, op.name, params)
  wire.inner = inner
  if not ok then error(req, 0) end
  for _, h in ipairs(req.headers) do
    if h[1]:lower() == "x-amz-security-token" then wire:secret(h[2]) end
  end
  local lines = { req.method .. " " .. wire:clean(req.url) }
  for _, h in ipairs(req.headers) do
    local v = h[2]
    if h[1]:lower() == "authorization" then v = v:gsub("Signature=%x+", "Signature=REDACTED") end
    lines[#lines + 1] = h[1] .. ": " .. wire:clean(v)
  end
  lines[#lines + 1] = ""
  if req.body and req.body ~= "" then lines[#lines + 1] = wire:clean(req.body) end
  write(ctx, table.concat(lines, "\n") .. "\n")
  local note = ("dry run: nothing was sent to Connect; credentials from %s"):format(tostring(req.credentials_source
    or "the environment"))
  if n > before then
    note = note .. (" (resolving them sent %d request%s to a credential provider)"):format(n, n == 1 and "" or "s")
  else
    note = note .. " (resolving them needed no network)"
  end
  ctx.stderr:write(PROG, ": ", note, "\n")
  return EXIT_OK
end

local function run_command(ctx, g, cmd, rest)
  local commands = require("aws_connect.cli.commands")
  local values = require("aws_connect.cli.values")
  local format = require("aws_connect.cli.format")
  local op = cmd.op
  ctx.op = op
  local params, opts = commands.parse(cmd, rest, ctx)
  -- --generate-cli-skeleton input: needs no configuration at all
  local skel = opts.generate_cli_skeleton
  if skel == "input" then
    local doc = require("aws_connect.cli.result").skeleton(op.input)
    write(ctx, require("aws_connect.cli.format.json").encode(doc, { ascii = true }) .. "\n")
    return EXIT_OK
  elseif skel == "yaml-input" then
    local doc = require("aws_connect.cli.result").skeleton(op.input)
    write(ctx, require("aws_connect.cli.format.yaml").encode(doc))
    return EXIT_OK
  end
  -- --cli-input-json: its keys fill what the flags left
  if opts.cli_input_json ~= nil then
    local text = values.paramfile(opts.cli_input_json, ctx, "--cli-input-json") or opts.cli_input_json
    local doc = require("aws_connect.jmespath.json").decode(text)
    if doc == nil then argv.usage("Error parsing parameter 'cli-input-json': Invalid JSON received.") end
    local vals = require("aws_connect.jmespath.values")
    if vals.jtype(doc) ~= "object" or doc == vals.NULL then
      argv.usage("Error parsing parameter '--cli-input-json': Invalid type: expecting map, received %s",
        vals.jtype(doc))
    end
    local ks, n = vals.keys(doc)
    for i = 1, n do
      local k = ks[i]
      if params[k] == nil then
        local m = op.input and op.input.by_key[k]
        params[k] = (m and m.name == k) and values.coerce(m.shape, doc[k]) or doc[k]
      end
    end
  end
  -- pagination: on unless --no-paginate or the operation's own token/limit was given
  local pg = op.paginator
  local paginate = pg ~= nil and g.paginate ~= false
  if pg and (params[pg.input_token] ~= nil or (pg.limit_key and params[pg.limit_key] ~= nil)) then paginate = false end
  if pg and not paginate then
    local used = {}
    for _, k in ipairs({ "starting_token", "page_size", "max_items" }) do
      if opts[k] ~= nil then used[#used + 1] = "--" .. k:gsub("_", "-") end
    end
    if #used > 0 then
      argv.usage("Cannot specify --no-paginate along with pagination arguments: %s", table.concat(used, ", "))
    end
  end
  local fmt, ts = output_settings(ctx, g)
  local query
  if g.query ~= nil then
    local jmespath = require("aws_connect.jmespath")
    local q, err = jmespath.compile(g.query)
    if not q then argv.usage("Bad value for --query %s: %s", argv.shown(g.query), tostring(err.message or err)) end
    query = q
  end
  local ro = { format = fmt, query = query, title = op.name }
  if fmt == "table" then ro.width = terminal_width(ctx) end
  if g.sign_request == false then argv.usage("--no-sign-request is not supported: Connect needs signed requests") end
  if g.cli_auto_prompt then argv.usage("--cli-auto-prompt is not supported") end
  if skel == "output" then
    local shape = require("aws_connect.shape")
    shape.input(op, params, op.snake)
    local doc = require("aws_connect.cli.result").skeleton(op.output, true)
    write(ctx, format.render(doc, ro))
    return EXIT_OK
  end
  local client = make_client(ctx, g)
  ctx.client = client
  if g.dry_run then return dry_run(ctx, client, op, params) end
  if cmd.run then
    local code = cmd.run(ctx, client, op, params, opts, ro, ts)
    if code ~= nil then return code end
  end
  local fetch = M.fetcher(ctx, client, op, ts)
  if paginate then
    local paging = require("aws_connect.cli.paging")
    if fmt == "text" then
      -- the AWS CLI's text output is per page (the query too), then the resume token
      local tf = require("aws_connect.cli.format.text")
      local vals = require("aws_connect.jmespath.values")
      local rk = type(pg.result_key) == "table" and pg.result_key[1] or pg.result_key
      local first = true
      local state = paging.run(op, fetch, params, opts, function(page, st)
        local current
        if first then
          local keys, n = vals.keys(st.non_aggregate)
          local t, order = {}, {}
          for i = 1, n do t[keys[i]] = st.non_aggregate[keys[i]]; order[i] = keys[i] end
          current = vals.new_object(t, order)
        else
          current = vals.new_object({}, {})
        end
        first = false
        if current[rk] == nil then table.insert(getmetatable(current).__order, rk) end
        current[rk] = page[rk] == nil and vals.NULL or page[rk]
        write(ctx, tf.format(format.apply(query, current)))
      end)
      if state.resume_token then
        local inner = vals.new_object({ NextToken = state.resume_token }, { "NextToken" })
        write(ctx, tf.format(format.apply(query, vals.new_object({ NextToken = inner }, { "NextToken" }))))
      end
      client:close()
      return EXIT_OK
    end
    local pages = {}
    local state = paging.run(op, fetch, params, opts, function(page) pages[#pages + 1] = page end)
    write(ctx, format.render(paging.full_result(op, pages, state), ro))
  else
    write(ctx, format.render(fetch(params), ro))
  end
  client:close()
  return EXIT_OK
end

M.run_command = run_command

local function find_command(name)
  local extra = require("aws_connect.cli.instance").extra(name)
  if extra then return extra end
  local op = require("aws_connect.cli.commands").operation(name)
  if op then return require("aws_connect.cli.instance").command(name, op) end
  return nil
end

local function run(ctx, args)
  for _, a in ipairs(args) do
    if type(a) ~= "string" then argv.usage("arguments must be strings") end
  end
  local g, rest, _, command = argv.parse(global_parser, args, {
    ignore_required = true,
    on_option = function(name)
      if name == "--version" then
        write(ctx, version_text())
        error(setmetatable({ code = EXIT_OK }, Done), 0)
      end
    end,
  })
  ctx.globals = g
  local help = require("aws_connect.cli.help")
  local wants_help = false
  for _, a in ipairs(rest) do if a == "--help" or a == "-h" then wants_help = true end end
  if command == nil or command == "help" then
    if command == "help" and rest[1] and not rest[1]:find("^%-") then
      local cmd = find_command(rest[1])
      if not cmd then argv.usage("argument command: Invalid choice: '%s'", argv.shown(rest[1])) end
      write(ctx, help.command(cmd))
      return EXIT_OK
    end
    if command == "help" or wants_help then
      write(ctx, help.top())
      return EXIT_OK
    end
    argv.usage("the following arguments are required: command (see '%s help')", PROG)
  end
  local cmd = find_command(command)
  if not cmd then
    local best = require("aws_connect.suggest").closest(command, require("aws_connect.cli.commands").names())
    argv.usage("argument command: Invalid choice: '%s'%s (see '%s help')", argv.shown(command),
      best and (", maybe you meant: " .. best) or "", PROG)
  end
  if wants_help or (#rest == 1 and rest[1] == "help") then
    write(ctx, help.command(cmd))
    return EXIT_OK
  end
  return run_command(ctx, g, cmd, rest)
end

--- Runs the command: argv (arg-style: argv[1] is the first argument), env
--- (a function or a table used instead of os.getenv; nil: the process
--- environment), stdio (a table with stdout and stderr; nil: io). Returns
--- the exit code.
function M.main(args, env, stdio)
  stdio = stdio or io
  local getenv
  if type(env) == "function" then getenv = env
  elseif type(env) == "table" then getenv = function(k) return env[k] end
  else getenv = os.getenv end
  local ctx = { stdout = stdio.stdout or io.stdout, stderr = stdio.stderr or io.stderr, getenv = getenv }
  local list = {}
  for i = 1, #(args or {}) do list[i] = args[i] end
  local ok, res = pcall(run, ctx, list)
  if ctx.client then pcall(ctx.client.close, ctx.client) end
  if ok then return res end
  local errors = require("aws_connect.errors")
  if getmetatable(res) == Done then return res.code end
  if argv.is_usage(res) then return fail(ctx, EXIT_USAGE, res.message) end
  if errors.is_error(res) then
    if res.code == "JMESPathError" then return fail(ctx, EXIT_OTHER, res.message) end
    return fail(ctx, exit_code_of(res), M.describe(res, ctx.op))
  end
  if type(res) == "string" and res:find("interrupted!", 1, true) then
    ctx.stdout:write("\n")
    return EXIT_INTERRUPT
  end
  return fail(ctx, EXIT_OTHER, tostring(res))
end

return M
