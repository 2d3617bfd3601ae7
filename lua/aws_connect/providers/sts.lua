-- aws_connect.providers.sts: the two AWS STS calls the credential chain
-- needs, AssumeRole (SigV4-signed, service "sts") and
-- AssumeRoleWithWebIdentity (unsigned). Both are query-protocol POSTs that
-- answer XML; only the credentials (and error code/message) are read, by a
-- tolerant scanner: namespace prefixes, attributes, comments, CDATA,
-- entities and any element order are accepted. The scanner is linear in
-- the size of the body (plain searches, no backtracking pattern). The
-- request's secrets (source keys, session token, web identity token) are
-- scrubbed from every message and field (aws_connect.redact): an endpoint
-- may quote the request back.
--
-- Endpoint: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, [services x] `sts =`,
-- the profile's endpoint_url (as for Connect), else
-- https://sts[-fips].{region}.{dnsSuffix} of the client's region.
-- Throttling, 5xx, IDPCommunicationError and network failures are retried
-- (3 attempts in all); every other STS error is raised at once as a
-- CredentialsError carrying sts_code, status and request_id.

local core = require("aws_connect.core")
local config = require("aws_connect.config")
local util = require("aws_connect.providers.util")
local redact = require("aws_connect.redact")

local M = {}

M.VERSION = "2011-06-15"
M.attempts = 3
M.retry_delay = 0.2   -- seconds, doubled per retry

-- XML ------------------------------------------------------------------------

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }

local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then
    return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40)
  end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local function unescape(s)
  return (s:gsub("&([#%w]+);", function(ref)
    local cp
    if ref:find("^#[xX]%x+$") then
      cp = tonumber(ref:sub(3), 16)
    elseif ref:find("^#%d+$") then
      cp = tonumber(ref:sub(2))
    else
      return ENTITIES[ref]
    end
    if cp and cp <= 0x10FFFF then return utf8_char(cp) end
    return nil
  end))
end

-- Linear trim (a "^%s*(.-)%s*$" match is quadratic on a run of blanks).
local function trim(x)
  local i = x:find("%S")
  if not i then return "" end
  return x:match("^.*%S", i)
end
M._trim = trim

