-- aws_connect.credential_cache: temporary credentials shared across
-- processes in the AWS CLI's cache folder (~/.aws/cli/cache), with the AWS
-- CLI's file names and JSON, so that a loop of aws-connect calls and the
-- AWS CLI itself share one STS (or SSO) call. Storage only: the
-- assume-role and SSO providers decide when to use it.
--
-- API (nothing here raises; failures come back as nil plus a reason):
--
--   cache.dir(getenv)            -> "<home>/.aws/cli/cache", or nil without a home
--   cache.key_assume_role(args)  -> key | nil, reason
--       args: the AssumeRole (or AssumeRoleWithWebIdentity) request members
--       as the AWS CLI hashes them, AWS names: RoleArn, and RoleSessionName
--       only when the user set one, ExternalId, SerialNumber,
--       DurationSeconds (a number: botocore hashes an int), Policy (JSON
--       text; its keys are sorted before hashing). Key = SHA-1 of Python's
--       json.dumps(args, sort_keys=True). Known gap: a Policy number
--       written "1.0" hashes as "1" (the JSON decoder keeps no number text).
--   cache.key_sso{ role_name, account_id, session_name | start_url }
--                                -> key | nil, reason
--       session_name for sso_session profiles, start_url for legacy ones.
--       Key = SHA-1 of the compact sorted JSON of roleName, accountId and
--       sessionName or startUrl.
--   cache.load(dir, key, now[, opts]) -> creds | nil, reason
--       creds = { access_key_id, secret_access_key, session_token,
--       expiration (epoch seconds), account_id }. Refused (nil, reason) when
--       missing, larger than cache.MAX_BYTES, not JSON (logged through
--       opts.log(level, msg)), without keys, or expiring within opts.window
--       seconds (default cache.WINDOW: 15 minutes, as the AWS CLI).
--   cache.store(dir, key, response[, opts]) -> true | nil, reason
--       response: the JSON the AWS CLI writes, AWS names:
--       { Credentials = { AccessKeyId, SecretAccessKey, SessionToken,
--       Expiration (epoch seconds or ISO 8601) }, AssumedRoleUser = ...,
--       ProviderType = "sso", ... }. Creates dir (mode 0700) when missing;
--       the file is mode 0600, written to a temporary file in dir and
--       renamed, so a reader never sees half a file.
--   cache.assume_role_response(creds[, assumed_role_user]),
--   cache.sso_response(creds)    -> response tables in the AWS CLI's shapes,
--       from a credentials table (access_key_id, ..., expiration).
--   cache.write_private(path, text), cache.read_bounded(path, max)
--       the file primitives (C core), for other caches such as SSO tokens.

local core = require("aws_connect.core")
local times = require("aws_connect.times")

local M = {}

M.WINDOW = 15 * 60        -- the AWS CLI's expiry window for cached credentials
M.MAX_BYTES = 64 * 1024   -- a cache file is ~2 KiB; anything far larger is not ours

-- Python's json.dumps, as the AWS CLI's cache keys use it ---------------------

