-- aws_connect: the public API. new() resolves a client's settings; the
-- client's methods validate parameters, sign and send one request per
-- attempt through a transport, retry what the standard retry mode retries,
-- and return results as snake_case tables or raise typed errors
-- (aws_connect.errors). Secrets live in a private table keyed by the
-- client, so tostring(client) and the logger never see them.

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local validate = require("aws_connect.validate")
local operations = require("aws_connect.operations")
local config = require("aws_connect.config")
local credentials = require("aws_connect.credentials")
local retry = require("aws_connect.retry")

local M = {
  VERSION = core.version,
  errors = errors,
  null = core.null,
}

local private = setmetatable({}, { __mode = "k" })

local Client = {}
Client.__index = Client

local OPTIONS = {
  "region", "profile", "credentials", "endpoint", "use_fips", "use_dualstack",
  "connect_timeout", "timeout", "max_attempts", "retry_mode", "verify_tls", "ca_file",
  "proxy", "transport", "app_id", "logger", "sleep", "clock", "random", "getenv", "max_body",
}
local KNOWN_OPTION = {}
for _, k in ipairs(OPTIONS) do KNOWN_OPTION[k] = true end

local function lua_version()
  if type(jit) == "table" and jit.version then  -- luacheck: globals jit
    return "5.1 md/" .. jit.version:gsub("%s+", "#")
  end
  return (_VERSION:match("%d+%.%d+")) or "unknown"
end

local function user_agent(app_id)
  local ua = "lua-aws-connect/" .. core.version .. " lua/" .. lua_version()
  if app_id then ua = ua .. " app/" .. app_id end
  return ua
end

local function check_options(opts)
  for k in pairs(opts) do
    if not KNOWN_OPTION[k] then
      local best, bestd
      if type(k) == "string" then
        for _, name in ipairs(OPTIONS) do
          local d = validate.distance(k, name)
          if not bestd or d < bestd then best, bestd = name, d end
        end
      end
      local msg = ("unknown option %s for aws_connect.new"):format(tostring(k))
      if best and bestd <= 3 then msg = msg .. ("; did you mean '%s'?"):format(best) end
      errors.raise("ConfigError", msg, { field = tostring(k) })
    end
  end
end

local function check_function(opts, name)
  local v = opts[name]
  if v ~= nil and type(v) ~= "function" then
    errors.raise("ConfigError", name .. " must be a function, got " .. type(v), { field = name })
  end
  return v
end

--- Creates a client. Every field of opts is optional (see README).
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    errors.raise("ConfigError", "aws_connect.new expects a table of options, got " .. type(opts))
  end
  check_options(opts)
  local cfg = config.resolve(opts)

  local t = opts.transport
  if t ~= nil and t ~= "curl" and t ~= "ngx"
    and not (type(t) == "table" and type(t.request) == "function") then
    errors.raise("ConfigError", "transport must be \"curl\", \"ngx\" or a table with a request function",
      { field = "transport" })
  end

  local clock = check_function(opts, "clock") or core.now
  local self = setmetatable({
    region = cfg.region,
    endpoint = cfg.ep.url,
  }, Client)
  local p = {
    cfg = cfg,
    ep = cfg.ep,
    region = cfg.region,
    getenv = cfg.getenv,
    connect_timeout = cfg.connect_timeout,
    timeout = cfg.timeout,
    max_body = cfg.max_body,
    verify_tls = cfg.verify_tls,
    ca_file = cfg.ca_file,
    proxy = cfg.proxy,
    user_agent = user_agent(cfg.app_id),
    logger = check_function(opts, "logger"),
    sleep = check_function(opts, "sleep"),
    clock = clock,
    clock_offset = 0,
    transport_opt = t,
    retry_mode = cfg.retry_mode,
    max_attempts = cfg.max_attempts,
  }
  p.policy = retry.new{ max_attempts = p.max_attempts, random = check_function(opts, "random") }
  p.resolver = credentials.resolver(opts, cfg.getenv, function() return clock() + p.clock_offset end, nil, {
    cfg = cfg,
    -- providers that talk HTTP (IMDS, containers, STS) use a transport of the client's kind
    new_transport = function() return M._new_transport(p) end,
    log = function(level, msg) M._log(p, level, msg) end,
  })
  private[self] = p
  if not p.verify_tls then
    M._log(p, "warn", "TLS certificate verification is off (verify_tls = false)")
  end
  return self
