-- aws_connect.cli.commands: the commands. Every operation of the Connect
-- model is one, named as the AWS CLI names it (the kebab form of the
-- operation name: describe-user, list-phone-numbers-v2), with one flag
-- per input member (kebab form; booleans as --x / --no-x; lists take
-- several values), the AWS CLI's customizations (--cli-input-json,
-- --generate-cli-skeleton, and for paginated operations --starting-token,
-- --page-size, --max-items) and ours (create-instance --wait). The extra
-- commands (wait-instance, ensure-instance) are in cli/instance.lua.
--
-- Looking a command up loads only its operation (svc:method on the snake
-- form), never the whole model.

local model = require("aws_connect.model")
local names = require("aws_connect.names")
local argv = require("aws_connect.cli.argv")
local values = require("aws_connect.cli.values")

local M = {}

local function svc() return model.service("connect") end

local int_spec = function(v) return values.py_int(v) end
local float_spec = function(v) return values.py_float(v) end

--- The operation of a command name, or nil.
function M.operation(name)
  if type(name) ~= "string" or not name:find("^[%l%d][%l%d%-]*$") then return nil end
  local opname = svc():method((name:gsub("%-", "_")))
  if not opname or names.kebab(opname) ~= name then return nil end
  return svc():operation(opname)
end

--- Every command name of the model (sorted).
function M.names()
  local list = {}
  for i, n in ipairs(svc().names) do list[i] = names.kebab(n) end
  table.sort(list)
  return list
end

--- Flags for waiting (create-instance --wait, ensure-instance, wait-instance).
function M.wait_flags(with_wait)
  local list = {}
  if with_wait then
    list[1] = { name = "--wait", dest = "wait", nargs = 0, value = true, extra = true,
      help = "wait until the instance is ACTIVE (progress on stderr), then print DescribeInstance's output" }
  end
  list[#list + 1] = { name = "--timeout", dest = "wait_timeout", convert = float_spec, type_name = "float",
    extra = true, help = "when waiting: give up after this many seconds (default 600)" }
  list[#list + 1] = { name = "--interval", dest = "wait_interval", convert = float_spec, type_name = "float",
    extra = true, help = "when waiting: seconds between polls (default 5)" }
  return list
end

local cache = {}

--- The argument table of a command (cmd.op its operation, cmd.extra its
--- flags beyond the AWS CLI): specs in order (members, then the
--- customizations), each with dest, and member (the model member) for
--- the operation's own.
function M.arguments(cmd)
  local op = cmd.op
  local key = cmd.name or op.name
  if cache[key] then return cache[key].specs end
  local specs = {}
  local input = op.input
  for _, m in ipairs(input and input.members or {}) do
    local kebab = names.kebab(m.name)
    local t = m.shape.type
    local required = m.required and not m.idempotencyToken or false
    if t == "boolean" then
      specs[#specs + 1] = { name = "--" .. kebab, dest = m.name, nargs = 0, value = true, member = m }
      specs[#specs + 1] = { name = "--no-" .. kebab, dest = m.name, nargs = 0, value = false, member = m,
        negative = true }
    elseif t == "list" then
      specs[#specs + 1] = { name = "--" .. kebab, dest = m.name, nargs = "*", member = m, required = required }
    elseif t == "long" then
      specs[#specs + 1] = { name = "--" .. kebab, dest = m.name, member = m, required = required,
        convert = int_spec, type_name = "int" }
    elseif t == "float" or t == "double" then
      specs[#specs + 1] = { name = "--" .. kebab, dest = m.name, member = m, required = required,
        convert = float_spec, type_name = "float" }
    else
      specs[#specs + 1] = { name = "--" .. kebab, dest = m.name, member = m, required = required }
    end
  end
  local pg = op.paginator
  if pg then
    specs[#specs + 1] = { name = "--starting-token", dest = "starting_token", paging = true }
    if pg.limit_key then
      specs[#specs + 1] = { name = "--page-size", dest = "page_size", convert = int_spec, type_name = "int",
        paging = true }
    end
    specs[#specs + 1] = { name = "--max-items", dest = "max_items", convert = int_spec, type_name = "int",
      paging = true }
  end
  specs[#specs + 1] = { name = "--cli-input-json", dest = "cli_input_json" }
  specs[#specs + 1] = { name = "--generate-cli-skeleton", dest = "generate_cli_skeleton", nargs = "?",
    const = "input", choices = { "input", "output", "yaml-input" } }
  for _, s in ipairs(cmd.extra or {}) do specs[#specs + 1] = s end
  cache[key] = { specs = specs, parser = argv.parser(specs, "help") }
  return specs
end

--- Parses an operation's arguments; returns the parameters (AWS names,
--- as the library takes them) and the options (paging, skeleton, extras).
--- ctx.getenv reads the environment (file:// paths).
function M.parse(cmd, args, ctx)
  local specs = M.arguments(cmd)
  local parser = cache[cmd.name or cmd.op.name].parser
  -- --cli-input-json and --generate-cli-skeleton (but not "output") make
  -- every argument optional, as in the AWS CLI (an exact match only)
  local relaxed = false
  for i, a in ipairs(args) do
    if a == "--cli-input-json" or (a == "--generate-cli-skeleton" and args[i + 1] ~= "output") then relaxed = true end
  end
  local parsed, extras, _, positional = argv.parse(parser, args, { ignore_required = relaxed })
  if positional ~= nil then extras[#extras + 1] = positional end
  if #extras > 0 then
    local list = {}
    for i, e in ipairs(extras) do list[i] = argv.shown(e) end
    argv.usage("Unknown options: %s", table.concat(list, ", "))
  end
  local params, opts = {}, {}
  local order = {}
  for _, s in ipairs(specs) do
    local v = parsed[s.dest]
    if s.member then
      if v ~= nil then
        local m = s.member
        if params[m.name] == nil then
          local loaded = values.paramfile(type(v) == "table" and #v == 1 and v[1] or v, ctx, s.name)
          if loaded ~= nil then v = loaded end
          local x = values.unpack(m.shape, v, s.name)
          params[m.name] = values.coerce(m.shape, x)
          order[#order + 1] = m.name
        end
      end
    elseif v ~= nil then
      opts[s.dest] = v
    end
  end
  return params, opts, order
end

return M
