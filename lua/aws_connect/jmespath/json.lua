-- aws_connect.jmespath.json: JSON text as python's json module reads and writes it.
--
-- decode() reads a JSON literal (`...` in an expression) like json.loads:
-- integers stay integers and 1.0 stays a float (Lua 5.3+), NaN/Infinity are
-- accepted, objects remember their key order, nesting is bounded. encode()
-- writes what to_string() returns, like json.dumps(v, separators=(",", ":")):
-- ASCII only (\uXXXX escapes, lower-case hex), floats as python's repr.
-- Every scan is linear: find() jumps between the bytes that matter.

local values = require("aws_connect.jmespath.values")

local M = {}

local byte, char, sub, find, gsub, format, rep = string.byte, string.char, string.sub, string.find,
  string.gsub, string.format, string.rep
local concat = table.concat
local tonumber, rawget, error, pcall = tonumber, rawget, error, pcall
local floor, huge = math.floor, math.huge
local HAS_INTEGERS = math.type ~= nil  -- luacheck: ignore 143 (Lua 5.3+)

local NULL, jtype, is_integer = values.NULL, values.jtype, values.is_integer
local new_array, new_object = values.new_array, values.new_object

M.MAX_DEPTH = 256

-- ---- UTF-8 ------------------------------------------------------------------

