-- aws_connect.cli.format.table: --output table as the AWS CLI draws it
-- (awscli/formatter.py TableFormatter, awscli/table.py MultiTable): one
-- section per dict (a single scalar key as a two-cell row, several as a
-- header row and a value row, keys sorted), one per list of dicts (the
-- union of their scalar keys), nested values in indented sections below;
-- columns scaled to the widest section; sections wider than the terminal
-- (80 columns when stdout is no terminal) turned vertical. Widths count
-- East Asian wide, full-width and ambiguous characters as two columns.
-- Cells go through the text formatter's str() (control characters
-- replaced: no escape sequence from a server reaches the terminal).

local values = require("aws_connect.jmespath.values")
local text = require("aws_connect.cli.format.text")

local M = {}

local jtype, keys = values.jtype, values.keys
local floor, concat, rep = math.floor, table.concat, string.rep

local wide
local function is_wide(cp)
  if cp < 0xA1 then return false end
  wide = wide or require("aws_connect.cli.widths")
  local lo, hi = 1, #wide / 2
  while lo <= hi do
    local mid = floor((lo + hi) / 2)
    if cp < wide[2 * mid - 1] then hi = mid - 1
    elseif cp > wide[2 * mid] then lo = mid + 1
    else return true end
  end
  return false
end

--- Display width (awscli get_text_length).
function M.width(s)
  if not s:find("[\128-\255]") then return #s end
  local n, i, len = 0, 1, #s
  while i <= len do
    local b = s:byte(i)
    local cp, size
    if b < 0x80 then cp, size = b, 1
    elseif b >= 0xF0 then cp, size = b % 8, 4
    elseif b >= 0xE0 then cp, size = b % 16, 3
    elseif b >= 0xC0 then cp, size = b % 32, 2
    else cp, size = b, 1 end
    for j = i + 1, i + size - 1 do cp = cp * 64 + (s:byte(j) or 128) % 64 end
    n = n + (is_wide(cp) and 2 or 1)
    i = i + size
  end
  return n
end
local width = M.width

local function spaces(k) return k > 0 and rep(" ", k) or "" end

local function round_half_even(x)
  local r = floor(x + 0.5)
  if x == r - 0.5 and r % 2 ~= 0 then r = r - 1 end
  return r
end

local function py_false(v)
  local t = jtype(v)
  if t == "null" then return true end
  if t == "boolean" then return not v end
  if t == "number" then return v == 0 end
  if t == "string" then return v == "" end
  if t == "array" then return values.len(v) == 0 end
  if t == "object" then return next(v) == nil end
  return false
end

local function is_scalar(v)
  local t = jtype(v)
  return t ~= "array" and t ~= "object"
end

-- Section ------------------------------------------------------------------------

local function section(title, indent)
  return { title = title or "", headers = {}, rows = {}, indent = indent or 0, widths = {}, ncols = nil }
end

local function update_widths(s, row)
  if #s.widths == 0 then
    for i, el in ipairs(row) do s.widths[i] = width(el) end
  else
    for i, el in ipairs(row) do
      local w = width(el)
      if s.widths[i] == nil or w > s.widths[i] then s.widths[i] = w end
    end
  end
end

local function add_header(s, headers)
  local h = {}
  for i, x in ipairs(headers) do h[i] = text.clean(x) end
  update_widths(s, h)
  if s.ncols == nil then s.ncols = #h end
  s.headers = h
end

