-- aws_connect.call: one call of one operation, the pipeline of design.md:
-- shape check -> protocol request -> sign -> transport -> retry policy ->
-- output or typed error.
--
-- A call runs against a service context (context()): the model service,
-- its protocol module, endpoint, region and signing name. Connect's is made
-- by new(); the credential providers make STS's, SSO's and SSO-OIDC's the
-- same way, so every service shares one retry loop, one redaction, one
-- User-Agent and one sleep rule.
--
-- Every attempt is signed afresh (a new X-Amz-Date) and carries the same
-- idempotency token, invocation id and body; the final error carries
-- attempts and the last attempt's status and request id.

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local shape = require("aws_connect.shape")
local headers = require("aws_connect.headers")
local times = require("aws_connect.times")
local redact = require("aws_connect.redact")
local transport = require("aws_connect.transport")
local retry = require("aws_connect.retry")

local M = {}

local get_header = headers.get
local printable = redact.printable
local find = string.find
local sign = core.sign

-- The largest clock correction taken from a server's Date header: a clock
-- off by more is a broken clock (or a hostile Date), not skew to correct.
M.MAX_SKEW = 24 * 3600

local function log(p, level, msg)
  if p.logger then pcall(p.logger, level, msg) end
end
M.log = log

--- The redactor of a set of credentials (cached while they stay the same).
local function redactor_of(p, creds)
  if p.red_creds == creds and p.red then return p.red end
  local list = {}
  if creds then
    for _, v in ipairs({ creds.secret_access_key or false, creds.session_token or false }) do
      if type(v) == "string" and v ~= "" then list[#list + 1] = v end
    end
  end
  for _, v in ipairs(p.extra_secrets or {}) do list[#list + 1] = v end
  local red = redact.new(list)
  p.red, p.red_creds = red, creds
  return red
end
M.redactor_of = redactor_of

--- A service context: ctx = { svc, protocol, ep = {scheme, host_header,
--- base_path}, region, signing_name, unsigned }.
function M.context(svc, ep, region, opts)
  opts = opts or {}
  local proto_name = svc.metadata.protocol == "query" and "query" or "rest_json"
  return {
    svc = svc,
    protocol = require("aws_connect.protocol." .. proto_name),
    ep = ep,
    region = region,
    signing_name = opts.signing_name or svc.metadata.signingName or svc.metadata.endpointPrefix,
    unsigned = opts.unsigned,
  }
end

local function check_pair(pair)
  local v = pair[2]
  if find(v, "\r", 1, true) or find(v, "\n", 1, true) or find(v, "\0", 1, true) then
    errors.raise("ValidationError", ("the %s header would contain CR, LF or NUL; nothing was sent"):format(pair[1]),
      { field = pair[1] })
  end
end

-- Config and credentials refuse control characters; this is the last line
-- before the wire (no header injection, whatever the source). Headers
-- h[from..to] and h[a], h[b] are checked: the others are the client's
-- constant pairs (checked once, when made, else full is set) and values
-- made here (dates, uuids). The first bad header in h's order is named.
local function check_wire(h, c, rest, from, to, a, b)
  if c.full then
    for i = 1, #h do check_pair(h[i]) end
  else
    for i = from, to do check_pair(h[i]) end
    if a then check_pair(h[a]) end
    if b then check_pair(h[b]) end
  end
  if c.bad or find(rest, "[%z\1-\32\127]") then
    errors.raise("ValidationError", "the request URL would contain a control character or space; nothing was sent",
      { field = "endpoint" })
  end
end

-- Header pairs that stay the same for a client (Host, User-Agent,
-- Content-Type, amz-sdk-request per attempt): made once, shared by its
-- requests.
local JSON_TYPE = { "Content-Type", "application/json" }

local function const_pairs(p, ctx, ep)
  local c = ctx.const_pairs
  if c and c.ua == p.user_agent and c.max == p.policy.max_attempts and c.ep == ep and c.hh == ep.host_header
    and c.bp == ep.base_path and c.scheme == ep.scheme then
    return c
  end
  c = { ep = ep, ua = p.user_agent, max = p.policy.max_attempts, hh = ep.host_header, bp = ep.base_path,
    scheme = ep.scheme,
    host = { "Host", ep.host_header }, agent = { "User-Agent", p.user_agent }, attempt = {},
    url_base = ep.scheme .. "://" .. ep.host_header .. ep.base_path }
  c.bad = find(c.url_base, "[%z\1-\32\127]") ~= nil
  c.full = not (pcall(check_pair, c.host) and pcall(check_pair, c.agent))
  ctx.const_pairs = c
  return c
end

local function attempt_pair(c, attempt)
  local a = c.attempt[attempt]
  if not a then
    a = { "amz-sdk-request", ("attempt=%d; max=%d"):format(attempt, c.max) }
    if attempt <= 16 then c.attempt[attempt] = a end
  end
  return a
end

--- The signed request of one attempt (the custom-transport contract).
local function signed_request(p, ctx, op, wire, creds, attempt, invocation_id, time)
  local ep = ctx.ep
  local c = const_pairs(p, ctx, ep)
  local path = ep.base_path .. wire.path
  -- sized for the usual 9 headers at once (the slots past the last header stay nil)
  local h = { c.host, nil, nil, nil, nil, nil, nil, nil, nil }
  local n = 1
  local body = wire.body
  if body and body ~= "" then
    local ct = wire.content_type
    h[2] = (ct == nil or ct == "application/json") and JSON_TYPE or { "Content-Type", ct }
    n = 2
  end
  local extra = wire.headers
  for i = 1, #extra do h[n + i] = extra[i] end
  n = n + #extra
  local query = wire.query or ""
  local last, a, b = n, nil, nil
  if ctx.unsigned or op.authtype == "none" then
    -- operations the model marks unsigned (SSO, SSO-OIDC, STS web identity)
    if creds and creds.bearer then n = n + 1; h[n] = creds.bearer; a = n end
  else
    -- one argument table per context, refilled each time (core.sign only reads it)
    local args = ctx.sign_args
    if not args then
      args = { region = ctx.region, service = ctx.signing_name, lean = true }
      ctx.sign_args = args
    end
    args.method, args.path, args.query, args.headers, args.body = op.method, path, query, h, body or ""
    args.region, args.service = ctx.region, ctx.signing_name
    args.access_key_id, args.secret_access_key = creds.access_key_id, creds.secret_access_key
    args.session_token, args.time = creds.session_token, time
    local authorization, amz_date = sign(args)
    args.headers, args.body, args.secret_access_key, args.session_token = nil, nil, nil, nil
    h[n + 1] = { "X-Amz-Date", amz_date }
    n = n + 1
    local token = creds.session_token
    if token then
      local tp = c.token_pair
      if not tp or tp[2] ~= token then
        tp = { "X-Amz-Security-Token", token }
        c.token_pair = tp
      end
      n = n + 1
      h[n] = tp
      a = n
    end
    h[n + 1] = { "Authorization", authorization }
    n = n + 1
    b = n
  end
  h[n + 1] = c.agent
  h[n + 2] = { "amz-sdk-invocation-id", invocation_id }
  h[n + 3] = attempt_pair(c, attempt)
  local rest = query ~= "" and wire.path .. "?" .. query or wire.path
  check_wire(h, c, rest, h[2] == JSON_TYPE and 3 or 2, last, a, b)
  local url = c.url_base .. rest
  return {
    method = op.method, url = url, headers = h, body = body,
    connect_timeout = p.connect_timeout, timeout = p.timeout,
    verify_tls = p.verify_tls, ca_file = p.ca_file, proxy = p.proxy, max_body = p.max_body,
  }
end

local function now(p)
  return p.clock() + p.clock_offset
end

local function sign_time(p)
  local t = math.floor(now(p))
  if not (t >= 0 and t <= 253402300799) then
    errors.raise("ConfigError", "the client's clock is out of range; nothing was sent", { field = "clock" })
  end
  return t
end

--- The error of an attempt that got no usable HTTP response. kind is the
--- transport's; the retry policy decides what is retried.
local function transport_error(kind, msg, red, inside_nginx)
  msg = printable(red:string(msg or kind or "transport failure"), 300)
  if kind == "timeout" then
    return errors.new("TimeoutError", "request timed out: " .. msg)
  elseif kind == "tls" then
    local hint = inside_nginx and " (inside nginx, lua_ssl_trusted_certificate names the CAs to trust)"
      or " (ca_file can name a CA bundle to trust)"
    local e = errors.new("NetworkError", "TLS certificate verification failed: " .. msg .. hint)
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
M.transport_error = transport_error

--- The server's own idea of when to retry, in seconds (nil: none):
--- x-amz-retry-after (milliseconds), else Retry-After (seconds or an HTTP
--- date, relative to the response's Date). The policy caps it.
local function retry_hint(p, resp)
  if not resp then return nil end
  local ms = tonumber(get_header(resp, "x-amz-retry-after") or "")
  if ms and ms == ms and ms >= 0 and ms < 1e9 then return ms / 1000 end
  local ra = get_header(resp, "retry-after")
  if not ra then return nil end
  local s = tonumber(ra)
  if s then
    if s == s and s >= 0 and s < 1e9 then return s end
    return nil
  end
  local at = times.parse_http_date(ra)
  if not at then return nil end
  local server_now = times.parse_http_date(get_header(resp, "date") or "") or now(p)
  return math.max(0, at - server_now)
end
M.retry_hint = retry_hint

--- Seconds to add to the client's clock when err says the request time was
--- off (aws-behaviour.md section 6), from a valid Date header; nil when err
--- is no skew error, the Date is within 5 minutes, or the Date is
--- implausible (more than MAX_SKEW away).
local function skew_of(p, err, resp)
  if not resp or err.kind ~= "service" or not retry.SKEW[err.code] then return nil end
  local server = times.parse_http_date(get_header(resp, "date") or "")
  if not server then return nil end
  local diff = server - now(p)
  if math.abs(diff) > M.MAX_SKEW then
    log(p, "warn", ("the server's Date is %.0f s from the local clock: not corrected (more than %d s); "
      .. "check the system clock"):format(diff, M.MAX_SKEW))
    return nil
  end
  if math.abs(diff) > 300 or (err.code == "RequestTimeTooSkewed" and math.abs(diff) >= 1) then return diff end
  return nil
end

local function discard(t)
  if t.discard then t:discard() end
end

-- One attempt: true, result, resp or false, err, resp. Never raises for
-- anything the server sends; a bad request raises before it is sent.
local function attempt_once(p, ctx, op, wire, creds, attempt, invocation_id, red, t)
  local req = signed_request(p, ctx, op, wire, creds, attempt, invocation_id, sign_time(p))
  local t0 = p.logger and core.monotonic()
  local resp, kind, msg = t:request(req)
  if not resp then
    if p.logger then log(p, "debug", red:string(("%s %s attempt %d: %s (%s) after %.0f ms"):format(
      op.method, req.url, attempt, tostring(kind), tostring(msg or ""), (core.monotonic() - t0) * 1000))) end
    return false, transport_error(kind, msg, red, transport.nginx_phase() ~= nil)
  end
  local status = tonumber(resp.status) or 0
  if p.logger then
    log(p, "debug", red:string(("%s %s attempt %d: HTTP %d in %.1f ms"):format(op.method, req.url, attempt, status,
      (core.monotonic() - t0) * 1000)))
  end
  local proto = ctx.protocol
  if status >= 200 and status < 300 then
    local ok, result = pcall(proto.parse_response, op, resp)
    if not ok then
      discard(t)
      if errors.is_error(result) then
        result.status = status
        local rid = get_header(resp, "x-amzn-requestid")
        result.request_id = rid and printable(red:string(rid), 200) or nil
        result.message = printable(red:string(result.message), 1000)
        return false, result, resp
      end
      error(result, 0)
    end
    return true, result, resp
  end
  if status < 200 then
    -- 1xx as a final answer: not an HTTP exchange we can read
    discard(t)
    local e = errors.new("ResponseError", ("unexpected HTTP %d response"):format(status), { status = status })
    e.transient = true
    return false, e, resp
  end
  -- 3xx (a misconfigured endpoint, never a service answer) and errors
  return false, proto.error(resp, ctx.svc, red), resp
end

--- Validates, fills the idempotency token and serialises: the wire form
--- and the normalised input.
local function serialise(ctx, op, params, what)
  local tok = op.token
  if tok and tok.required and type(params) == "table" and rawget(params, tok.name) == nil
    and rawget(params, tok.snake) == nil then
    -- a required idempotency token (StartContactStreaming) is filled before the required check
    local copy = {}
    for k, v in next, params do copy[k] = v end
    copy[tok.name] = core.uuid4()
    params = copy
  end
  local input = shape.input(op, params, what)
  if tok and input[tok.name] == nil then input[tok.name] = core.uuid4() end
  return ctx.protocol.build(op, input, ctx), input
end

local function credentials_of(p, ctx, op)
  if ctx.unsigned or op.authtype == "none" then return ctx.bearer and { bearer = ctx.bearer } or nil end
  return ctx.credentials or p.resolver:get()
end

--- Runs op with params. Returns result, meta.
function M.run(p, ctx, op, params, what)
  local wire, input = serialise(ctx, op, params, what)
  local creds = credentials_of(p, ctx, op)
  local red = redactor_of(p, creds)
  local invocation_id = core.uuid4()
  local policy = p.policy
  local max = policy.max_attempts
  local attempt, last_cost, skew_fixed = 0, nil, false
  local t = transport.of(p)
  local function sleep(s)   -- the sleep rule, looked up only when a call waits
    return transport.sleep_of(p, t)(s)
  end
  while true do
    attempt = attempt + 1
    local wait = policy:before_send()
    if wait and wait > 0 then sleep(wait) end
    local ok, res, resp = attempt_once(p, ctx, op, wire, creds, attempt, invocation_id, red, t)
    policy:after_attempt(not ok and res or nil)
    if ok then
      policy:success(last_cost)
      local rid = get_header(resp, "x-amzn-requestid")
      return res, {
        request_id = rid and printable(red:string(rid), 200) or nil,
        status = resp.status,
        attempts = attempt,
        client_token = op.token and input[op.token.name] or nil,
      }
    end
    local err = res
    err.attempts = err.unsent and attempt - 1 or attempt
    err.unsent = nil
    err.retryable = policy:retryable(err)
    local diff = not skew_fixed and skew_of(p, err, resp)
    if diff then
      -- our clock is off: take the offset from the server's Date and retry
      -- at once (the request was refused unread; no quota is spent)
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

--- Validates, serialises and signs without sending: the request of the
--- first attempt (method, url, headers, body) with the token and
--- invocation id it would carry. Resolving credentials may need the
--- network (said in the returned credentials_source).
function M.prepare(p, ctx, op, params, what)
  local wire, input = serialise(ctx, op, params, what)
  local creds = credentials_of(p, ctx, op)
  local req = signed_request(p, ctx, op, wire, creds, 1, core.uuid4(), sign_time(p))
  req.operation = op.name
  req.client_token = op.token and input[op.token.name] or nil
  req.credentials_source = creds and creds.source or nil
  return req
end

return M