-- The code points of a UTF-8 string, or nil when it is not valid UTF-8.
local function code_points(s)
  local out, i, n = {}, 1, #s
  local byte = string.byte
  while i <= n do
    local c = byte(s, i)
    local cp, extra
    if c < 0x80 then cp, extra = c, 0
    elseif c >= 0xC2 and c <= 0xDF then cp, extra = c - 0xC0, 1
    elseif c >= 0xE0 and c <= 0xEF then cp, extra = c - 0xE0, 2
    elseif c >= 0xF0 and c <= 0xF4 then cp, extra = c - 0xF0, 3
    else return nil end
    if i + extra > n then return nil end
    for j = 1, extra do
      local cc = byte(s, i + j)
      if cc < 0x80 or cc > 0xBF then return nil end
      cp = cp * 64 + (cc - 0x80)
    end
    if (extra == 2 and (cp < 0x800 or (cp >= 0xD800 and cp <= 0xDFFF))) or
       (extra == 3 and (cp < 0x10000 or cp > 0x10FFFF)) then
      return nil
    end
    out[#out + 1] = cp
    i = i + extra + 1
  end
  return out
end

local SHORT = { [0x22] = '\\"', [0x5C] = "\\\\", [0x0A] = "\\n", [0x0D] = "\\r", [0x09] = "\\t",
  [0x08] = "\\b", [0x0C] = "\\f" }

-- A JSON string as Python writes it with ensure_ascii (the default).
local function py_string(s)
  if not s:find('[^ !#-%[%]-~]') then return '"' .. s .. '"' end   -- printable ASCII, no " or \
  local cps = code_points(s)
  if not cps then return nil end
  local out = { '"' }
  for _, cp in ipairs(cps) do
    local piece
    if SHORT[cp] then
      piece = SHORT[cp]
    elseif cp >= 0x20 and cp <= 0x7E then
      piece = string.char(cp)
    elseif cp < 0x10000 then
      piece = ("\\u%04x"):format(cp)
    else
      local v = cp - 0x10000
      piece = ("\\u%04x\\u%04x"):format(0xD800 + math.floor(v / 0x400), 0xDC00 + v % 0x400)
    end
    out[#out + 1] = piece
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

-- Python's repr of a float (shortest round trip; exponent form below 1e-4
-- and from 1e16).
local function py_float(x)
  local s
  for p = 1, 17 do
    s = ("%." .. (p - 1) .. "e"):format(x)
    if tonumber(s) == x then break end
  end
  local sign, d1, rest, exp = s:match("^(%-?)(%d)%.?(%d*)e([-+]%d+)$")
  local digits = (d1 .. rest):gsub("0+$", "")
  if digits == "" then digits = "0" end
  local e = tonumber(exp)
  if e < -4 or e >= 16 then
    local m = digits:sub(1, 1)
    if #digits > 1 then m = m .. "." .. digits:sub(2) end
    return ("%s%se%s%02d"):format(sign, m, e < 0 and "-" or "+", math.abs(e))
  end
  if e < 0 then return sign .. "0." .. ("0"):rep(-e - 1) .. digits end
  if #digits <= e + 1 then return sign .. digits .. ("0"):rep(e + 1 - #digits) .. ".0" end
  return sign .. digits:sub(1, e + 1) .. "." .. digits:sub(e + 2)
end

-- Byte order (the code point order of UTF-8), whatever the C locale says.
local function bytes_less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__jsontype == "array" then return true end
  if mt and mt.__jsontype == "object" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n > 0 and n == #t
end

-- json.dumps(v, sort_keys=True, separators=(item, colon)); nil for what
-- Python could not have produced (invalid UTF-8, NaN, functions, cycles).
local function py_dumps(v, item, colon, depth)
  depth = depth or 0
  if depth > 64 then return nil end
  local t = type(v)
  if t == "string" then return py_string(v) end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    if v == math.floor(v) and math.abs(v) < 2 ^ 63 then return ("%.0f"):format(v) end
    return py_float(v)
  end
  if v == nil or v == core.null then return "null" end
  if t ~= "table" then return nil end
  local parts = {}
  if is_array(v) then
    for i = 1, #v do
      local s = py_dumps(v[i], item, colon, depth + 1)
      if not s then return nil end
      parts[i] = s
    end
    return "[" .. table.concat(parts, item) .. "]"
  end
  local keys = {}
  for k in pairs(v) do
    if type(k) ~= "string" then return nil end
    keys[#keys + 1] = k
  end
  table.sort(keys, bytes_less)
  for i, k in ipairs(keys) do
    local ks, vs = py_string(k), py_dumps(v[k], item, colon, depth + 1)
    if not ks or not vs then return nil end
    parts[i] = ks .. colon .. vs
  end
  return "{" .. table.concat(parts, item) .. "}"
end
M._py_dumps = py_dumps

-- Keys ---------------------------------------------------------------------------

local function shallow_copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

function M.key_assume_role(args)
  if type(args) ~= "table" or type(args.RoleArn) ~= "string" then return nil, "no RoleArn" end
  local a = shallow_copy(args)
  if a.Policy ~= nil then
    -- the AWS CLI hashes the policy parsed, so that its keys come out sorted
    local ok, doc = pcall(core.json_decode, tostring(a.Policy))
    if not ok or doc == nil then return nil, "Policy is not JSON" end
    a.Policy = doc
  end
  local text = py_dumps(a, ", ", ": ")
  if not text then return nil, "the arguments cannot be hashed as the AWS CLI does" end
  return core.sha1_hex(text)
end

function M.key_sso(args)
  if type(args) ~= "table" then return nil, "no arguments" end
  local a = { roleName = args.role_name, accountId = args.account_id }
  if type(a.roleName) ~= "string" or type(a.accountId) ~= "string" then
    return nil, "role_name and account_id are required"
  end
  if args.session_name ~= nil then a.sessionName = args.session_name else a.startUrl = args.start_url end
  if type(a.sessionName or a.startUrl) ~= "string" then return nil, "session_name or start_url is required" end
  local text = py_dumps(a, ",", ":")
  if not text then return nil, "the arguments cannot be hashed as the AWS CLI does" end
  return core.sha1_hex(text)
end

-- Files --------------------------------------------------------------------------

function M.dir(getenv)
  local home = require("aws_connect.config").home(getenv or os.getenv)
  if not home then return nil end
  return (home:gsub("/+$", "")) .. "/.aws/cli/cache"
end

local function path_of(dir, key)
  if type(dir) ~= "string" or dir == "" then return nil, "no cache folder" end
  -- a key is a file name of ours: never a path, never "..", never odd bytes
  if type(key) ~= "string" or not key:find("^[%w_%-]+$") or #key > 128 then return nil, "bad cache key" end
  return dir .. "/" .. key .. ".json"
end

M.write_private = core.write_private
M.read_bounded = core.read_bounded

local function log(opts, level, msg)
  if opts and type(opts.log) == "function" then pcall(opts.log, level, msg) end
end

-- Expiration as the AWS CLI may have written it: ISO 8601 with Z, an
-- offset, or Python's "%Z" (UTC/GMT); our own epoch numbers too.
local function parse_expiration(v)
  if type(v) == "number" then return v == v and v or nil end
  if type(v) ~= "string" or #v > 64 then return nil end
  local s = v:gsub("%s*[Uu][Tt][Cc]$", "Z"):gsub("%s*[Gg][Mm][Tt]$", "Z")
  if s:find("^%d+$") then return nil end   -- a bare number string is not a date here
  return times.parse_iso8601(s)
end

local function str(doc, k)
  local v = doc[k]
  if type(v) == "string" and v ~= "" and #v <= 8192 then return v end
  return nil
end

function M.load(dir, key, now, opts)
  local path, perr = path_of(dir, key)
  if not path then return nil, perr end
  local text, kind, msg = core.read_bounded(path, M.MAX_BYTES)
  if not text then
    if kind ~= "missing" then
      log(opts, "warn", ("credential cache %s.json ignored: %s"):format(key, tostring(msg)))
    end
    return nil, kind == "missing" and "not cached" or tostring(msg)
  end
  local ok, doc = pcall(core.json_decode, text)
  if not ok or type(doc) ~= "table" or type(doc.Credentials) ~= "table" then
    log(opts, "warn", ("credential cache %s.json ignored: not the AWS CLI's JSON"):format(key))
    return nil, "not the AWS CLI's JSON"
  end
  local c = doc.Credentials
  local id, secret = str(c, "AccessKeyId"), str(c, "SecretAccessKey")
  local exp = parse_expiration(c.Expiration)
  if not id or not secret or not exp then
    log(opts, "warn", ("credential cache %s.json ignored: no %s"):format(key,
      not id and "AccessKeyId" or not secret and "SecretAccessKey" or "readable Expiration"))
    return nil, "incomplete"
  end
  local window = opts and opts.window or M.WINDOW
  if type(now) ~= "number" then now = core.now() end
  if exp - now < window then return nil, "expired" end
  return {
    access_key_id = id, secret_access_key = secret, session_token = str(c, "SessionToken"),
    expiration = exp, account_id = str(c, "AccountId"),
  }
end

local function iso(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(epoch))
end

function M.store(dir, key, response, opts)
  local path, perr = path_of(dir, key)
  if not path then return nil, perr end
  if type(response) ~= "table" or type(response.Credentials) ~= "table" then return nil, "no Credentials" end
  local doc = shallow_copy(response)
  local c = shallow_copy(response.Credentials)
  local exp = parse_expiration(c.Expiration)
  if not exp or type(c.AccessKeyId) ~= "string" or type(c.SecretAccessKey) ~= "string" then
    return nil, "incomplete credentials"
  end
  c.Expiration = type(c.Expiration) == "string" and c.Expiration or iso(exp)
  doc.Credentials = c
  local ok, text = pcall(core.json_encode, doc)
  if not ok or type(text) ~= "string" then return nil, "cannot encode the credentials" end
  local made, _, merr = core.mkdir_private(dir)
  if not made then
    log(opts, "warn", "credential cache not written: " .. tostring(merr))
    return nil, merr
  end
  local written, _, werr = core.write_private(path, text)
  if not written then
    log(opts, "warn", "credential cache not written: " .. tostring(werr))
    return nil, werr
  end
  return true
end

local function aws_credentials(creds)
  return {
    AccessKeyId = creds.access_key_id, SecretAccessKey = creds.secret_access_key,
    SessionToken = creds.session_token, Expiration = creds.expiration and iso(creds.expiration),
  }
end

function M.assume_role_response(creds, assumed_role_user)
  return { Credentials = aws_credentials(creds), AssumedRoleUser = assumed_role_user }
end

function M.sso_response(creds)
  local c = aws_credentials(creds)
  c.AccountId = creds.account_id
  return { ProviderType = "sso", Credentials = c }
end

return M
