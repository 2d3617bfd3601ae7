-- aws_connect.validate: checks of parameter values against the Connect
-- model's constraints, shared by every operation. Each check raises a
-- ValidationError naming the field; nothing here touches the network.
--
-- Lengths count Unicode code points (the model's "length" is in
-- characters), so strings must be valid UTF-8 first. Works on Lua 5.1+
-- and LuaJIT (no utf8 library).

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")

local M = {}

local function fail(field, msg)
  errors.validation(field, field .. " " .. msg)
end

--- Number of code points in a valid UTF-8 string.
function M.ulen(s)
  if not s:find("[\128-\255]") then return #s end  -- ASCII: one byte, one character
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- Decodes the code point starting at byte i of a valid UTF-8 string;
-- returns it and the index after it.
local function decode(s, i)
  local c = s:byte(i)
  if c < 0x80 then return c, i + 1 end
  if c < 0xE0 then return (c - 0xC0) * 64 + (s:byte(i + 1) - 0x80), i + 2 end
  if c < 0xF0 then
    return ((c - 0xE0) * 64 + (s:byte(i + 1) - 0x80)) * 64 + (s:byte(i + 2) - 0x80), i + 3
  end
  return (((c - 0xF0) * 64 + (s:byte(i + 1) - 0x80)) * 64 + (s:byte(i + 2) - 0x80)) * 64
    + (s:byte(i + 3) - 0x80), i + 4
end
M.decode = decode

-- Unicode separators (\p{Z}) outside ASCII.
local SPACE = {
  [0xA0] = true, [0x1680] = true, [0x2028] = true, [0x2029] = true,
  [0x202F] = true, [0x205F] = true, [0x3000] = true,
}

-- Approximation of \p{L} and \p{N} for code points above U+007F: every code
-- point counts as a letter or number except the blocks that hold symbols,
-- punctuation, marks, controls and private use. Exact tables would cost
-- hundreds of KiB; the service re-checks anyway.
local NOT_LN = {
  { 0x80, 0xA9 }, { 0xAB, 0xB1 }, { 0xB4, 0xB4 }, { 0xB6, 0xB8 }, { 0xBB, 0xBB }, { 0xBF, 0xBF },
  { 0xD7, 0xD7 }, { 0xF7, 0xF7 },
  { 0x02C2, 0x02C5 }, { 0x02D2, 0x02DF }, { 0x02E5, 0x02EB }, { 0x02ED, 0x02ED },
  { 0x02EF, 0x036F },                  -- modifier symbols, combining marks
  { 0x0483, 0x0489 }, { 0x0591, 0x05C7 }, { 0x0610, 0x061A }, { 0x064B, 0x065F },
  { 0x2000, 0x206F },                  -- general punctuation
  { 0x20A0, 0x20FF },                  -- currency, combining marks for symbols
  { 0x2100, 0x2101 }, { 0x2103, 0x2106 }, { 0x2108, 0x2109 }, { 0x2114, 0x2114 },
  { 0x2116, 0x2118 }, { 0x211E, 0x2123 }, { 0x2125, 0x2125 }, { 0x2127, 0x2127 },
  { 0x2129, 0x2129 }, { 0x212E, 0x212E }, { 0x213A, 0x213B }, { 0x2140, 0x2144 },
  { 0x214A, 0x214D }, { 0x214F, 0x214F },
  { 0x2190, 0x245F },                  -- arrows, math, technical, control pictures
  { 0x2500, 0x2775 }, { 0x2794, 0x2BFF }, -- box drawing, shapes, dingbats, symbols
  { 0x2E00, 0x2E7F },                  -- supplemental punctuation
  { 0x2FF0, 0x2FFF }, { 0x3001, 0x3004 }, { 0x3008, 0x3020 }, { 0x3030, 0x3030 },
  { 0x303D, 0x303F }, { 0x3099, 0x309C }, { 0x30A0, 0x30A0 }, { 0x30FB, 0x30FB },
  { 0xD800, 0xF8FF },                  -- surrogates, private use
  { 0xFE00, 0xFE6F },                  -- variation selectors, small forms
  { 0xFF01, 0xFF0F }, { 0xFF1A, 0xFF20 }, { 0xFF3B, 0xFF40 }, { 0xFF5B, 0xFF65 },
  { 0xFFF0, 0xFFFF },
  { 0x1D000, 0x1D24F }, { 0x1F000, 0x1FAFF }, -- musical symbols, emoji
  { 0xE0000, 0x10FFFF },               -- tags, private use planes
}

local function letter_or_number(cp)
  if cp < 0x80 then
    return (cp >= 48 and cp <= 57) or (cp >= 65 and cp <= 90) or (cp >= 97 and cp <= 122)
  end
  for i = 1, #NOT_LN do
    local r = NOT_LN[i]
    if cp >= r[1] and cp <= r[2] then return false end
  end
  return true
end

local TAG_ASCII = {}
for c in ("_.:/=+-@ "):gmatch(".") do TAG_ASCII[c:byte()] = true end

--- True when every character of the valid UTF-8 string s matches
--- [\p{L}\p{Z}\p{N}_.:/=+\-@] (approximately, see NOT_LN).
function M.tag_chars_ok(s)
  local i, n = 1, #s
  while i <= n do
    local cp
    cp, i = decode(s, i)
    if not (TAG_ASCII[cp] or SPACE[cp] or (cp >= 0x2000 and cp <= 0x200A) or letter_or_number(cp)) then
      return false, cp
    end
  end
  return true
end