-- Code point -> UTF-8 (lone surrogates as their 3-byte form, as python keeps them).
local function utf8_char(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64, 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
end
M.utf8_char = utf8_char

-- ---- decode -----------------------------------------------------------------

local DECODE_FAIL = {}   -- marker: the text is not JSON
local TOO_DEEP = {}      -- marker: JSON nested deeper than MAX_DEPTH

local function bad() error(DECODE_FAIL, 0) end

local SIMPLE_ESCAPES = {
  [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n", [114] = "\r", [116] = "\t",
}

local function skip_ws(s, i)
  return find(s, "[^ \t\n\r]", i) or #s + 1
end

local function hex4(s, i)
  local h = sub(s, i, i + 3)
  if not find(h, "^%x%x%x%x$") then bad() end
  return tonumber(h, 16)
end

-- s[i] is the opening quote; returns the string and the index after the closing one.
local function parse_string(s, i)
  local buf, nb = nil, 0
  local start, scan = i + 1, i + 1
  while true do
    local j = find(s, '[%c"\\]', scan)
    if not j then bad() end
    local c = byte(s, j)
    if c == 34 then
      local piece = sub(s, start, j - 1)
      if not buf then return piece, j + 1 end
      buf[nb + 1] = piece
      return concat(buf, "", 1, nb + 1), j + 1
    elseif c == 92 then
      buf = buf or {}
      nb = nb + 1
      buf[nb] = sub(s, start, j - 1)
      local e = byte(s, j + 1)
      local simple = SIMPLE_ESCAPES[e]
      if simple then
        nb = nb + 1
        buf[nb] = simple
        scan = j + 2
      elseif e == 117 then  -- \uXXXX, a surrogate pair joined
        local cp = hex4(s, j + 2)
        scan = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and sub(s, scan, scan + 1) == "\\u" then
          local lo = hex4(s, scan + 2)
          if lo >= 0xDC00 and lo <= 0xDFFF then
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
            scan = scan + 6
          end
        end
        nb = nb + 1
        buf[nb] = utf8_char(cp)
      else
        bad()
      end
      start = scan
    elseif c == 127 then
      scan = j + 1  -- DEL is not a control character to JSON
    else
      bad()         -- raw control characters are refused (python's strict mode)
    end
  end
end

local parse_value

local function parse_number(s, i)
  local j = i
  if byte(s, j) == 45 then j = j + 1 end
  local c = byte(s, j)
  if c == 48 then
    j = j + 1
  elseif c and c >= 49 and c <= 57 then
    local _, e = find(s, "^%d*", j + 1)
    j = e + 1
  else
    bad()
  end
  local is_float = false
  if byte(s, j) == 46 then
    local _, e = find(s, "^%d+", j + 1)
    if e then is_float, j = true, e + 1 end
  end
  c = byte(s, j)
  if c == 101 or c == 69 then
    local _, e = find(s, "^[-+]?%d+", j + 1)
    if e then is_float, j = true, e + 1 end
  end
  local v = tonumber(sub(s, i, j - 1))
  if is_float then v = v * 1.0 end  -- a float on 5.3+ (and -0.0 stays -0.0)
  return v, j
end

local function parse_array(s, i, depth)
  if depth > M.MAX_DEPTH then error(TOO_DEEP, 0) end
  local out, n = new_array({}), 0
  i = skip_ws(s, i + 1)
  if byte(s, i) == 93 then return out, i + 1 end
  while true do
    local v
    v, i = parse_value(s, i, depth)
    n = n + 1
    out[n] = v
    i = skip_ws(s, i)
    local c = byte(s, i)
    if c == 93 then return out, i + 1 end
    if c ~= 44 then bad() end
    i = skip_ws(s, i + 1)
  end
end

local function parse_object(s, i, depth)
  if depth > M.MAX_DEPTH then error(TOO_DEEP, 0) end
  local order, n = {}, 0
  local out = new_object({}, order)
  i = skip_ws(s, i + 1)
  if byte(s, i) == 125 then return out, i + 1 end
  while true do
    if byte(s, i) ~= 34 then bad() end
    local k, v
    k, i = parse_string(s, i)
    i = skip_ws(s, i)
    if byte(s, i) ~= 58 then bad() end
    i = skip_ws(s, i + 1)
    v, i = parse_value(s, i, depth)
    if out[k] == nil then
      n = n + 1
      order[n] = k
    end
    out[k] = v
    i = skip_ws(s, i)
    local c = byte(s, i)
    if c == 125 then return out, i + 1 end
    if c ~= 44 then bad() end
    i = skip_ws(s, i + 1)
  end
end

parse_value = function(s, i, depth)
  local c = byte(s, i)
  if c == 34 then return parse_string(s, i) end
  if c == 123 then return parse_object(s, i, depth + 1) end
  if c == 91 then return parse_array(s, i, depth + 1) end
  if c == 110 and sub(s, i, i + 3) == "null" then return NULL, i + 4 end
  if c == 116 and sub(s, i, i + 3) == "true" then return true, i + 4 end
  if c == 102 and sub(s, i, i + 4) == "false" then return false, i + 5 end
  if c == 45 or (c and c >= 48 and c <= 57) then
    local d = byte(s, c == 45 and i + 1 or i)
    if d and d >= 48 and d <= 57 then return parse_number(s, i) end
  end
  if c == 78 and sub(s, i, i + 2) == "NaN" then return 0 / 0, i + 3 end
  if c == 73 and sub(s, i, i + 7) == "Infinity" then return huge, i + 8 end
  if c == 45 and sub(s, i, i + 8) == "-Infinity" then return -huge, i + 9 end
  bad()
end

local function decode_all(s)
  local i = skip_ws(s, 1)
  local v
  v, i = parse_value(s, i, 0)
  if skip_ws(s, i) <= #s then bad() end
  return v
end

--- Reads JSON text. Returns the value, or nil and "invalid" / "too-deep".
function M.decode(s)
  local ok, v = pcall(decode_all, s)
  if ok then return v end
  if v == DECODE_FAIL then return nil, "invalid" end
  if v == TOO_DEEP then return nil, "too-deep" end
  error(v, 0)
end

-- ---- encode -----------------------------------------------------------------

-- python's repr of a float: the shortest digits that read back, fixed
-- notation for exponents -4..15, else d.ddde+XX.
local function float_repr(x)
  if x ~= x then return "NaN" end
  if x == huge then return "Infinity" end
  if x == -huge then return "-Infinity" end
  if x == 0 then return (1 / x < 0) and "-0.0" or "0.0" end
  -- 15 significant digits always read back when they suffice (and are then
  -- the shortest, zero-padded); subnormals carry fewer digits: search from 1
  local e
  local from = (x < 2.2250738585072014e-308 and x > -2.2250738585072014e-308) and 1 or 15
  for prec = from, 17 do
    e = format("%." .. (prec - 1) .. "e", x)
    if tonumber(e) == x then break end
  end
  local sign, d1, rest, ex = e:match("^(%-?)(%d)%.?(%d*)[eE]([-+]%d+)$")
  local digits = gsub(d1 .. rest, "0+$", "")
  if digits == "" then digits = "0" end
  local exp = tonumber(ex)
  local decpt, nd = exp + 1, #digits
  local r
  if exp >= -4 and exp < 16 then
    if decpt <= 0 then
      r = "0." .. rep("0", -decpt) .. digits
    elseif decpt >= nd then
      r = digits .. rep("0", decpt - nd) .. ".0"
    else
      r = sub(digits, 1, decpt) .. "." .. sub(digits, decpt + 1)
    end
  else
    r = sub(digits, 1, 1) .. (nd > 1 and ("." .. sub(digits, 2)) or "") .. "e" ..
      (exp < 0 and "-" or "+") .. format("%02d", exp < 0 and -exp or exp)
  end
  return sign .. r
end

--- A number as python prints it: integers as digits, floats as repr.
function M.number_text(x)
  if is_integer(x) then
    if HAS_INTEGERS then return format("%d", x) end
    if x == 0 then return "0" end
    return format("%.0f", x)
  end
  return float_repr(x)
end
local number_text = M.number_text

local ESCAPE_OUT = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }

local function escape_ascii(c)
  local e = ESCAPE_OUT[c]
  if e then return e end
  local b = byte(c)
  if b == 127 then return c end
  return format("\\u%04x", b)
end

local function escape_byte(c) return format("\\u%04x", byte(c)) end

-- one UTF-8 sequence -> \uXXXX (a surrogate pair above U+FFFF)
local function escape_seq(seq)
  local n, b = #seq, byte(seq, 1)
  local want, cp
  if b >= 0xF0 then want, cp = 4, b % 8
  elseif b >= 0xE0 then want, cp = 3, b % 16
  else want, cp = 2, b % 32 end
  if n ~= want then return (gsub(seq, ".", escape_byte)) end
  for k = 2, n do cp = cp * 64 + byte(seq, k) % 64 end
  if cp >= 0x10000 then
    cp = cp - 0x10000
    return format("\\u%04x\\u%04x", 0xD800 + floor(cp / 0x400), 0xDC00 + cp % 0x400)
  end
  return format("\\u%04x", cp)
end

local function encode_string(s)
  if find(s, '[%c"\\\128-\255]') then
    s = gsub(s, '[%c"\\]', escape_ascii)
    if find(s, "[\128-\255]") then
      s = gsub(s, "[\192-\255][\128-\191]*", escape_seq)
      s = gsub(s, "[\128-\255]", escape_byte)
    end
  end
  return '"' .. s .. '"'
end
M.encode_string = encode_string

local function encode_into(v, buf, n, depth)
  if depth > values.MAX_DATA_DEPTH then values.fail("invalid-value", "value nested too deeply to convert to a string") end
  local t = jtype(v)
  if t == "string" then
    n = n + 1; buf[n] = encode_string(v)
  elseif t == "number" then
    n = n + 1; buf[n] = number_text(v)
  elseif t == "boolean" then
    n = n + 1; buf[n] = v and "true" or "false"
  elseif t == "null" then
    n = n + 1; buf[n] = "null"
  elseif t == "array" then
    n = n + 1; buf[n] = "["
    for i = 1, values.len(v) do
      if i > 1 then n = n + 1; buf[n] = "," end
      local x = rawget(v, i)
      if x == nil then x = NULL end
      n = encode_into(x, buf, n, depth + 1)
    end
    n = n + 1; buf[n] = "]"
  elseif t == "object" then
    n = n + 1; buf[n] = "{"
    local keys, nk = values.keys(v)
    for i = 1, nk do
      if i > 1 then n = n + 1; buf[n] = "," end
      n = n + 1; buf[n] = encode_string(keys[i])
      n = n + 1; buf[n] = ":"
      n = encode_into(rawget(v, keys[i]), buf, n, depth + 1)
    end
    n = n + 1; buf[n] = "}"
  else  -- an expression reference: python writes str() of the object
    n = n + 1; buf[n] = '"<jmespath expression>"'
  end
  return n
end

--- JSON text of a value, compact, as json.dumps(v, separators=(",", ":")).
function M.encode(v)
  local buf = {}
  local n = encode_into(v, buf, 0, 1)
  return concat(buf, "", 1, n)
end

return M
