-- aws_connect.cli.format.text: --output text as the AWS CLI writes it
-- (awscli/text.py): a dict's scalar values on one tab-separated line
-- (keys sorted), its lists and dicts below under their key in upper case;
-- a list of dicts uses the union of their scalar keys; a list of scalars
-- is one line (or IDENTIFIER<TAB>value lines under a key). Scalars print
-- as python's str(): True, False, None, floats as repr.
--
-- Server text reaches a terminal here: control characters in strings are
-- replaced (tab, CR and LF runs by a blank, others by '?'), so a value can
-- neither break the columns nor send escape sequences.

local values = require("aws_connect.jmespath.values")
local jjson = require("aws_connect.jmespath.json")

local M = {}

local jtype, keys, NULL = values.jtype, values.keys, values.NULL
local concat = table.concat

--- Control characters (C0, DEL, C1) out of a string for a terminal.
function M.clean(s)
  if s:find("[%c\127\194]") then
    s = s:gsub("[\t\r\n]+", " "):gsub("[%c\127]", "?"):gsub("\194[\128-\159]", "?")
  end
  return s
end
local clean = M.clean

--- python's str() of a JSON scalar.
function M.str(v)
  local t = jtype(v)
  if t == "string" then return clean(v) end
  if t == "number" then return jjson.number_text(v) end
  if t == "boolean" then return v and "True" or "False" end
  if t == "null" then return "None" end
  return "<" .. t .. ">"
end
local str = M.str

local function is_container(v)
  local t = jtype(v)
  return t == "array" or t == "object"
end

local format_text

local function sorted_keys(obj)
  local ks = {}
  for k in next, obj do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

local function all_scalar_keys(list)
  local seen, out = {}, {}
  for i = 1, values.len(list) do
    local item = list[i]
    if jtype(item) == "object" then
      local ks, n = keys(item)
      for j = 1, n do
        local k = ks[j]
        if not seen[k] and not is_container(item[k]) then seen[k] = true; out[#out + 1] = k end
      end
    end
  end
  table.sort(out)
  return out
end

local function format_scalar_list(list, identifier, out)
  if identifier ~= nil then
    for _, item in ipairs(list) do out[#out + 1] = clean(identifier):upper() .. "\t" .. str(item) .. "\n" end
  else
    local parts = {}
    for i, item in ipairs(list) do parts[i] = str(item) end
    out[#out + 1] = concat(parts, "\t") .. "\n"
  end
end

local function format_dict(scalar_keys, item, identifier, out)
  local scalars, non_scalars = {}, {}
  if scalar_keys == nil then
    for _, k in ipairs(sorted_keys(item)) do
      local v = item[k]
      if is_container(v) then non_scalars[#non_scalars + 1] = { k, v } else scalars[#scalars + 1] = str(v) end
    end
  else
    local in_scalars = {}
    for _, k in ipairs(scalar_keys) do
      in_scalars[k] = true
      local v = item[k]
      scalars[#scalars + 1] = v == nil and "" or str(v)
    end
    for _, k in ipairs(sorted_keys(item)) do
      if not in_scalars[k] then non_scalars[#non_scalars + 1] = { k, item[k] } end
    end
  end
  if #scalars > 0 then
    if identifier ~= nil then table.insert(scalars, 1, clean(identifier):upper()) end
    out[#out + 1] = concat(scalars, "\t") .. "\n"
  end
  for _, p in ipairs(non_scalars) do format_text(p[2], out, p[1]) end
end

local function format_list(item, identifier, out)
  local n = values.len(item)
  if n == 0 then return end
  local list = {}
  local any_dict, any_list = false, false
  for i = 1, n do
    local x = item[i]
    if x == nil then x = NULL end
    list[i] = x
    local t = jtype(x)
    if t == "object" then any_dict = true elseif t == "array" then any_list = true end
  end
  if any_dict then
    local all = all_scalar_keys(item)
    for _, el in ipairs(list) do format_text(el, out, identifier, all) end
  elseif any_list then
    local scalars, non = {}, {}
    for _, el in ipairs(list) do
      if is_container(el) then non[#non + 1] = el else scalars[#scalars + 1] = el end
    end
    if #scalars > 0 then format_scalar_list(scalars, identifier, out) end
    for _, el in ipairs(non) do format_text(el, out, identifier) end
  else
    format_scalar_list(list, identifier, out)
  end
end

format_text = function(item, out, identifier, scalar_keys)
  local t = jtype(item)
  if t == "object" then
    format_dict(scalar_keys, item, identifier, out)
  elseif t == "array" then
    format_list(item, identifier, out)
  else
    out[#out + 1] = str(item) .. "\n"
  end
end

--- The text of a document (every line ends with "\n").
function M.format(doc)
  local out = {}
  format_text(doc == nil and NULL or doc, out)
  return concat(out)
end

return M