--- A string field: type, UTF-8, length in code points, optional pattern.
function M.string(field, v, min, max)
  if type(v) ~= "string" then fail(field, "must be a string, got " .. type(v)) end
  if not core.utf8_valid(v) then fail(field, "must be valid UTF-8 text") end
  local n = M.ulen(v)
  if min and n < min then
    fail(field, ("must be at least %d character%s long, got %d"):format(min, min == 1 and "" or "s", n))
  end
  if max and n > max then fail(field, ("must be at most %d characters long, got %d"):format(max, n)) end
  return v
end

function M.boolean(field, v)
  if type(v) ~= "boolean" then fail(field, "must be a boolean (true or false), got " .. type(v)) end
  return v
end

function M.enum(field, v, values)
  if type(v) ~= "string" then fail(field, "must be a string, got " .. type(v)) end
  for _, x in ipairs(values) do if v == x then return v end end
  fail(field, ("must be one of %s, got %q"):format(table.concat(values, ", "), v))
end

function M.integer(field, v, min, max)
  if type(v) ~= "number" or v ~= math.floor(v) then fail(field, "must be an integer") end
  if (min and v < min) or (max and v > max) then
    fail(field, ("must be between %d and %d, got %s"):format(min, max, tostring(v)))
  end
  return v
end

--- InstanceAlias: ^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$, 1-45.
function M.instance_alias(field, v)
  M.string(field, v, 1, 45)
  if not v:find("^[%da-zA-Z][%-%da-zA-Z]*$") or v:sub(-1) == "-" then
    fail(field, "must contain only letters, digits and hyphens, start and end with a letter or digit")
  end
  if v:sub(1, 2) == "d-" then fail(field, "must not start with 'd-' (that prefix is for directory ids)") end
  return v
end

--- DirectoryId: ^d-[0-9a-f]{10}$.
function M.directory_id(field, v)
  M.string(field, v, 12, 12)
  if not v:find("^d%-[0-9a-f]+$") then fail(field, "must look like d-0123456789 (d- and 10 lower-case hex digits)") end
  return v
end

local function quote_key(k)
  return ("%q"):format(k):gsub("\\\n", "\\n")
end

--- Tags: map of 1-50 entries; keys 1-128 characters of letters, numbers,
--- separators and _.:/=+-@, not starting with aws:; values at most 256.
function M.tags(field, v)
  if type(v) ~= "table" then fail(field, "must be a table of key = value strings, got " .. type(v)) end
  local count = 0
  for k, val in pairs(v) do
    count = count + 1
    if type(k) ~= "string" then
      fail(field, "keys must be strings, got a " .. type(k) .. " key")
    end
    local kf = field .. "[" .. quote_key(k) .. "]"
    if not core.utf8_valid(k) then fail(kf, "key must be valid UTF-8 text") end
    local n = M.ulen(k)
    if n < 1 or n > 128 then fail(kf, ("key must be 1 to 128 characters long, got %d"):format(n)) end
    if k:sub(1, 4) == "aws:" then fail(kf, "key must not start with 'aws:' (reserved for AWS)") end
    local ok, cp = true, nil
    if k:find("[^%w_.:/=+%-@ ]") then ok, cp = M.tag_chars_ok(k) end  -- plain ASCII keys pass at once
    if not ok then
      fail(kf, ("key may contain only letters, numbers, spaces and _ . : / = + - @ (found U+%04X)"):format(cp))
    end
    if type(val) ~= "string" then fail(kf, "value must be a string, got " .. type(val)) end
    M.string(kf, val, 0, 256)
  end
  if count < 1 or count > 50 then fail(field, ("must have 1 to 50 entries, got %d"):format(count)) end
  return v
end

--- Levenshtein distance, for "did you mean" suggestions.
function M.distance(a, b)
  a, b = a:lower(), b:lower()
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- member list -> { [snake or AWS name] = member }, built once per list
local lookup = setmetatable({}, { __mode = "k" })

--- Maps user parameters onto the member list of an operation: both the
--- snake_case name and the AWS member name are accepted; both at once, an
--- unknown key or a missing required member raise. Returns a table keyed
--- by snake_case name.
function M.members(params, members, what)
  if params == nil then params = {} end
  if type(params) ~= "table" then
    errors.validation("params", what .. " expects a table of parameters, got " .. type(params))
  end
  local out = {}
  local by_name = lookup[members]
  if not by_name then
    by_name = {}
    for _, m in ipairs(members) do
      by_name[m.name] = m
      by_name[m.aws] = m
    end
    lookup[members] = by_name
  end
  for k in pairs(params) do
    local m = type(k) == "string" and by_name[k]
    if not m then
      local best, bestd
      if type(k) == "string" then
        for _, mm in ipairs(members) do
          for _, cand in ipairs({ mm.name, mm.aws }) do
            local d = M.distance(k, cand)
            if not bestd or d < bestd then best, bestd = mm.name, d end
          end
        end
      end
      local msg = ("unknown parameter %s for %s"):format(type(k) == "string" and ("'" .. k .. "'") or tostring(k), what)
      if best and bestd <= math.max(2, math.floor(#k / 3)) then
        msg = msg .. ("; did you mean '%s'?"):format(best)
      else
        local names = {}
        for _, mm in ipairs(members) do names[#names + 1] = mm.name end
        msg = msg .. "; known parameters: " .. table.concat(names, ", ")
      end
      errors.validation(tostring(k), msg)
    end
  end
  for _, m in ipairs(members) do
    local a, b = params[m.name], params[m.aws]
    if a ~= nil and b ~= nil and m.name ~= m.aws then
      errors.validation(m.name, ("%s and %s are the same parameter; give only one"):format(m.name, m.aws))
    end
    local v = a
    if v == nil then v = b end
    if v == nil then
      if m.required then errors.validation(m.name, m.name .. " is required") end
    else
      out[m.name] = m.check(m.name, v)
    end
  end
  return out
end

return M
