-- aws_connect.redact: the one place where secrets are scrubbed and where
-- text from a server, a file or the environment is made printable.
--
--   local r = redact.new{ secret_access_key, session_token, web_identity_token }
--   r:string(s)     every occurrence of every secret replaced by REDACTED,
--                   also its percent-encoded forms (upper- and lower-case
--                   hex, '+' for blanks) and its JSON-escaped form ("\/")
--   r:deep(v)       a copy of v with every string redacted, keys included,
--                   at any depth; cycles and shared tables are kept as such
--   redact.printable(s, max)   control characters replaced (CR/LF/TAB runs
--                   by one blank, others by '?'), cut to max bytes (at a
--                   UTF-8 boundary) with "..." appended
--
-- Every function is linear in the size of its input: one pass of the C
-- plain-text search per form of a secret (a secret whose prefixes repeat
-- themselves, where that search could degrade, is matched with KMP
-- instead), no string rebuilt per occurrence.

local M = {}

M.MARK = "REDACTED"
M.MIN_LENGTH = 4   -- shorter "secrets" would blank out ordinary words

local function hex_encode(s, fmt, space)
  return (s:gsub("[^%w%-_.~]", function(c)
    if space and c == " " then return space end
    return fmt:format(c:byte())
  end))
end

-- True when a prefix of s has a border longer than half of it (the prefix
-- repeats itself): the only case where a memchr+memcmp search is slower
-- than linear. Also returns the KMP failure table.
local function periodic(s)
  local fail, k = { [1] = 0 }, 0
  local bad = false
  for i = 2, #s do
    local c = s:byte(i)
    while k > 0 and s:byte(k + 1) ~= c do k = fail[k] end
    if s:byte(k + 1) == c then k = k + 1 end
    fail[i] = k
    if k > 8 and k * 2 > i then bad = true end
  end
  return bad, fail
end

-- Start and end positions of the occurrences of pat in s (non-overlapping,
-- left to right), appended to list as {a, b}.
local function find_plain(s, pat, list)
  local from = 1
  while true do
    local a, b = s:find(pat, from, true)
    if not a then return end
    list[#list + 1] = { a, b }
    from = b + 1
  end
end

local function find_kmp(s, pat, fail, list)
  local m, k = #pat, 0
  for i = 1, #s do
    local c = s:byte(i)
    while k > 0 and pat:byte(k + 1) ~= c do k = fail[k] end
    if pat:byte(k + 1) == c then k = k + 1 end
    if k == m then
      list[#list + 1] = { i - m + 1, i }
      k = 0
    end
  end
end

local R = {}
R.__index = R
R.__tostring = function() return "aws_connect.redact" end

--- A redactor for a list of secrets (nil, false, non-strings and strings
--- shorter than MIN_LENGTH are skipped).
function M.new(list)
  local forms, seen = {}, {}
  local function add(v)
    if type(v) == "string" and #v >= M.MIN_LENGTH and not seen[v] then
      seen[v] = true
      local bad, fail = periodic(v)
      forms[#forms + 1] = { text = v, fail = bad and fail or nil }
    end
  end
  if type(list) == "table" then
    for _, v in pairs(list) do   -- holes (nil entries) allowed
      if type(v) == "string" then
        add(v)
        add(hex_encode(v, "%%%02X"))
        add(hex_encode(v, "%%%02x"))
        add(hex_encode(v, "%%%02X", "+"))
        add((v:gsub("/", "\\/")))
      end
    end
  end
  -- longer forms first, so that a form containing another is replaced whole
  table.sort(forms, function(a, b) return #a.text > #b.text end)
  return setmetatable({ forms = forms }, R)
end

--- s with every secret replaced; non-strings are returned as they are.
function R:string(s)
  if type(s) ~= "string" or #self.forms == 0 then return s end
  for _, f in ipairs(self.forms) do
    if #s >= #f.text then
      local hits = {}
      if f.fail then find_kmp(s, f.text, f.fail, hits) else find_plain(s, f.text, hits) end
      if #hits > 0 then
        local out, pos = {}, 1
        for _, h in ipairs(hits) do
          out[#out + 1] = s:sub(pos, h[1] - 1)
          out[#out + 1] = M.MARK
          pos = h[2] + 1
        end
        out[#out + 1] = s:sub(pos)
        s = table.concat(out)
      end
    end
  end
  return s
end

--- A copy of v with every string (keys too) redacted, at any depth. The
--- metatables of copied tables are kept (error objects stay error objects);
--- a table reached twice is copied once, so cycles are safe.
function R:deep(v)
  if type(v) == "string" then return self:string(v) end
  if type(v) ~= "table" then return v end
  local copies = {}
  local root = {}
  copies[v] = root
  local work = { v }
  while #work > 0 do
    local src = table.remove(work)
    local dst = copies[src]
    for k, x in next, src do
      local nk, nx = k, x
      if type(k) == "string" then
        nk = self:string(k)
      elseif type(k) == "table" then
        nk = copies[k]
        if not nk then nk = {}; copies[k] = nk; work[#work + 1] = k end
      end
      if type(x) == "string" then
        nx = self:string(x)
      elseif type(x) == "table" then
        nx = copies[x]
        if not nx then nx = {}; copies[x] = nx; work[#work + 1] = x end
      end
      rawset(dst, nk, nx)
    end
    local mt = getmetatable(src)
    if type(mt) == "table" then setmetatable(dst, mt) end
  end
  return root
end

--- The secrets' count of forms (for tests and diagnostics).
function R:size()
  return #self.forms
end

--- Printable text: CR, LF and TAB runs become one blank, other control
--- characters (C0, DEL) '?'; longer than max bytes (default 1000) it is
--- cut at a UTF-8 boundary and "..." appended. Non-strings go through
--- tostring first. Linear.
function M.printable(s, max)
  if type(s) ~= "string" then s = tostring(s == nil and "" or s) end
  max = max or 1000
  local cut = false
  if #s > max then
    local n = max
    -- do not end inside a multi-byte sequence
    while n > 0 and n > max - 3 do
      local c = s:byte(n + 1)
      if not c or c < 0x80 or c >= 0xC0 then break end
      n = n - 1
    end
    s = s:sub(1, n)
    cut = true
  end
  s = s:gsub("[\r\n\t]+", " "):gsub("[%z\1-\31\127]", "?")
  if cut then s = s .. "..." end
  return s
end

return M