local function add_row(s, row)
  if s.ncols == nil then s.ncols = #row end
  if #row ~= s.ncols then error(("Row should have %d elements, instead it has %d"):format(s.ncols, #row), 0) end
  local r = {}
  for i, x in ipairs(row) do r[i] = type(x) == "string" and text.clean(x) or text.str(x) end
  s.rows[#s.rows + 1] = r
  update_widths(s, r)
end

local function column_widths(s, padding, max_width)
  local unscaled, sum = {}, 0
  for i, w in ipairs(s.widths) do unscaled[i] = w + padding; sum = sum + w + padding end
  if max_width == nil or #unscaled == 0 then return unscaled end
  local scale = max_width / sum
  local scaled, total = {}, 0
  for i, w in ipairs(unscaled) do scaled[i] = round_half_even(scale * w); total = total + scaled[i] end
  local off = total - max_width
  while off ~= 0 do
    local n = #scaled
    local from, to, step = 1, n, 1
    if off < 0 then from, to, step = n, 1, -1 end
    for i = from, to, step do
      if off > 0 then scaled[i] = scaled[i] - 1; off = off - 1
      else scaled[i] = scaled[i] + 1; off = off + 1 end
      if off == 0 then break end
    end
  end
  return scaled
end

local function total_width(s, padding, outer)
  local total = 0
  for _, w in ipairs(s.widths) do total = total + w + padding end
  total = total + 2 + outer * 2
  return math.max(width(s.title) + 2 + outer * 2, total)
end

-- Building -----------------------------------------------------------------------

local Builder = {}
Builder.__index = Builder

function Builder:new_section(title, indent)
  self.current = section(title, indent)
  self.sections[#self.sections + 1] = self.current
end

local function sorted(list)
  table.sort(list)
  return list
end

local function group_scalar_keys(obj)
  local headers, more = {}, {}
  local ks, n = keys(obj)
  for i = 1, n do
    if is_scalar(obj[ks[i]]) then headers[#headers + 1] = ks[i] else more[#more + 1] = ks[i] end
  end
  return sorted(headers), sorted(more)
end

local function group_scalar_keys_from_list(list)
  local hs, ms, headers, more = {}, {}, {}, {}
  for i = 1, values.len(list) do
    local item = list[i]
    if jtype(item) == "object" then
      local h, m = group_scalar_keys(item)
      for _, k in ipairs(h) do if not hs[k] then hs[k] = true; headers[#headers + 1] = k end end
      for _, k in ipairs(m) do if not ms[k] then ms[k] = true; more[#more + 1] = k end end
    end
  end
  return sorted(headers), sorted(more)
end

function Builder:build(title, current, indent)
  if py_false(current) then return false end
  if title ~= nil then self:new_section(title, indent) end
  local t = jtype(current)
  if t == "array" then
    if jtype(current[1]) == "object" then
      self:sub_table_from_list(current, indent, title)
    else
      for i = 1, values.len(current) do
        local item = current[i]
        if is_scalar(item) then
          add_row(self.current, { item })
        else
          local all, row = true, {}
          if jtype(item) == "array" then
            for j = 1, values.len(item) do
              if not is_scalar(item[j]) then all = false end
              row[j] = item[j]
            end
          else
            local ks, n = keys(item)
            for j = 1, n do row[j] = ks[j] end   -- python iterates a dict's keys
          end
          if all then add_row(self.current, row) else self:build(nil, item, 0) end
        end
      end
    end
  elseif t == "object" then
    self:sub_table_from_dict(current, indent)
  end
  -- a scalar gets its section title only, as in python
  return true
end

function Builder:sub_table_from_dict(current, indent)
  local headers, more = group_scalar_keys(current)
  if #headers == 1 then
    add_row(self.current, { headers[1], current[headers[1]] })
  elseif #headers > 0 then
    add_header(self.current, headers)
    local row = {}
    for i, k in ipairs(headers) do row[i] = current[k] end
    add_row(self.current, row)
  end
  for _, k in ipairs(more) do self:build(k, current[k], indent + 1) end
end

function Builder:sub_table_from_list(current, indent, title)
  local headers, more = group_scalar_keys_from_list(current)
  add_header(self.current, headers)
  local first = true
  for i = 1, values.len(current) do
    local element = current[i]
    if not first and #more > 0 then
      self:new_section(title, indent)
      add_header(self.current, headers)
    end
    first = false
    local row = {}
    local obj = jtype(element) == "object" and element or {}
    for j, h in ipairs(headers) do
      local v = obj[h]
      row[j] = v == nil and "" or v
    end
    add_row(self.current, row)
    for _, k in ipairs(more) do
      if obj[k] ~= nil then self:build(k, obj[k], indent + 1) end
    end
  end
end

-- Rendering -------------------------------------------------------------------------

local function center_text(t, length, left, right, tlen)
  local start = floor(length / 2) - floor(tlen / 2) - 1
  local so_far = #left + start + tlen
  return left .. spaces(start) .. t .. spaces(length - #right - so_far) .. right
end

local function align_left(t, length, left, right, tlen)
  local padding = (length - (tlen + 2 + #left + #right) >= 0) and 2 or 0
  local so_far = #left + padding + tlen
  return left .. spaces(padding) .. t .. spaces(length - so_far - #right) .. right
end

local function line_break(widths)
  local parts = {}
  for i, w in ipairs(widths) do
    parts[i] = i == 1 and ("+" .. rep("-", math.max(w - 2, 0)) .. "+") or (rep("-", math.max(w - 1, 0)) .. "+")
  end
  return concat(parts) .. "\n"
end

local function render_section(s, max_width, out)
  local indent = s.indent
  local bar = rep("|", indent)
  local function write(line)   -- IndentedStream: lines get the indent bars on both sides
    out[#out + 1] = bar .. line:sub(1, -2) .. bar .. "\n"
  end
  max_width = max_width - indent * 2
  if s.title ~= "" then
    write(center_text(s.title, max_width, "|", "|", width(s.title)) .. "\n")
    if #s.headers == 0 and #s.rows == 0 then write("+" .. rep("-", math.max(max_width - 2, 0)) .. "+\n") end
  end
  if #s.headers > 0 then
    local widths = column_widths(s, 4, max_width)
    local cur = {}
    for i, h in ipairs(s.headers) do
      if widths[i] then cur[#cur + 1] = center_text(h, widths[i], i == 1 and "|" or "", "|", width(h)) end
    end
    write(line_break(widths))
    write(concat(cur) .. "\n")
  end
  if #s.rows > 0 then
    local widths = column_widths(s, 4, max_width)
    if #widths == 0 then return end
    write(line_break(widths))
    for _, row in ipairs(s.rows) do
      local cur = {}
      for i, w in ipairs(widths) do
        local el = row[i]
        if el == nil then break end
        cur[#cur + 1] = align_left(el, w, i == 1 and "|" or "", "|", width(el))
      end
      write(concat(cur) .. "\n")
    end
    write(line_break(widths))
  end
end

local function max_width_of(sections)
  local m = 0
  for _, s in ipairs(sections) do
    local w = total_width(s, 4, s.indent)
    if w > m then m = w end
  end
  return m
end

local function to_vertical(sections)
  for i, s in ipairs(sections) do
    if #s.rows == 1 and #s.headers > 0 then
      local n = section(s.title, s.indent)
      for j, h in ipairs(s.headers) do
        local el = s.rows[1][j]
        if el == nil then break end
        add_row(n, { h, el })
      end
      sections[i] = n
    end
  end
end

--- The table of a document under a title (the operation name); "" when
--- the document is empty (python's falsy values). opts.width: the
--- terminal's width (80).
function M.format(title, doc, opts)
  local b = setmetatable({ sections = {}, current = nil }, Builder)
  if not b:build(title, doc, 0) then return "" end
  local term = opts and opts.width or 80
  local mw = max_width_of(b.sections)
  if mw > term then
    to_vertical(b.sections)
    mw = max_width_of(b.sections)
  end
  local out = { rep("-", mw) .. "\n" }
  for _, s in ipairs(b.sections) do render_section(s, mw, out) end
  return concat(out)
end

return M
