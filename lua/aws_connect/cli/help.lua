-- aws_connect.cli.help: the help texts (plain text, not the AWS CLI's man
-- pages): `aws-connect help` lists the global options and every command
-- with its one-line summary from the model; `aws-connect COMMAND help`
-- (or --help) shows the command's flags with their types, constraints and
-- summaries, the customizations, and marks what goes beyond the AWS CLI.
-- The summaries (model docs) are loaded only here.

local model = require("aws_connect.model")
local names = require("aws_connect.names")

local M = {}

local function docs() return model.service("connect"):docs() end

local function wrap(text, indent, width)
  width = width or 78
  local out, line = {}, indent
  for word in tostring(text):gmatch("%S+") do
    if #line > #indent and #line + 1 + #word > width then
      out[#out + 1] = line
      line = indent .. word
    else
      line = line .. (#line > #indent and " " or "") .. word
    end
  end
  if #line > #indent then out[#out + 1] = line end
  return table.concat(out, "\n")
end

local BEYOND = "[beyond the AWS CLI]"

function M.top()
  local cli = require("aws_connect.cli")
  local lines = {
    "usage: aws-connect [options] <command> [parameters]",
    "",
    "A drop-in for `aws connect` (AWS CLI v2): the same commands, flags, output",
    "(json, text, table, yaml; --query) and exit codes (0 success, 252 usage or",
    "parameter error, 253 configuration or credentials, 254 service error, 255",
    "other, 130 interrupted). Beyond it: --dry-run, client-side validation of",
    "every model constraint before anything is sent, wait-instance,",
    "ensure-instance, create-instance --wait.",
    "",
    "global options:",
  }
  for _, g in ipairs(cli.GLOBAL) do
    local left = "  " .. g.name .. (g.nargs == 0 and "" or (" " .. (g.choices and table.concat(g.choices, "|") or "VALUE")))
    lines[#lines + 1] = left
    lines[#lines + 1] = wrap(g.help .. (g.beyond and (" " .. BEYOND) or ""), "      ")
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "commands (aws-connect <command> help shows one):"
  local d = docs().operations
  local svc = model.service("connect")
  local list = {}
  for _, n in ipairs(svc.names) do list[#list + 1] = { names.kebab(n), d[n] or "" } end
  for _, c in ipairs(require("aws_connect.cli.instance").extras()) do list[#list + 1] = { c[1], c[2] .. " " .. BEYOND } end
  table.sort(list, function(a, b) return a[1] < b[1] end)
  for _, c in ipairs(list) do
    lines[#lines + 1] = "  " .. c[1]
    if c[2] ~= "" then lines[#lines + 1] = wrap(c[2], "      ") end
  end
  return table.concat(lines, "\n") .. "\n"
end

local function type_text(shape, depth)
  depth = depth or 0
  local t = shape.type
  if t == "list" then
    if depth > 2 then return "list" end
    return "list of " .. type_text(shape.member, depth + 1)
  elseif t == "map" then
    return "map (shorthand K=V,K2=V2 or JSON)"
  elseif t == "structure" then
    if shape.union then return "structure, exactly one member (shorthand or JSON)" end
    return "structure (shorthand or JSON)"
  end
  return t
end

local function constraints(shape)
  local c = {}
  local t = shape.type
  if shape.enum then
    local e = shape.enum
    c[#c + 1] = "one of " .. (#e <= 12 and table.concat(e, ", ") or (table.concat(e, ", ", 1, 12) .. ", ..."))
  end
  local unit = (t == "string") and " characters" or (t == "list" or t == "map") and " entries" or ""
  if shape.min and shape.max then c[#c + 1] = ("%s to %s%s"):format(shape.min, shape.max, unit)
  elseif shape.min then c[#c + 1] = ("at least %s%s"):format(shape.min, unit)
  elseif shape.max then c[#c + 1] = ("at most %s%s"):format(shape.max, unit) end
  if shape.pattern and #shape.pattern <= 80 then c[#c + 1] = "pattern " .. shape.pattern end
  if t == "timestamp" then c[#c + 1] = "ISO 8601 or epoch seconds" end
  return table.concat(c, "; ")
end

function M.command(cmd)
  local commands = require("aws_connect.cli.commands")
  local op = cmd.op
  local d = docs()
  local lines = { "usage: aws-connect " .. cmd.name .. " [options]", "" }
  local summary = cmd.summary or d.operations[op.name]
  if summary then lines[#lines + 1] = wrap(summary .. (cmd.beyond and (" " .. BEYOND) or ""), "") end
  if not cmd.beyond then
    lines[#lines + 1] = ""
    lines[#lines + 1] = ("Operation %s (%s %s)."):format(op.name, op.method, op.uri)
  end
  if op.paginator then
    lines[#lines + 1] = wrap(("%s is paginated: every page is fetched unless --no-paginate; --max-items, "
      .. "--starting-token and --page-size as in the AWS CLI (result key %s)."):format(cmd.name,
      tostring(op.paginator.result_key)), "")
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  local input = op.input
  for _, s in ipairs(commands.arguments(cmd)) do
    local m = s.member
    if m then
      local req = s.required and " (required)" or ""
      if m.shape.type == "boolean" then
        if not s.negative then
          lines[#lines + 1] = "  " .. s.name .. " | --no-" .. s.name:sub(3) .. (m.required and " (one is required)" or "")
        end
      else
        lines[#lines + 1] = "  " .. s.name .. " <" .. type_text(m.shape) .. ">" .. req
      end
      if not s.negative then
        local c = constraints(m.shape)
        if c ~= "" then lines[#lines + 1] = wrap(c, "      ") end
        local text = d.members[(input and input.name or "") .. "." .. m.name]
        if m.idempotencyToken then text = (text and text .. " " or "") .. "(an idempotency token; generated when absent)" end
        if text then lines[#lines + 1] = wrap(text, "      ") end
      end
    else
      local help = s.help
      if not help then
        if s.dest == "cli_input_json" then help = "read the parameters from JSON (or file://PATH); flags win"
        elseif s.dest == "generate_cli_skeleton" then
          help = "print a JSON skeleton of the input (input, the default; yaml-input) or a sample output (output)"
        elseif s.dest == "starting_token" then help = "resume from the NextToken a truncated output printed"
        elseif s.dest == "page_size" then help = "items per service call (does not change the output)"
        elseif s.dest == "max_items" then help = "print at most this many items, and a NextToken to resume from" end
      end
      lines[#lines + 1] = "  " .. s.name .. (s.nargs == 0 and "" or " VALUE")
      if help then lines[#lines + 1] = wrap(help .. (s.extra and (" " .. BEYOND) or ""), "      ") end
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Every constraint above is checked before anything is sent " .. BEYOND .. "."
  lines[#lines + 1] = "Global options (aws-connect help): --region, --profile, --endpoint-url, --output, --query,"
  lines[#lines + 1] = "--no-paginate, --debug, --dry-run " .. BEYOND .. ", ..."
  return table.concat(lines, "\n") .. "\n"
end

return M