end

function M._log(p, level, msg)
  if p.logger then pcall(p.logger, level, msg) end
end
local log = M._log

Client.__tostring = function(self)
  return ("aws_connect client (region %s, endpoint %s)"):format(self.region, self.endpoint)
end

-- Transports ---------------------------------------------------------------

--- A new transport of the kind the client uses (curl, or ngx inside nginx).
function M._new_transport(p)
  local t = p.transport_opt
  if type(t) == "table" then return t end
  return require("aws_connect.transport.curl").new()
end

local function transport_of(p)
  local t = p.transport_opt
  if type(t) == "table" then return t end
  if p.transport then return p.transport end
  p.transport = M._new_transport(p)
  return p.transport
end

-- Response parsing -----------------------------------------------------------

local function header(resp, name)
  name = name:lower()
  local hs = resp.headers or {}
  for i = #hs, 1, -1 do
    if hs[i][1]:lower() == name then return hs[i][2] end
  end
  return nil
end
M._header = header

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- epoch seconds of a civil UTC date (Howard Hinnant's days_from_civil)
local function epoch(y, m, d, hh, mm, ss)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + hh * 3600 + mm * 60 + ss
end
M._epoch = epoch

--- Parses an HTTP Date (RFC 7231 IMF-fixdate) into epoch seconds.
local function parse_http_date(s)
  if not s then return nil end
  local d, mon, y, hh, mm, ss = s:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d or not MONTHS[mon] then return nil end
  return epoch(tonumber(y), MONTHS[mon], tonumber(d), tonumber(hh), tonumber(mm), tonumber(ss))
end
M._parse_http_date = parse_http_date

local function clean_code(code)
  code = code:match("^[^:]*")
  code = code:match("([^#]*)$")
  return code
end

local function printable(s, max)
  s = s:gsub("[%z\1-\8\11\12\14-\31\127]", "?"):gsub("[\r\n\t]+", " ")
  if #s > max then s = s:sub(1, max) .. "..." end
  return s
end

--- Turns an error response (status >= 300) into an error object, as
--- botocore's rest-json parser does (aws-behaviour.md section 2).
local function service_error(resp)
  local body = resp.body or ""
  local status = resp.status
  local code = header(resp, "x-amzn-ErrorType")
  local message
  local doc
  local trimmed = body:match("^%s*(.-)%s*$")
  if trimmed:sub(1, 1) == "{" then
    local d = core.json_decode(body)
    if type(d) == "table" then doc = d end
  end
  local request_id = header(resp, "x-amzn-RequestId")
  if status >= 500 and (trimmed == "" or trimmed:lower():sub(1, 6) == "<html>"
      or trimmed:lower():sub(1, 9) == "<!doctype") and not doc then
    code, message, request_id = nil, resp.reason, nil
  elseif doc then
    if not code then
      local c = doc.code
      if type(c) ~= "string" then c = doc.Code end
      if type(c) ~= "string" then c = doc.__type end
      if type(c) == "string" then code = c end
    end
    local m = doc.message
    if type(m) ~= "string" then m = doc.Message end
    if type(m) == "string" then message = m end
  else
    message = trimmed
  end
  if code then code = clean_code(code) end
  if not code or code == "" then code = tostring(status) end
  local e = errors.new(code, printable(message or "", 1000), {
    kind = "service",
    status = status,
    request_id = request_id,
  })
  if doc and type(doc.Reason) == "table" then e.reason = doc.Reason end
  return e
end
M._service_error = service_error

local function transport_error(kind, msg)
  msg = printable(msg or kind, 300)
  if kind == "timeout" then
    return errors.new("TimeoutError", "request timed out: " .. msg)
  elseif kind == "tls" then
    local e = errors.new("NetworkError", "TLS failure: " .. msg)
    e.tls = true
    return e
  elseif kind == "too_large" then
    return errors.new("ResponseError", msg)
  elseif kind == "protocol" then
    local e = errors.new("ResponseError", "unreadable response: " .. msg)
    e.transient = true
    return e
  elseif kind == "usage" then
    return errors.new("ConfigError", msg)
  elseif kind == "recv" then
    return errors.new("NetworkError", "connection failed while reading the response: " .. msg)
  end
  return errors.new("NetworkError", msg)
end

-- The request loop -------------------------------------------------------------

local function redact_auth(a)
  return (a:gsub("Signature=%x+", "Signature=REDACTED"))
end

--- Builds the signed request of one attempt.
local function build_request(p, op, wire, creds, attempt, invocation_id)
  local ep = p.ep
  local path = ep.base_path .. wire.path
  local sign_headers = { { "Host", ep.host_header } }
  if wire.body then sign_headers[2] = { "Content-Type", "application/json" } end
  local s = core.sign{
    method = op.method, path = path, query = wire.query or "", headers = sign_headers,
    body = wire.body or "", region = p.region, service = "connect",
    access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key,
    session_token = creds.session_token,
    time = math.floor(p.clock() + p.clock_offset),
  }
  local h = sign_headers
  h[#h + 1] = { "X-Amz-Date", s.amz_date }
  if creds.session_token then h[#h + 1] = { "X-Amz-Security-Token", creds.session_token } end
  h[#h + 1] = { "Authorization", s.authorization }
  h[#h + 1] = { "User-Agent", p.user_agent }
  h[#h + 1] = { "amz-sdk-invocation-id", invocation_id }
  h[#h + 1] = { "amz-sdk-request", ("attempt=%d; max=%d"):format(attempt, p.max_attempts) }
  local url = ep.scheme .. "://" .. ep.host_header .. path
  if wire.query and wire.query ~= "" then url = url .. "?" .. wire.query end
  return {
    method = op.method, url = url, headers = h, body = wire.body,
    connect_timeout = p.connect_timeout, timeout = p.timeout,
    verify_tls = p.verify_tls, ca_file = p.ca_file, proxy = p.proxy, max_body = p.max_body,
  }, s
end

local function sleep_of(p, transport)
  if p.sleep then return p.sleep end
  if transport.sleep then return function(s) transport:sleep(s) end end
  return core.sleep
end

local function retry_hint(resp)
  local ms = tonumber(header(resp, "x-amz-retry-after") or "")
  if ms then return ms / 1000 end
  local s = tonumber(header(resp, "Retry-After") or "")
  return s
end

-- One attempt: returns true, result, resp or false, err, resp
local function attempt_once(p, op, wire, creds, attempt, invocation_id)
  local transport = transport_of(p)
  local req = build_request(p, op, wire, creds, attempt, invocation_id)
  local t0 = core.monotonic()
  local resp, kind, msg = transport:request(req)
  local ms = (core.monotonic() - t0) * 1000
  if not resp then
    log(p, "debug", ("%s %s attempt %d: %s (%s) after %.0f ms"):format(op.method, req.url, attempt, kind, msg or "", ms))
    return false, transport_error(kind, msg)
  end
  log(p, "debug", ("%s %s attempt %d: HTTP %d in %.1f ms"):format(op.method, req.url, attempt, resp.status, ms))
  if resp.status >= 200 and resp.status < 300 then
    local doc
    if resp.body == "" and op.method == "DELETE" then
      doc = {}
    else
      local err
      doc, err = core.json_decode(resp.body)
      if doc == nil then
        if transport.discard then transport:discard() end
        return false, errors.new("ResponseError", ("HTTP %d response is not JSON: %s"):format(resp.status, err),
          { status = resp.status, request_id = header(resp, "x-amzn-RequestId") }), resp
      end
    end
    local ok, result = pcall(op.parse, doc)
    if not ok then
      if transport.discard then transport:discard() end
      if errors.is_error(result) then
        result.status = resp.status
        result.request_id = header(resp, "x-amzn-RequestId")
        return false, result, resp
      end
      error(result, 0)
    end
    return true, result, resp
  end
  if resp.status >= 300 and resp.status < 400 then
    -- a redirect is a misconfigured endpoint, never a Connect answer
    local e = service_error(resp)
    return false, e, resp
  end
  return false, service_error(resp), resp
end

local function skew_of(p, err, resp)
  if not resp or err.kind ~= "service" or not retry.SKEW[err.code] then return nil end
  local server = parse_http_date(header(resp, "Date"))
  if not server then return nil end
  local local_now = p.clock() + p.clock_offset
  local diff = server - local_now
  if err.code == "RequestTimeTooSkewed" or math.abs(diff) > 300 then return diff end
  return nil
end

--- Runs one operation: validation, token, signing, the retry loop.
function Client:_call(op, params, what)
  local p = private[self]
  if not p then errors.raise("ConfigError", "not a client (use client:method(), not client.method())") end
  local input = validate.members(params, op.members, what)
  if op.token and input[op.token] == nil then input[op.token] = core.uuid4() end
  local wire = op.serialize(input)
  local creds = p.resolver:get()
  local invocation_id = core.uuid4()
  local policy = p.policy
  local attempt, last_cost, skew_fixed = 0, nil, false
  local transport = transport_of(p)
  local sleep = sleep_of(p, transport)
  while true do
    attempt = attempt + 1
    local ok, res, resp = attempt_once(p, op, wire, creds, attempt, invocation_id)
    if ok then
      policy:success(last_cost)
      return res, {
        request_id = header(resp, "x-amzn-RequestId"),
        status = resp.status,
        attempts = attempt,
        client_token = op.token and input[op.token] or nil,
      }
    end
    local err = res
    err.attempts = attempt
    err.retryable = policy:retryable(err)
    local diff = not skew_fixed and skew_of(p, err, resp)
    if diff then
      -- our clock is off: correct the offset from the server's Date and retry once
      skew_fixed = true
      p.clock_offset = p.clock_offset + diff
      log(p, "warn", ("clock skew of %.0f s detected from the server's Date header; corrected"):format(diff))
      if attempt >= p.max_attempts + 1 then error(err, 0) end
    else
      if not err.retryable or attempt >= p.max_attempts then error(err, 0) end
      local acquired, cost = policy:acquire(err)
      if not acquired then
        err.message = err.message .. " (retry quota exhausted)"
        error(err, 0)
      end
      last_cost = cost
      local delay = policy:backoff(attempt, resp and retry_hint(resp))
      log(p, "info", ("%s failed with %s (attempt %d of %d); retrying in %.2f s"):format(
        op.name, err.code, attempt, p.max_attempts, delay))
      sleep(delay)
    end
  end
end

-- Operations -----------------------------------------------------------------

function Client:create_instance(params)
  return self:_call(operations.create_instance, params, "create_instance")
end

local function id_params(id, extra, what)
  local params = {}
  if type(id) == "table" and extra == nil then
    return id
  end
  if extra ~= nil then
    if type(extra) ~= "table" then errors.validation("options", what .. ": options must be a table") end
    for k, v in pairs(extra) do params[k] = v end
  end
  params.instance_id = id
  if id == nil then errors.validation("instance_id", "instance_id is required") end
  return params
end

function Client:describe_instance(id)
  return self:_call(operations.describe_instance, id_params(id, nil, "describe_instance"), "describe_instance")
end

function Client:list_instances(params)
  return self:_call(operations.list_instances, params, "list_instances")
end

function Client:delete_instance(id, opts)
  return self:_call(operations.delete_instance, id_params(id, opts, "delete_instance"), "delete_instance")
end

--- Closes the client's connection; the client stays usable (a later call
--- opens a new one).
function Client:close()
  local p = private[self]
  if p and p.transport and p.transport.close then p.transport:close() end
  if p then p.transport = nil end
end

M._private = function(client) return private[client] end
require("aws_connect.lifecycle").install(Client, M)
M.Client = Client
M._redact_auth = redact_auth

return M
