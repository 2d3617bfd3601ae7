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
local times = require("aws_connect.times")

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
    yield = function(seconds) return M._yield(seconds) end,
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
-- Chosen per call, never in new(): clients are often made in init_by_lua,
-- where no cosocket exists, and used later from content handlers. Inside
-- nginx the default is the cosocket transport; a phase without cosockets
-- gets a ConfigError, unless transport = "curl" was asked for.

-- ngx_lua phases in which cosockets and ngx.sleep work
local COSOCKET_PHASES = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

--- The ngx_lua phase (ngx.get_phase()) inside nginx, nil elsewhere.
local function nginx_phase()
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return nil end
  return ngx.get_phase()
end

--- True where ngx.sleep and cosockets can be used right now.
local function can_yield()
  local phase = nginx_phase()
  return phase ~= nil and COSOCKET_PHASES[phase] == true
end
M._can_yield = can_yield

--- "curl" or "ngx" for a call made now; raises the ConfigError of a phase
--- without cosockets.
local function kind_now(p)
  local t = p.transport_opt
  if t == "curl" then return "curl" end
  local phase = nginx_phase()
  if not phase then
    if t == "ngx" then
      errors.raise("ConfigError", 'transport "ngx" needs OpenResty (ngx_lua); leave transport unset outside nginx',
        { field = "transport" })
    end
    return "curl"
  end
  if not COSOCKET_PHASES[phase] then
    errors.raise("ConfigError", ('cannot send from the nginx "%s" phase, which has no cosockets: call from '
      .. 'content, access or rewrite handlers or timers (from init_worker_by_lua use ngx.timer.at(0, ...)), '
      .. 'or pass transport = "curl" to block the worker instead'):format(phase), { field = "transport", phase = phase })
  end
  return "ngx"
end
M._transport_kind = kind_now

local function worker_pid()
  if type(ngx) == "table" and type(ngx.worker) == "table" and ngx.worker.pid then return ngx.worker.pid() end
  return 0
end

--- A new transport of the kind the client uses now (curl, or ngx inside nginx).
local function make_transport(kind)
  return require("aws_connect.transport." .. kind).new()
end

function M._new_transport(p)
  local t = p.transport_opt
  if type(t) == "table" then return t end
  return make_transport(kind_now(p))
end

--- The client's transport for a call made now. The ngx transport holds no
--- connection (nginx pools them per worker), so one object serves every
--- concurrent request; a curl session made before nginx forked is not
--- shared with the workers.
local function transport_of(p)
  local t = p.transport_opt
  if type(t) == "table" then return t end
  local kind, pid = kind_now(p), worker_pid()
  local cur = p.transport
  if cur and p.transport_kind == kind and p.transport_pid == pid then return cur end
  if cur and cur.close and p.transport_pid == pid then cur:close() end
  cur = make_transport(kind)
  p.transport, p.transport_kind, p.transport_pid = cur, kind, pid
  return cur
end

