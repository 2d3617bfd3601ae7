-- aws_connect.cli.argv: command-line parsing as the AWS CLI's argparse
-- parsers do it (parse_known_args): long options matched exactly or by a
-- unique prefix (an ambiguous prefix is an error), --opt=value, values
-- taken from the next argument unless it looks like an option (a negative
-- number or text with a blank does not), nargs ? (with a const), * and +,
-- flags, choices, typed values (python's int()), the first free
-- positional into the parser's positional slot, everything unknown kept
-- in order for the next parser; required options reported together.
--
-- A parser is { options = { ["--name"] = spec, ... }, order = {names},
-- positional = "dest" or nil }; spec = { dest, nargs = nil|0|"?"|"*"|"+",
-- value (for flags: the value stored), const, choices, convert, required }.
-- Errors are raised as { usage = message } tables (exit code 252).

local M = {}

local Usage = {}
Usage.__index = Usage
Usage.__tostring = function(u) return u.message end
M.Usage = Usage

local function usage(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, Usage), 0)
end
M.usage = usage

function M.is_usage(e)
  return getmetatable(e) == Usage
end

local function shown(s)
  s = tostring(s)
  if #s > 80 then s = s:sub(1, 80) .. "..." end
  return (s:gsub("[%c\127]", "?"))
end
M.shown = shown

local function negative_number(s)
  return s:find("^%-%d+$") ~= nil or s:find("^%-%d*%.%d+$") ~= nil
end

-- argparse's _parse_optional: returns "A" (an argument), or "O", spec-name,
-- explicit-value (spec-name nil for an unknown option)
local function classify(parser, arg)
  if arg == "" or arg:sub(1, 1) ~= "-" or arg == "-" then return "A" end
  local opts = parser.options
  if opts[arg] then return "O", arg, nil end
  local name, explicit = arg:match("^([^=]*)=(.*)$")
  if name and opts[name] then return "O", name, explicit end
  if arg:sub(1, 2) == "--" then
    local prefix = name or arg
    local matches = {}
    for _, o in ipairs(parser.order) do
      if o:sub(1, #prefix) == prefix then matches[#matches + 1] = o end
    end
    if #matches > 1 then
      usage("ambiguous option: %s could match %s", shown(prefix), table.concat(matches, ", "))
    elseif #matches == 1 then
      return "O", matches[1], explicit
    end
  end
  if negative_number(arg) then return "A" end
  if arg:find(" ", 1, true) then return "A" end
  return "O", nil, nil
end

local function convert(spec, name, v)
  if spec.choices then
    local ok = false
    for _, c in ipairs(spec.choices) do if c == v then ok = true end end
    if not ok then
      usage("argument %s: invalid choice: '%s' (choose from %s)", name, shown(v), table.concat(spec.choices, ", "))
    end
  end
  if spec.convert then
    local ok, r = pcall(spec.convert, v)
    if not ok or r == nil then
      usage("argument %s: invalid %s value: '%s'", name, spec.type_name or "", shown(v))
    end
    return r
  end
  return v
end

--- Parses args (an array of strings) with parser. Returns parsed (dest ->
--- value), extras (unknown arguments, in order), seen (dest -> true) and
--- the positional's value. opts.on_option(name, spec) is called as each
--- option is met (the AWS CLI's --version acts at once).
function M.parse(parser, args, opts)
  opts = opts or {}
  local kinds, names, explicits = {}, {}, {}
  local dashdash = nil
  for i, a in ipairs(args) do
    if dashdash then
      kinds[i] = "A"
    elseif a == "--" then
      dashdash = i
      kinds[i] = "-"
    else
      kinds[i], names[i], explicits[i] = classify(parser, a)
    end
  end
  local parsed, seen, extras, positional = {}, {}, {}, nil
  local i, n = 1, #args
  local function take_positional(a)
    if parser.positional and positional == nil then positional = a else extras[#extras + 1] = a end
  end
  while i <= n do
    local kind, a = kinds[i], args[i]
    if kind == "-" then
      i = i + 1
    elseif kind == "A" then
      take_positional(a)
      i = i + 1
    elseif names[i] == nil then
      extras[#extras + 1] = a
      i = i + 1
    else
      local name = names[i]
      local spec = parser.options[name]
      local explicit = explicits[i]
      if opts.on_option then opts.on_option(name, spec) end
      local nargs = spec.nargs
      i = i + 1
      local value
      if nargs == 0 then
        if explicit ~= nil then usage("argument %s: ignored explicit argument '%s'", name, shown(explicit)) end
        value = spec.value
      elseif nargs == nil then
        if explicit ~= nil then
          value = explicit
        elseif i <= n and kinds[i] == "A" then
          value = args[i]
          i = i + 1
        else
          usage("argument %s: expected one argument", name)
        end
        value = convert(spec, name, value)
      elseif nargs == "?" then
        if explicit ~= nil then
          value = convert(spec, name, explicit)
        elseif i <= n and kinds[i] == "A" then
          value = convert(spec, name, args[i])
          i = i + 1
        else
          value = spec.const
        end
      else -- "*" or "+"
        local list = {}
        if explicit ~= nil then
          list[1] = convert(spec, name, explicit)
        else
          while i <= n and kinds[i] == "A" do
            list[#list + 1] = convert(spec, name, args[i])
            i = i + 1
          end
        end
        if nargs == "+" and #list == 0 then usage("argument %s: expected at least one argument", name) end
        value = list
      end
      parsed[spec.dest] = value
      seen[spec.dest] = true
      seen[name] = true
    end
  end
  if not opts.ignore_required then
    local missing = {}
    for _, name in ipairs(parser.order) do
      local spec = parser.options[name]
      if spec.required and not seen[name] then missing[#missing + 1] = name end
    end
    if #missing > 0 then usage("the following arguments are required: %s", table.concat(missing, ", ")) end
  end
  return parsed, extras, seen, positional
end

--- A parser from a list of specs (each with a name "--x").
function M.parser(specs, positional)
  local p = { options = {}, order = {}, positional = positional }
  for _, s in ipairs(specs) do
    if not p.options[s.name] then p.order[#p.order + 1] = s.name end
    p.options[s.name] = s
  end
  return p
end

return M