--- The text of an element's content: CDATA kept as is, the rest
--- unescaped, surrounding blanks trimmed.
function M.text(inner)
  local out, pos = {}, 1
  while true do
    local s0, e = inner:find("<![CDATA[", pos, true)
    if not s0 then
      out[#out + 1] = unescape(inner:sub(pos))
      break
    end
    out[#out + 1] = unescape(inner:sub(pos, s0 - 1))
    local ce = inner:find("]]>", e + 1, true)
    if not ce then break end
    out[#out + 1] = inner:sub(e + 1, ce - 1)
    pos = ce + 3
  end
  return trim(table.concat(out))
end

-- Where the end tag </qname ...> that follows `from` starts, or nil.
local function close_tag(doc, qname, from)
  local open = "</" .. qname
  while true do
    local c = doc:find(open, from, true)
    if not c then return nil end
    if doc:find("^%s*>", c + #open) then return c end
    from = c + 1
  end
end

--- The inner markup of the first element whose local name (without a
--- namespace prefix) is `name`, or nil. One left-to-right pass: every "<"
--- and ">" is found once (a tag that never closes cannot make the search
--- start over), so the cost is linear in the size of doc.
function M.element(doc, name)
  local pos = 1
  local next_gt = 0   -- the first ">" after the current "<"
  while true do
    local lt = doc:find("<", pos, true)
    if not lt then return nil end
    if next_gt <= lt then next_gt = doc:find(">", lt + 1, true) or (#doc + 1) end
    if next_gt > #doc then return nil end
    local inner_lt = doc:find("<", lt + 1, true)
    if inner_lt and inner_lt < next_gt then
      pos = inner_lt          -- "<a <b>": the first "<" opens no tag
    else
      local tag = doc:sub(lt + 1, next_gt - 1)
      local qname = tag:match("^[%a_][%w_.:%-]*")
      if qname then
        local lname = qname:match("^.*:(.*)$") or qname
        if lname == name then
          if tag:sub(-1) == "/" then return "" end
          local cs = close_tag(doc, qname, next_gt + 1)
          if not cs then return nil end
          return doc:sub(next_gt + 1, cs - 1)
        end
      end
      pos = next_gt + 1
    end
  end
end

-- Drops <!-- ... --> comments (plain searches: one pass).
local function strip_comments(doc)
  if not doc:find("<!--", 1, true) then return doc end
  local out, pos = {}, 1
  while true do
    local a0 = doc:find("<!--", pos, true)
    if not a0 then out[#out + 1] = doc:sub(pos); break end
    out[#out + 1] = doc:sub(pos, a0 - 1)
    local _, e = doc:find("-->", a0 + 4, true)
    if not e then break end   -- an unclosed comment runs to the end
    pos = e + 1
  end
  return table.concat(out)
end
M._strip_comments = strip_comments

--- Parses the Credentials of an AssumeRole* response. Returns a
--- credentials table or nil and what is missing.
function M.parse_credentials(body)
  local doc = strip_comments(body or "")
  local creds = M.element(doc, "Credentials")
  if not creds then return nil, "no Credentials element" end
  local function field(n)
    local inner = M.element(creds, n)
    if not inner then return nil end
    local t = M.text(inner)
    if t == "" then return nil end
    return t
  end
  local id, secret, token, exp = field("AccessKeyId"), field("SecretAccessKey"), field("SessionToken"),
    field("Expiration")
  if not id then return nil, "no AccessKeyId" end
  if not secret then return nil, "no SecretAccessKey" end
  if not token then return nil, "no SessionToken" end
  local expiration
  if exp then
    expiration = util.parse_time(exp)
    if not expiration then return nil, "an unreadable Expiration" end
  end
  local account
  local user = M.element(doc, "AssumedRoleUser")
  local arn = user and M.element(user, "Arn")
  if arn then account = M.text(arn):match("^arn:[^:]*:[^:]*:[^:]*:(%d+):") end
  return { access_key_id = id, secret_access_key = secret, session_token = token,
           expiration = expiration, account_id = account }
end

--- Code, message and request id of an STS error response.
function M.parse_error(body)
  local doc = strip_comments(body or "")
  local err = M.element(doc, "Error") or doc
  local code = M.element(err, "Code")
  local msg = M.element(err, "Message")
  local rid = M.element(doc, "RequestId")
  return code and M.text(code) or nil, msg and M.text(msg) or nil, rid and M.text(rid) or nil
end

-- Requests ---------------------------------------------------------------------

local function form_encode(s)
  return (tostring(s):gsub("[^%w%-_.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function form(params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = form_encode(k) .. "=" .. form_encode(params[k]) end
  return table.concat(parts, "&")
end
M.form = form

--- The STS endpoint URL and its source for this client.
function M.endpoint(ctx)
  local cfg = ctx.cfg or {}
  local files = ctx.files or {}
  local profile = (files.profiles or {})[ctx.profile_name] or {}
  local url, source = config.configured_endpoint(ctx.getenv, files, profile, ctx.profile_name, "sts", "STS")
  if url then return url, source end
  local region = cfg.region or "us-east-1"
  local part = require("aws_connect.endpoints").partition(region) or { dnsSuffix = "amazonaws.com", name = "aws" }
  local suffix = cfg.use_dualstack and part.dualStackDnsSuffix or part.dnsSuffix
  local host = "sts"
  if cfg.use_fips and part.name ~= "aws-us-gov" then host = "sts-fips" end
  return ("https://%s.%s.%s"):format(host, region, suffix), "STS endpoint of region " .. region
end

local RETRY_CODES = {
  Throttling = true, ThrottlingException = true, ThrottledException = true, RequestThrottledException = true,
  TooManyRequestsException = true, RequestLimitExceeded = true, IDPCommunicationError = true,
  InternalError = true, ServiceUnavailable = true, RequestTimeout = true, RequestTimeoutException = true,
}

--- Calls an STS action. `creds` signs the request (nil: unsigned).
--- `what` prefixes messages ("assume-role (profile dev)"). Returns the
--- credentials from the response or raises CredentialsError.
function M.call(ctx, action, params, creds, what)
  local url, source = M.endpoint(ctx)
  local ep = config.parse_endpoint(url, source)
  local cfg = ctx.cfg or {}
  local region = cfg.region or "us-east-1"
  params.Action = action
  params.Version = M.VERSION
  local body = form(params)
  local path = ep.base_path .. "/"
  -- STS may quote the request back (a malformed-token message, a proxy's
  -- error page): every secret of it is scrubbed from what we raise
  local scrub = redact.new{
    creds and creds.secret_access_key, creds and creds.session_token, params.WebIdentityToken,
  }
  local function clean(v) return v and util.printable(scrub:string(v), 200) or nil end
  local transport, release = util.transport(ctx)
  local last
  local ok, result = pcall(function()
    for attempt = 1, M.attempts do
      local headers = {
        { "Host", ep.host_header },
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
      }
      if creds then
        local s = core.sign{
          method = "POST", path = path, query = "", headers = headers, body = body,
          region = region, service = "sts",
          access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key,
          session_token = creds.session_token, time = math.floor(ctx.clock()),
        }
        headers[#headers + 1] = { "X-Amz-Date", s.amz_date }
        if creds.session_token then headers[#headers + 1] = { "X-Amz-Security-Token", creds.session_token } end
        headers[#headers + 1] = { "Authorization", s.authorization }
      end
      headers[#headers + 1] = { "User-Agent", "lua-aws-connect/" .. tostring(core.version) .. " credentials/sts" }
      local resp, kind, msg = util.request(ctx, transport, {
        method = "POST", url = ep.scheme .. "://" .. ep.host_header .. path, headers = headers, body = body,
        connect_timeout = cfg.connect_timeout or 3.1, timeout = cfg.timeout or 60,
      })
      local retry
      if not resp then
        last = { message = ("%s: STS %s at %s failed: %s (%s)"):format(what, action, ep.url, kind,
          util.printable(scrub:string(msg), 200)) }
        retry = true
      elseif resp.status >= 200 and resp.status < 300 then
        local c, missing = M.parse_credentials(resp.body)
        if not c then
          util.cred_error(("%s: the STS %s response has %s"):format(what, action, missing),
            { status = resp.status, request_id = clean(util.header(resp, "x-amzn-RequestId")) })
        end
        return c
      else
        local code, message, rid = M.parse_error(resp.body)
        code = util.printable(scrub:string(code or tostring(resp.status)), 100)
        rid = rid or util.header(resp, "x-amzn-RequestId")
        last = {
          message = ("%s: STS %s failed: %s: %s"):format(what, action, code,
            util.printable(scrub:string(message or resp.reason or ""), 500)),
          fields = { status = resp.status, request_id = clean(rid),
                     sts_code = code },
        }
        retry = RETRY_CODES[code] or resp.status >= 500 or resp.status == 429
      end
      if not retry or attempt == M.attempts then break end
      util.sleep(ctx, transport, M.retry_delay * 2 ^ (attempt - 1))
    end
    util.cred_error(last.message, last.fields)
  end)
  release()
  if not ok then error(scrub:deep(result), 0) end
  return result
end

--- AssumeRole with the given source credentials.
--- p: { role_arn, role_session_name, external_id, duration_seconds }
function M.assume_role(ctx, source_creds, p, what)
  local params = { RoleArn = p.role_arn, RoleSessionName = p.role_session_name }
  if p.external_id then params.ExternalId = p.external_id end
  if p.duration_seconds then params.DurationSeconds = tostring(p.duration_seconds) end
  return M.call(ctx, "AssumeRole", params, source_creds, what)
end

--- AssumeRoleWithWebIdentity (unsigned).
--- p: { role_arn, role_session_name, token, duration_seconds }
function M.assume_role_with_web_identity(ctx, p, what)
  local params = { RoleArn = p.role_arn, RoleSessionName = p.role_session_name, WebIdentityToken = p.token }
  if p.duration_seconds then params.DurationSeconds = tostring(p.duration_seconds) end
  return M.call(ctx, "AssumeRoleWithWebIdentity", params, nil, what)
end

--- A default session name: aws-connect-lua-<epoch seconds>.
function M.session_name(ctx)
  return "aws-connect-lua-" .. tostring(math.floor(ctx.clock()))
end

return M