--- Waits without blocking where other requests can run meanwhile (nginx,
--- in a phase with ngx.sleep) and returns true; returns false at once
--- elsewhere. Given to credential providers as ctx.env.yield (single-flight
--- refresh: later callers wait for the first one's fetch).
function M._yield(seconds)
  if not can_yield() then return false end
  ngx.sleep(seconds or 0)
  return true
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

local epoch, parse_http_date = times.epoch, times.parse_http_date
M._epoch = epoch
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

-- Replaces every occurrence of a secret (and of its percent-encoded form)
-- in s. A service may echo signed material back: AWS's signature-mismatch
-- message quotes the canonical request, X-Amz-Security-Token included.
local function redact(s, secrets)
  if type(s) ~= "string" or not secrets then return s end
  for i = 1, #secrets do
    local v = secrets[i]
    local from = 1
    while true do
      local a, b = s:find(v, from, true)
      if not a then break end
      s = s:sub(1, a - 1) .. "REDACTED" .. s:sub(b + 1)
      from = a + 8
    end
  end
  return s
end
M._redact = redact

local function secrets_of(creds)
  local list = {}
  for _, v in ipairs({ creds.secret_access_key, creds.session_token or false }) do
    if type(v) == "string" and v ~= "" then
      list[#list + 1] = v
      local enc = operations.encode(v)
      if enc ~= v then list[#list + 1] = enc end
    end
  end
  return list
end

-- Linear-time trim (a "^%s*(.-)%s*$" match is quadratic on a long body).
local function trim(s)
  local a = s:find("%S")
  if not a then return "" end
  local b = #s
  while s:find("^%s", b) do b = b - 1 end
  return s:sub(a, b)
end

local function redact_table(t, secrets, depth)
  for k, v in pairs(t) do
    if type(v) == "string" then t[k] = redact(v, secrets)
    elseif type(v) == "table" and depth < 4 then redact_table(v, secrets, depth + 1) end
  end
end

--- Turns an error response (status >= 300) into an error object, as
--- botocore's rest-json parser does (aws-behaviour.md section 2). secrets
--- (optional) are scrubbed from everything taken from the body.
local function service_error(resp, secrets)
  local body = resp.body or ""
  local status = resp.status
  local code = header(resp, "x-amzn-ErrorType")
  local message
  local doc
  local trimmed = trim(body)
  if trimmed:sub(1, 1) == "{" then
    local d = core.json_decode(body)
    if type(d) == "table" then doc = d end
  end
  local request_id = header(resp, "x-amzn-RequestId")
  local head = trimmed:sub(1, 9):lower()
  if status >= 500 and not doc and (trimmed == "" or head:sub(1, 6) == "<html>" or head == "<!doctype") then
    -- a generic 5xx page (load balancer, proxy): the status is the code
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
  if code then code = printable(redact(clean_code(code), secrets), 200) end
  if not code or code == "" then code = tostring(status) end
  message = redact(message or "", secrets)
  local e = errors.new(code, printable(message, 1000), {
    kind = "service",
    status = status,
    request_id = request_id and printable(redact(request_id, secrets), 200),
  })
  if doc and type(doc.Reason) == "table" then
    if secrets then redact_table(doc.Reason, secrets, 1) end
    e.reason = doc.Reason
  end
  return e
end
M._service_error = service_error

--- The error of an attempt that got no usable HTTP response. kind is the
--- transport's (transport/curl.lua); retry.lua decides what is retried.
local function transport_error(kind, msg, secrets)
  msg = printable(redact(msg or kind or "transport failure", secrets), 300)
  if kind == "timeout" then
    return errors.new("TimeoutError", "request timed out: " .. msg)
  elseif kind == "tls" then
    local e = errors.new("NetworkError", "TLS certificate verification failed: " .. msg
      .. " (ca_file can name a CA bundle to trust)")
    e.tls = true
    return e
  elseif kind == "too_large" then
    return errors.new("ResponseError", msg)
  elseif kind == "protocol" then
    local e = errors.new("ResponseError", "unreadable response: " .. msg)
    e.transient = true
    return e
  elseif kind == "usage" then
    local e = errors.new("ConfigError", msg)
    e.unsent = true   -- refused before anything went out
    return e
  elseif kind == "recv" then
    return errors.new("NetworkError", "connection failed before a response arrived: " .. msg)
  elseif kind == "connect" then
    return errors.new("NetworkError", "cannot connect: " .. msg)
  end
  return errors.new("NetworkError", msg)
end
M._transport_error = transport_error

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
  -- core.authorize is core.sign without the tables (same signer, same rules)
  local authorization, amz_date = core.authorize(op.method, path, wire.query or "", ep.host_header,
    wire.body and "application/json" or nil, wire.body or "", p.region, "connect",
    creds.access_key_id, creds.secret_access_key, creds.session_token,
    math.floor(p.clock() + p.clock_offset))
  local h = sign_headers
  h[#h + 1] = { "X-Amz-Date", amz_date }
  if creds.session_token then h[#h + 1] = { "X-Amz-Security-Token", creds.session_token } end
  h[#h + 1] = { "Authorization", authorization }
  h[#h + 1] = { "User-Agent", p.user_agent }
  h[#h + 1] = { "amz-sdk-invocation-id", invocation_id }
  h[#h + 1] = { "amz-sdk-request", ("attempt=%d; max=%d"):format(attempt, p.max_attempts) }
  local url = ep.scheme .. "://" .. ep.host_header .. path
  if wire.query and wire.query ~= "" then url = url .. "?" .. wire.query end
  -- config and credentials refuse control characters; this is the last
  -- line before the wire (no header injection, whatever the source)
  for i = 1, #h do
    local v = h[i][2]
    if v:find("\r", 1, true) or v:find("\n", 1, true) or v:find("\0", 1, true) then
      errors.raise("ValidationError", ("the %s header would contain CR, LF or NUL; nothing was sent"):format(h[i][1]),
        { field = h[i][1] })
    end
  end
  if url:find("[%z\1-\32\127]") then
    errors.raise("ValidationError", "the request URL would contain a control character or space; nothing was sent",
      { field = "endpoint" })
  end
  return {
    method = op.method, url = url, headers = h, body = wire.body,
    connect_timeout = p.connect_timeout, timeout = p.timeout,
    verify_tls = p.verify_tls, ca_file = p.ca_file, proxy = p.proxy, max_body = p.max_body,
  }
end

-- The backoff sleep: the sleep option, else the transport's (ngx.sleep for
-- the ngx transport), else ngx.sleep where it works (curl asked for inside
-- nginx), else the blocking core.sleep.
local function sleep_of(p, transport)
  if p.sleep then return p.sleep end
  if transport.sleep then return function(s) transport:sleep(s) end end
  if can_yield() then return ngx.sleep end
  return core.sleep
end
--- The sleep a call made now would use (for lifecycle.lua's polling).
function M._sleep_of(p)
  return sleep_of(p, transport_of(p))
end

--- The server's own idea of when to retry, in seconds (nil: none):
--- x-amz-retry-after (milliseconds), else Retry-After (seconds or an
--- HTTP date, taken relative to the response's Date). retry.lua caps it.
local function retry_hint(p, resp)
  if not resp then return nil end
  local ms = tonumber(header(resp, "x-amz-retry-after") or "")
  if ms and ms == ms and ms >= 0 then return ms / 1000 end
  local ra = header(resp, "Retry-After")
  if not ra then return nil end
  local s = tonumber(ra)
  if s then
    if s == s and s >= 0 then return s end
    return nil
  end
  local at = parse_http_date(ra)
  if not at then return nil end
  local now = parse_http_date(header(resp, "Date")) or (p.clock() + p.clock_offset)
  return math.max(0, at - now)
end
M._retry_hint = retry_hint

-- One attempt: returns true, result, resp or false, err, resp. Never
-- raises for anything the server sends; a bad request raises before it
-- is sent (attempts = 0 on the first attempt).
local function attempt_once(p, op, wire, creds, attempt, invocation_id, secrets)
  local transport = transport_of(p)
  local req = build_request(p, op, wire, creds, attempt, invocation_id)
  local t0 = core.monotonic()
  local resp, kind, msg = transport:request(req)
  local ms = (core.monotonic() - t0) * 1000
  if not resp then
    if p.logger then log(p, "debug", redact(("%s %s attempt %d: %s (%s) after %.0f ms"):format(
      op.method, req.url, attempt, tostring(kind), tostring(msg or ""), ms), secrets)) end
    return false, transport_error(kind, msg, secrets)
  end
  local status = tonumber(resp.status) or 0
  if p.logger then
    log(p, "debug", redact(("%s %s attempt %d: HTTP %d in %.1f ms"):format(op.method, req.url, attempt, status, ms),
      secrets))
  end
  if status >= 200 and status < 300 then
    local doc
    local body = resp.body or ""
    if body == "" and op.method == "DELETE" then
      doc = {}
    else
      local err
      doc, err = core.json_decode(body)
      if doc == nil then
        -- a proxy's page, a cut-off body: never reuse that connection
        if transport.discard then transport:discard() end
        return false, errors.new("ResponseError", ("HTTP %d response is not JSON: %s"):format(status, tostring(err)),
          { status = status, request_id = header(resp, "x-amzn-RequestId") }), resp
      end
    end
    local ok, result = pcall(op.parse, doc)
    if not ok then
      if transport.discard then transport:discard() end
      if errors.is_error(result) then
        result.status = status
        result.request_id = header(resp, "x-amzn-RequestId")
        return false, result, resp
      end
      error(result, 0)
    end
    return true, result, resp
  end
  if status < 300 then
    -- 1xx as a final answer: not an HTTP exchange we can read
    if transport.discard then transport:discard() end
    local e = errors.new("ResponseError", ("unexpected HTTP %d response"):format(status), { status = status })
    e.transient = true
    return false, e, resp
  end
  -- 3xx (a misconfigured endpoint, never a Connect answer) and errors
  return false, service_error(resp, secrets), resp
end

--- Seconds to add to the client's clock when err says the request time
--- was off (aws-behaviour.md section 6), from the response's Date header;
--- nil when err is no skew error or the Date is within 5 minutes.
local function skew_of(p, err, resp)
  if not resp or err.kind ~= "service" or not retry.SKEW[err.code] then return nil end
  local server = parse_http_date(header(resp, "Date"))
  if not server then return nil end
  local local_now = p.clock() + p.clock_offset
  local diff = server - local_now
  if math.abs(diff) > 300 or (err.code == "RequestTimeTooSkewed" and math.abs(diff) >= 1) then return diff end
  return nil
end

--- Runs one operation: validation, token, signing, the retry loop.
--- Every attempt is signed afresh (new X-Amz-Date) and carries the same
--- idempotency token, invocation id and body; the final error carries
--- attempts and the last attempt's status and request id.
function Client:_call(op, params, what)
  local p = private[self]
  if not p then errors.raise("ConfigError", "not a client (use client:method(), not client.method())") end
  local input = validate.members(params, op.members, what)
  if op.token and input[op.token] == nil then input[op.token] = core.uuid4() end
  local wire = op.serialize(input)
  local creds = p.resolver:get()
  -- the redaction list changes only when the credentials do
  local secrets = p.secrets
  if p.secrets_creds ~= creds then
    secrets = secrets_of(creds)
    p.secrets, p.secrets_creds = secrets, creds
  end
  local invocation_id = core.uuid4()
  local policy = p.policy
  local max = p.max_attempts
  local attempt, last_cost, skew_fixed = 0, nil, false
  local transport = transport_of(p)
  local sleep = sleep_of(p, transport)
  while true do
    attempt = attempt + 1
    local ok, res, resp = attempt_once(p, op, wire, creds, attempt, invocation_id, secrets)
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
    err.attempts = err.unsent and attempt - 1 or attempt
    err.unsent = nil
    err.retryable = policy:retryable(err)
    local diff = not skew_fixed and skew_of(p, err, resp)
    if diff then
      -- our clock is off: take the offset from the server's Date and retry
      -- once at once (the request was refused unread; no quota is spent)
      skew_fixed = true
      p.clock_offset = p.clock_offset + diff
      err.retryable = true
      log(p, "warn", ("clock skew of %.0f s detected from the server's Date header; corrected"):format(diff))
      if attempt >= max then error(err, 0) end
    else
      if not err.retryable or attempt >= max then error(err, 0) end
      local acquired, cost = policy:acquire(err)
      if not acquired then
        err.message = err.message .. " (retry quota exhausted)"
        err.quota_exhausted = true
        log(p, "warn", ("%s failed with %s; the client's retry quota is exhausted, not retrying"):format(
          op.name, err.code))
        error(err, 0)
      end
      last_cost = cost
      local delay = policy:backoff(attempt, retry_hint(p, resp))
      log(p, "info", ("%s failed with %s (attempt %d of %d); retrying in %.2f s"):format(
        op.name, err.code, attempt, max, delay))
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
  local given = params.instance_id or params.InstanceId
  if given ~= nil and given ~= id then
    errors.validation("instance_id", what .. ": the instance id is given twice, with different values")
  end
  params.instance_id, params.InstanceId = id, nil
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
