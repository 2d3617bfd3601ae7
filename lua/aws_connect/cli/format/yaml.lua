-- aws_connect.cli.format.yaml: --output yaml close to the AWS CLI's
-- (ruamel.yaml's safe dumper, block style): mapping keys sorted, lists as
-- "- " items at the key's indent, strings plain unless YAML would read
-- them as something else or they hold indicators (then single-quoted,
-- '' for '; double-quoted with escapes when they hold line breaks or
-- control characters), long scalars folded at blanks past column 80.
-- A scalar document is written as JSON, as the AWS CLI does.

local values = require("aws_connect.jmespath.values")
local jjson = require("aws_connect.jmespath.json")
local json = require("aws_connect.cli.format.json")

local M = {}

local jtype, NULL = values.jtype, values.NULL
local WIDTH = 80

local function looks_typed(s)
  local l = s:lower()
  if l == "true" or l == "false" or l == "null" or s == "~" or l == ".inf" or l == "-.inf" or l == "+.inf"
    or l == ".nan" then
    return true
  end
  if s:find("^[-+]?[%d_]+$") or s:find("^0o[0-7_]+$") or s:find("^0x[%x_]+$") then return true end
  if s:find("^[-+]?%.%d+$") or s:find("^[-+]?%d[%d_]*%.[%d_]*$") or s:find("^[-+]?%d[%d_]*%.?[%d_]*[eE][-+]?%d+$")
    or s:find("^[-+]?%.%d+[eE][-+]?%d+$") then
    return true
  end
  if s:find("^%d%d%d%d%-%d%d?%-%d%d?") then return true end   -- timestamps
  return false
end

local function plain_ok(s)
  if s == "" or looks_typed(s) then return false end
  if s:find("^[%s]") or s:find("[%s]$") then return false end
  if s:find("^[#,%[%]{}&*!|>'\"%%@`]") then return false end
  if s:find("^[-?:]$") or s:find("^[-?:]%s") then return false end
  if s:find(": ", 1, true) or s:find(" #", 1, true) or s:find(":$") then return false end
  if s:find("[%c\127]") or s:find("\194[\128-\159]") then return false end
  return true
end

local function ulen(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- words of s folded at single blanks once the column passes WIDTH
local function fold(s, column, indent)
  if column + ulen(s) <= WIDTH or not s:find(" ", 1, true) then return s end
  local out, col = {}, column
  local i, n = 1, #s
  while i <= n do
    local a, b = s:find(" +", i)
    if not a then out[#out + 1] = s:sub(i); break end
    local word = s:sub(i, a - 1)
    out[#out + 1] = word
    col = col + ulen(word)
    if b == a and col > WIDTH then
      out[#out + 1] = "\n" .. indent
      col = #indent
    else
      out[#out + 1] = s:sub(a, b)
      col = col + (b - a + 1)
    end
    i = b + 1
  end
  return table.concat(out)
end

local function scalar(v, column, indent)
  local t = jtype(v)
  if t == "null" then return "null" end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if v ~= v then return ".nan" end
    if v == math.huge then return ".inf" end
    if v == -math.huge then return "-.inf" end
    local s = jjson.number_text(v)
    if s:find("e", 1, true) and not s:find("%.") then s = s:gsub("e", ".0e") end
    return s
  end
  if t ~= "string" then return json.compact(v) end
  local no_nl = v:gsub("\n", "")
  if not no_nl:find("[%c\127]") and not v:find("\194[\128-\159]") and v:find("\n") and not v:find("^\n")
    and not v:find("\n$") then
    -- ruamel writes a line break inside single quotes as an empty line
    local parts = {}
    for line in (v .. "\n"):gmatch("([^\n]*)\n") do parts[#parts + 1] = (line:gsub("'", "''")) end
    return "'" .. table.concat(parts, "\n\n" .. indent) .. "'"
  end
  if v:find("[%c\127]") or v:find("\194[\128-\159]") then return json.string(v) end
  if plain_ok(v) then return fold(v, column, indent) end
  return "'" .. fold(v:gsub("'", "''"), column + 1, indent) .. "'"
end

local function sorted_keys(obj)
  local ks = {}
  for k in next, obj do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

local function empty(v)
  local t = jtype(v)
  return (t == "array" and values.len(v) == 0) or (t == "object" and next(v) == nil)
end

local emit

local function emit_mapping(v, indent, out, first_prefix)
  local pad = (" "):rep(indent)
  local first = true
  for _, k in ipairs(sorted_keys(v)) do
    local x = v[k]
    local lead = (first and first_prefix) or pad
    first = false
    local key = plain_ok(k) and k or scalar(k, #lead, pad)
    local t = jtype(x)
    if (t == "object" or t == "array") and not empty(x) then
      out[#out + 1] = lead .. key .. ":\n"
      if t == "object" then emit_mapping(x, indent + 2, out) else emit(x, indent, out) end
    else
      local col = #lead + #key + 2
      out[#out + 1] = lead .. key .. ": " .. (empty(x) and (t == "array" and "[]" or "{}") or
        scalar(x, col, pad .. "  ")) .. "\n"
    end
  end
end

emit = function(v, indent, out)
  local t = jtype(v)
  local pad = (" "):rep(indent)
  if t == "object" then
    emit_mapping(v, indent, out)
  elseif t == "array" then
    for i = 1, values.len(v) do
      local x = v[i]
      if x == nil then x = NULL end
      local xt = jtype(x)
      if xt == "object" and not empty(x) then
        emit_mapping(x, indent + 2, out, pad .. "- ")
      elseif xt == "array" and not empty(x) then
        out[#out + 1] = pad .. "-\n"
        emit(x, indent + 2, out)
      else
        out[#out + 1] = pad .. "- " .. (empty(x) and (xt == "array" and "[]" or "{}") or
          scalar(x, indent + 2, pad .. "  ")) .. "\n"
      end
    end
  end
end

--- The YAML text of a document.
function M.encode(v)
  local t = jtype(v)
  if t ~= "object" and t ~= "array" then return json.compact(v) .. "\n" end
  if empty(v) then return (t == "array" and "[]" or "{}") .. "\n" end
  local out = {}
  emit(v, 0, out)
  return table.concat(out)
end

return M
