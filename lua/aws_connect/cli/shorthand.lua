-- aws_connect.cli.shorthand: the AWS CLI's shorthand syntax for structure,
-- map and list-of-structure values (awscli/shorthand.py), e.g.
--   --tags team=ops,env=prod      --routing-profile Name=x,Channels=[VOICE,CHAT]
--   Key=a,Values=b,c   (b,c is a list)   Foo={A=1,B=[x,y]}   'quoted, value'
-- parse(text) gives the python parser's result (ordered objects; every
-- scalar a string); visit(value, shape) applies its back-compat visitor:
-- numbers and booleans typed by the shape, a scalar where the shape wants
-- a list wrapped in one. Errors are ValidationErrors whose message says
-- what was expected, what came and where (one line).
--
-- Positions are code points (python indexes str); work is linear in the
-- text (the quoted-string rule is matched with a memo).

local errors = require("aws_connect.errors")
local values = require("aws_connect.jmespath.values")

local M = {}

local new_object, new_array, jtype = values.new_object, values.new_array, values.jtype

-- text -> array of one-code-point strings and their code points
local function explode(s)
  local chars, cps, i, n = {}, {}, 1, #s
  while i <= n do
    local b = s:byte(i)
    local size = b < 0x80 and 1 or b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 1
    local cp = size == 1 and b or (size == 2 and b % 32 or size == 3 and b % 16 or b % 8)
    for j = i + 1, i + size - 1 do cp = cp * 64 + (s:byte(j) or 128) % 64 end
    chars[#chars + 1] = s:sub(i, i + size - 1)
    cps[#cps + 1] = cp
    i = i + size
  end
  return chars, cps
end

local function in_ranges(cp, ranges)
  for i = 1, #ranges, 2 do
    if cp >= ranges[i] and cp <= ranges[i + 1] then return true end
  end
  return false
end

local WS = { [9] = true, [10] = true, [11] = true, [12] = true, [13] = true, [32] = true }
-- the character classes of shorthand.py (\s is only ASCII blanks here)
local START = { 0x21, 0x21, 0x23, 0x26, 0x28, 0x2B, 0x2D, 0x3C, 0x3E, 0x5A, 0x5C, 0x7A, 0x7C, 0xFFFF }
local FIRST_FOLLOW = { 0x21, 0x21, 0x23, 0x26, 0x28, 0x2B, 0x2D, 0x5C, 0x5E, 0x7C, 0x7E, 0xFFFF }
local SECOND_FOLLOW = { 0x21, 0x21, 0x23, 0x26, 0x28, 0x2B, 0x2D, 0x3C, 0x3E, 0xFFFF }
local KEY_CHARS = "[%w%-_%.#/:]"

local P = {}
P.__index = P

local function syntax_error(self, expected, actual)
  local shown = self.text
  if #shown > 200 then shown = shown:sub(1, 200) .. "..." end
  local e = errors.new("ValidationError", ("Expected: '%s', received: '%s' for input: %s (at character %d)"):format(
    expected, actual, shown, self.i))
  e.shorthand = true
  error(e, 0)
end

function P:cur() return self.chars[self.i] end          -- nil at EOF
function P:eof() return self.i > self.n end

function P:ws()
  while self.i <= self.n and WS[self.cps[self.i]] do self.i = self.i + 1 end
end

function P:expect(c, ws)
  if ws then self:ws() end
  if self.i > self.n then syntax_error(self, c, "EOF") end
  local a = self.chars[self.i]
  if a ~= c then syntax_error(self, c, a) end
  self.i = self.i + 1
  if ws then self:ws() end
end

local function rstrip(s)
  local e = #s
  while e > 0 and WS[s:byte(e)] do e = e - 1 end
  return s:sub(1, e)
end

-- (\\,|[first])(\\,|[follow])* from i; returns the end index (exclusive) or nil
function P:word(follow)
  local i, chars, cps = self.i, self.chars, self.cps
  local function unit(cls)
    if chars[i] == "\\" and chars[i + 1] == "," then return 2 end
    local cp = cps[i]
    if cp and in_ranges(cp, cls) then return 1 end
    return nil
  end
  local k = unit(START)
  if not k then return nil end
  i = i + k
  while i <= self.n do
    k = unit(follow)
    if not k then break end
    i = i + k
  end
  return i
end

function P:take(to)
  local s = table.concat(self.chars, "", self.i, to - 1)
  self.i = to
  return s
end

function P:value()
  local to = self:word(FIRST_FOLLOW)
  if not to then return "" end
  return rstrip((self:take(to):gsub("\\,", ",")))
end

-- '(?:\\\\|\\'|[^'])*' (or with ") as python's backtracking matcher finds it
function P:quoted(q)
  local chars, n, start = self.chars, self.n, self.i
  local memo = {}
  local function from(i)
    local m = memo[i]
    if m ~= nil then return m or nil end
    local r
    if chars[i] == "\\" and chars[i + 1] == "\\" then r = from(i + 2) end
    if not r and chars[i] == "\\" and chars[i + 1] == q then r = from(i + 2) end
    if not r and i <= n and chars[i] ~= q then r = from(i + 1) end
    if not r and chars[i] == q then r = i end
    memo[i] = r or false
    return r
  end
  local close = chars[start] == q and from(start + 1)
  if not close then syntax_error(self, q == "'" and "<singled quoted>" or "<double quoted>", "<none>") end
  local inner = table.concat(chars, "", start + 1, close - 1)
  self.i = close + 1
  inner = inner:gsub("\\" .. q, q):gsub("\\\\", "\\")
  return inner
end

function P:first_value()
  local c = self:cur()
  if c == "'" or c == '"' then return self:quoted(c) end
  return self:value()
end

function P:second_value()
  local c = self:cur()
  if c == "'" or c == '"' then return self:quoted(c) end
  local to = self:word(SECOND_FOLLOW)
  if not to then syntax_error(self, "<second>", "<none>") end
  return rstrip((self:take(to):gsub("\\,", ",")))
end

function P:key()
  local start = self.i
  while self.i <= self.n and self.chars[self.i]:find("^" .. KEY_CHARS .. "$") do self.i = self.i + 1 end
  return table.concat(self.chars, "", start, self.i - 1)
end

function P:csv_value()
  local first = self:first_value()
  self:ws()
  if self:eof() or self:cur() ~= "," then return first end
  self:expect(",", true)
  local list = { first }
  while true do
    local ok, err = pcall(function()
      local current = self:second_value()
      self:ws()
      if self:eof() then
        list[#list + 1] = current
        return true
      end
      self:expect(",", true)
      list[#list + 1] = current
      return false
    end)
    if ok then
      if err then break end
    else
      if not (errors.is_error(err) and err.shorthand) or self:eof() then error(err, 0) end
      while self.i >= 1 and self.chars[self.i] ~= "," do self.i = self.i - 1 end   -- back to the comma
      break
    end
  end
  if #list == 1 then return first end
  return new_array(list)
end

local explicit_values

function P:explicit_list()
  self:expect("[", true)
  local list = {}
  while self:cur() ~= "]" do
    list[#list + 1] = explicit_values(self)
    self:ws()
    if self:cur() ~= "]" then
      self:expect(",")
      self:ws()
    end
  end
  self:expect("]")
  return new_array(list)
end

function P:hash_literal()
  self:expect("{", true)
  local obj, order = {}, {}
  while self:cur() ~= "}" do
    local k = self:key()
    self:expect("=", true)
    local v = explicit_values(self)
    self:ws()
    if self:cur() ~= "}" then
      self:expect(",")
      self:ws()
    end
    if obj[k] == nil then order[#order + 1] = k end
    obj[k] = v
  end
  self:expect("}")
  return new_object(obj, order)
end

explicit_values = function(self)
  local c = self:cur()
  if c == "[" then return self:explicit_list() end
  if c == "{" then return self:hash_literal() end
  return self:first_value()
end

function P:values()
  if self:eof() then return "" end
  local c = self:cur()
  if c == "[" then return self:explicit_list() end
  if c == "{" then return self:hash_literal() end
  return self:csv_value()
end

function P:parameter()
  local obj, order = {}, {}
  local k = self:key()
  self:expect("=", true)
  obj[k] = self:values()
  order[1] = k
  local last = self.i
  while self.i <= self.n do
    self:expect(",", true)
    k = self:key()
    self:expect("=", true)
    local v = self:values()
    if obj[k] ~= nil then
      errors.raise("ValidationError", ('Second instance of key "%s" encountered for input: %s (at character %d); '
        .. 'this is often because there is a preceding "," instead of a space'):format(k, self.text, last + 1))
    end
    obj[k] = v
    order[#order + 1] = k
    last = self.i
  end
  return new_object(obj, order)
end

--- The parsed value of shorthand text (an ordered object).
function M.parse(text)
  local chars, cps = explode(text)
  local p = setmetatable({ text = text, chars = chars, cps = cps, i = 1, n = #chars }, P)
  return p:parameter()
end

-- The back-compat visitor ------------------------------------------------------------

local function py_int(s)
  return require("aws_connect.cli.values").py_int(s)
end

local visit

local function visit_scalar(parent, key, shape, v)
  if v == nil or type(v) ~= "string" then return end
  local t = shape.type
  if t == "integer" or t == "long" then
    parent[key] = py_int(v)
  elseif t == "float" or t == "double" then
    parent[key] = require("aws_connect.cli.values").py_float(v)
  elseif t == "boolean" then
    local l = v:lower()
    if l == "true" then parent[key] = true elseif l == "false" then parent[key] = false end
  end
end

visit = function(parent, key, shape, v)
  local t = shape.type
  if t == "structure" then
    if jtype(v) ~= "object" or v == values.NULL then return end
    for _, m in ipairs(shape.members) do
      if v[m.name] ~= nil then visit(v, m.name, m.shape, v[m.name]) end
    end
  elseif t == "list" then
    if jtype(v) ~= "array" then
      if v ~= nil then parent[key] = new_array({ v }) end
    else
      for i = 1, values.len(v) do visit(v, i, shape.member, v[i]) end
    end
  elseif t == "map" then
    if jtype(v) ~= "object" then return end
    local ks, n = values.keys(v)
    for i = 1, n do visit(v, ks[i], shape.value, v[ks[i]]) end
  else
    visit_scalar(parent, key, shape, v)
  end
end

--- Applies the back-compat visitor to a parsed value of shape (in place);
--- returns the value.
function M.visit(value, shape)
  local box = { value }
  visit(box, 1, shape, value)
  return box[1]
end

return M
