-- aws_connect.cli.format.json: JSON text as the AWS CLI writes it, python's
-- json.dump(v, indent=4, ensure_ascii=False): ", " / ": " separators (","
-- at line ends), [] and {} for empty containers, integers as digits,
-- floats as python's repr, NaN/Infinity spelled as python does. Strings
-- keep UTF-8 as is; control characters are escaped as python does, and so
-- (beyond python, for terminals) are DEL and the C1 controls U+0080-U+009F.
-- ascii = true escapes everything outside ASCII (json.dumps' default).

local values = require("aws_connect.jmespath.values")
local jjson = require("aws_connect.jmespath.json")

local M = {}

local jtype, keys, NULL = values.jtype, values.keys, values.NULL
local number_text = jjson.number_text
local concat, rep, format, byte = table.concat, string.rep, string.format, string.byte

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }

local function esc_c0(c)
  return ESC[c] or format("\\u%04x", byte(c))
end

local function esc_c1(seq)
  return format("\\u%04x", byte(seq, 2))   -- \194\128-\194\159 is U+0080-U+009F
end

--- A JSON string literal (ensure_ascii=False, plus DEL and C1 escaped).
function M.string(s)
  if s:find('[%c"\\\127\194]') then
    s = s:gsub('[%c"\\\127]', esc_c0):gsub("\194[\128-\159]", esc_c1)
  end
  return '"' .. s .. '"'
end

local string_lit = M.string

local function write(v, buf, n, indent, level, ascii)
  local t = jtype(v)
  if t == "string" then
    n = n + 1; buf[n] = ascii and jjson.encode_string(v) or string_lit(v)
  elseif t == "number" then
    n = n + 1; buf[n] = number_text(v)
  elseif t == "boolean" then
    n = n + 1; buf[n] = v and "true" or "false"
  elseif t == "null" then
    n = n + 1; buf[n] = "null"
  elseif t == "array" then
    local len = values.len(v)
    if len == 0 then n = n + 1; buf[n] = "[]"; return n end
    local pad = "\n" .. rep(" ", indent * (level + 1))
    n = n + 1; buf[n] = "["
    for i = 1, len do
      n = n + 1; buf[n] = i > 1 and ("," .. pad) or pad
      local x = v[i]
      if x == nil then x = NULL end
      n = write(x, buf, n, indent, level + 1, ascii)
    end
    n = n + 1; buf[n] = "\n" .. rep(" ", indent * level) .. "]"
  elseif t == "object" then
    local ks, nk = keys(v)
    if nk == 0 then n = n + 1; buf[n] = "{}"; return n end
    local pad = "\n" .. rep(" ", indent * (level + 1))
    n = n + 1; buf[n] = "{"
    for i = 1, nk do
      n = n + 1; buf[n] = i > 1 and ("," .. pad) or pad
      n = n + 1; buf[n] = ascii and jjson.encode_string(ks[i]) or string_lit(ks[i])
      n = n + 1; buf[n] = ": "
      n = write(v[ks[i]], buf, n, indent, level + 1, ascii)
    end
    n = n + 1; buf[n] = "\n" .. rep(" ", indent * level) .. "}"
  else
    n = n + 1; buf[n] = '"<jmespath expression>"'
  end
  return n
end

--- The indented text (no final newline). opts.ascii: ensure_ascii=True.
function M.encode(v, opts)
  local buf = {}
  local n = write(v, buf, 0, 4, 0, opts and opts.ascii)
  return concat(buf, "", 1, n)
end

--- Compact text as json.dumps(v) writes it (", " and ": ", ASCII): the
--- pagination tokens.
function M.compact(v)
  local t = jtype(v)
  if t == "object" then
    local ks, nk = keys(v)
    local parts = {}
    for i = 1, nk do parts[i] = jjson.encode_string(ks[i]) .. ": " .. M.compact(v[ks[i]]) end
    return "{" .. concat(parts, ", ") .. "}"
  elseif t == "array" then
    local parts = {}
    for i = 1, values.len(v) do parts[i] = M.compact(v[i] == nil and NULL or v[i]) end
    return "[" .. concat(parts, ", ") .. "]"
  elseif t == "string" then
    return jjson.encode_string(v)
  elseif t == "number" then
    return number_text(v)
  elseif t == "boolean" then
    return v and "true" or "false"
  end
  return "null"
end

return M
