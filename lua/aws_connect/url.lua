-- aws_connect.url: the one URL parser. Every URL the library checks or uses
-- (the endpoint option, AWS_ENDPOINT_URL*, proxies, container credential
-- URIs, the IMDS endpoint, the cosocket transport's target) is split here,
-- the way libcurl will use it, so that what is checked is what is sent:
--
--   scheme "://" [userinfo "@"] host [":" port] [path] ["?" query] ["#" fragment]
--
-- * the authority ends at the first "/", "?" or "#" (libcurl's rule);
--   userinfo is everything before its "@"; more than one "@", a backslash,
--   blanks, control characters or bytes >= 0x80 anywhere are refused (the
--   parsers of libcurl, nginx and Python disagree on them);
-- * host: a bracketed IPv6 literal (no zone id), or a name of letters,
--   digits, "-", "." and "_"; lower-cased. A host that libcurl reads as an
--   IPv4 number (127.1, 0x7f.0.0.1, 0177.0.0.1, 2130706433) is normalised
--   to its dotted quad (u.ipv4) as libcurl does, and one that looks numeric
--   but is not a valid number is refused;
-- * port: 1..65535.
--
-- Errors never quote the URL's userinfo: messages show M.display(url).
-- Also here: the one percent-encoder (encode_segment), loopback
-- recognition, botocore's base-path join.

local errors = require("aws_connect.errors")

local M = {}

--- Everything but A-Z a-z 0-9 - _ . ~ percent-encoded (upper-case hex):
--- one path segment, a query key or value (RFC 3986 unreserved).
function M.encode_segment(s)
  return (tostring(s):gsub("[^%w%-_.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- IPv4 as libcurl reads a host (1 to 4 parts, each decimal, 0x hex or
-- 0-octal; the last part fills the remaining bytes). Returns the dotted
-- quad, false when the host looks numeric but is not a valid address, or
-- nil when it is a name.
local function ipv4_of(host)
  if not host:find("^[%dxX%.a-fA-F]+$") or not host:find("^%d") then return nil end
  local parts = {}
  for p in (host .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = p end
  if #parts > 4 then
    -- more than four parts: a name if any part is not a number, else invalid
    return false
  end
  local nums = {}
  for i, p in ipairs(parts) do
    local v
    if p:find("^0[xX]%x*$") then
      v = #p > 2 and tonumber(p:sub(3), 16) or 0
    elseif p:find("^0[0-7]+$") then
      v = tonumber(p, 8)
    elseif p:find("^%d+$") and (p == "0" or p:sub(1, 1) ~= "0") then
      v = tonumber(p)
    elseif p:find("^%d+$") then
      return false  -- "08": not octal, not decimal
    elseif i == 1 then
      return nil
    else
      -- "1.abc": libcurl would resolve it as a name; too ambiguous here
      return false
    end
    if #p > 12 then return false end
    nums[i] = v
  end
  local n = #nums
  local value = 0
  for i = 1, n - 1 do
    if nums[i] > 255 then return false end
    value = value * 256 + nums[i]
  end
  local room = 256 ^ (4 - (n - 1))
  if nums[n] >= room then return false end
  value = value * room + nums[n]
  local a = math.floor(value / 16777216) % 256
  local b = math.floor(value / 65536) % 256
  local c = math.floor(value / 256) % 256
  local d = value % 256
  return ("%d.%d.%d.%d"):format(a, b, c, d)
end

-- The 8 groups of an IPv6 literal (numbers), or nil when it is malformed.
local function ipv6_groups(s)
  if not s:find("^[%x:.]+$") or not s:find(":", 1, true) then return nil end
  local tail = {}
  if s:find(".", 1, true) then
    -- an embedded IPv4 address ends it: ::ffff:127.0.0.1
    local v4 = s:match("^.*:(%d+%.%d+%.%d+%.%d+)$")
    if not v4 then return nil end
    local a, b, c, d = v4:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
    if a > 255 or b > 255 or c > 255 or d > 255 then return nil end
    tail = { a * 256 + b, c * 256 + d }
    s = s:sub(1, #s - #v4)
    if s:sub(-2) ~= "::" then s = s:sub(1, -2) end
  end
  local function split(x)
    local out = {}
    if x == "" then return out end
    for g in (x .. ":"):gmatch("([^:]*):") do
      if g == "" or #g > 4 then return nil end
      out[#out + 1] = tonumber(g, 16)
    end
    return out
  end
  local want = 8 - #tail
  local groups
  local dc = s:find("::", 1, true)
  if dc then
    local rest = s:sub(dc + 2)
    if rest:find("::", 1, true) then return nil end
    local h, r = split(s:sub(1, dc - 1)), split(rest)
    if not h or not r then return nil end
    local fill = want - #h - #r
    if fill < 1 then return nil end
    groups = h
    for _ = 1, fill do groups[#groups + 1] = 0 end
    for _, g in ipairs(r) do groups[#groups + 1] = g end
  else
    groups = split(s)
    if not groups or #groups ~= want then return nil end
  end
  for _, g in ipairs(tail) do groups[#groups + 1] = g end
  return groups
end
M._ipv6_groups = ipv6_groups

--- True for a loopback host: 127.0.0.0/8 (in any form libcurl reads as
--- IPv4), ::1 (in any spelling) and "localhost". Takes a host string
--- (brackets allowed) or a parsed URL.
function M.is_loopback(h)
  if type(h) == "table" then
    if h.ipv4 then return h.ipv4:find("^127%.") ~= nil end
    h = h.hostname
  end
  if type(h) ~= "string" then return false end
  h = h:lower():gsub("^%[(.*)%]$", "%1")
  if h == "localhost" then return true end
  local v4 = ipv4_of(h)
  if v4 then return v4:find("^127%.") ~= nil end
  local g = ipv6_groups(h)
  if g then
    for i = 1, 7 do if g[i] ~= 0 then return false end end
    return g[8] == 1
  end
  return false
end

--- A form of a URL safe to show: the userinfo (anything before an "@" in
--- the authority) replaced by "***", control characters and long tails
--- cut. Works on strings that do not parse, too.
function M.display(s)
  s = tostring(s)
  local scheme_end = s:find("://", 1, true)
  local astart = scheme_end and scheme_end + 3 or 1
  local aend = s:find("[/?#]", astart) or (#s + 1)
  local auth = s:sub(astart, aend - 1)
  local at
  local from = 1
  while true do
    local i = auth:find("@", from, true)
    if not i then break end
    at, from = i, i + 1
  end
  if at then s = s:sub(1, astart - 1) .. "***@" .. s:sub(astart + at) end
  return require("aws_connect.redact").printable(s, 300)
end

--- Parses a URL. Returns a table
---   { scheme, user, password, host, hostname, ipv4, ipv6, port,
---     effective_port, default_port, path, query, fragment, authority,
---     host_header, origin, has_userinfo }
--- (host lower-cased, brackets kept for IPv6; hostname without them;
--- port nil when absent; path "" when absent; query/fragment nil when
--- absent; authority and host_header never hold the userinfo), or nil and
--- a reason (which never quotes the URL).
function M.parse(s)
  if type(s) ~= "string" then return nil, "is not a string" end
  if s == "" then return nil, "is empty" end
  if #s > 8192 then return nil, "is longer than 8192 bytes" end
  if s:find("[%z\1-\32\127-\255]") then
    return nil, "contains a blank, a control character or a non-ASCII byte"
  end
  local scheme, rest = s:match("^(%a[%w+.%-]*)://(.*)$")
  if not scheme then return nil, "is not a URL (expected scheme://host)" end
  scheme = scheme:lower()
  local aend = rest:find("[/?#]") or (#rest + 1)
  local authority, tail = rest:sub(1, aend - 1), rest:sub(aend)
  if authority:find("\\", 1, true) then return nil, "has a backslash in its host part" end
  local u = { scheme = scheme, has_userinfo = false }
  local at = authority:find("@", 1, true)
  if at then
    if authority:find("@", at + 1, true) then
      return nil, "has more than one '@' in its host part (ambiguous user information)"
    end
    local info = authority:sub(1, at - 1)
    authority = authority:sub(at + 1)
    local colon = info:find(":", 1, true)
    u.user = colon and info:sub(1, colon - 1) or info
    u.password = colon and info:sub(colon + 1) or nil
    u.has_userinfo = true
  end
  local host, portpart
  if authority:sub(1, 1) == "[" then
    local close = authority:find("]", 2, true)
    if not close then return nil, "has an unclosed '[' in its host" end
    local inner = authority:sub(2, close - 1)
    if inner:find("%", 1, true) then return nil, "has an IPv6 zone id, which is not supported" end
    if not ipv6_groups(inner) then return nil, "has a malformed IPv6 address" end
    host = "[" .. inner:lower() .. "]"
    u.hostname = inner:lower()
    u.ipv6 = true
    portpart = authority:sub(close + 1)
  else
    local colon = authority:find(":", 1, true)
    host = colon and authority:sub(1, colon - 1) or authority
    portpart = colon and authority:sub(colon) or ""
    if host == "" then return nil, "has no host" end
    if not host:find("^[%w%-._]+$") then return nil, "has an invalid character in its host" end
    host = host:lower()
    u.hostname = host
    local v4 = ipv4_of(host)
    if v4 == false then return nil, "has a host that looks like an IPv4 address but is not a valid one" end
    u.ipv4 = v4
  end
  u.host = host
  if portpart ~= "" then
    local digits = portpart:match("^:(%d+)$")
    if not digits or #digits > 5 or tonumber(digits) < 1 or tonumber(digits) > 65535 then
      return nil, "has an invalid port (expected 1 to 65535)"
    end
    u.port = tonumber(digits)
  end
  u.default_port = (scheme == "https" and 443) or (scheme == "http" and 80) or nil
  u.effective_port = u.port or u.default_port
  local hash = tail:find("#", 1, true)
  if hash then
    u.fragment = tail:sub(hash + 1)
    tail = tail:sub(1, hash - 1)
  end
  local q = tail:find("?", 1, true)
  if q then
    u.query = tail:sub(q + 1)
    tail = tail:sub(1, q - 1)
  end
  u.path = tail
  u.authority = u.port and (host .. ":" .. u.port) or host
  u.host_header = (u.port and u.port ~= u.default_port) and (host .. ":" .. u.port) or host
  u.origin = scheme .. "://" .. u.host_header
  return u
end

--- Parses and checks a URL; raises a typed error (opts.code, default
--- ConfigError, with field opts.field) naming `source` and M.display(s).
--- opts: { schemes = {http = true, https = true} (default),
---         userinfo = "refuse" (default) | "strip" | "keep",
---         query = false, fragment = false (refused unless true), code, field }
--- Returns the parsed URL ("strip" drops user and password from it).
function M.check(s, source, opts)
  opts = opts or {}
  source = source or "URL"
  local code, field = opts.code or "ConfigError", opts.field
  local function fail(why)
    errors.raise(code, ("%s %s %s"):format(source, M.display(s), why), { field = field })
  end
  local u, why = M.parse(s)
  if not u then fail(why) end
  local schemes = opts.schemes or { http = true, https = true }
  if not schemes[u.scheme] then
    local list = {}
    for k in pairs(schemes) do list[#list + 1] = k end
    table.sort(list)
    fail("must use " .. table.concat(list, " or "))
  end
  if u.has_userinfo then
    local mode = opts.userinfo or "refuse"
    if mode == "refuse" then fail("must not contain user information (user:password@)") end
    if mode == "strip" then u.user, u.password, u.has_userinfo = nil, nil, false end
  end
  if u.query and not opts.query then fail("must not contain a query (?...)") end
  if u.fragment and not opts.fragment then fail("must not contain a fragment (#...)") end
  return u
end

--- scheme://host[:port]path[?query] of a parsed URL, never with its
--- userinfo (the form to hand to a transport when userinfo was stripped).
function M.build(u)
  local s = u.origin .. (u.path or "")
  if u.query then s = s .. "?" .. u.query end
  return s
end

--- botocore's join of an endpoint's base path and a request path: one
--- slash between them, the base path alone for "/" (or an empty path).
function M.join_path(base, path)
  base = base or ""
  if path == nil or path == "" or path == "/" then
    if base == "" then return "/" end
    return base
  end
  if base:sub(-1) == "/" and path:sub(1, 1) == "/" then return base:sub(1, -2) .. path end
  return base .. path
end

return M
