-- Test helper: the fault matrix of issue 3, shared by
-- spec/fault_matrix_spec.lua (which asserts each row's outcome) and
-- spec/safety_spec.lua (which scans everything a row produced for secrets).
--
-- Each case drives the fake server's fault controls (spec/support/
-- fake_connect.py: scripted responses and faults, config) and runs one
-- client call with an injected sleep that records the backoff delays and
-- advances an injected clock, so the matrix runs in seconds.
--
--   local matrix = require("spec.support.fault_matrix")
--   local ctx = matrix.context()          -- starts the fake server(s)
--   local out = matrix.run(ctx, case)     -- one row (see run below)
--   matrix.print_table(rows); ctx:stop()

local aws_connect = require("aws_connect")
local core = require("aws_connect.core")
local fake = require("spec.support.fake_server")
local cjson = require("cjson")

local M = {}

-- distinctive secrets with characters that change when percent-encoded
M.KEY = "AKIDFAULTMATRIX0001"
M.SECRET = "fault/Matrix+Secret/wJalrXUtnFEMIK7MDENGbPxRfiCYzzz"
M.TOKEN = "FwoGZXIvYXdzEFAULT//matrix+session/token=value+Zm9vYmFy=="

local function json(t) return cjson.encode(t) end

local function err_item(status, code, message, extra)
  local item = { status = status, headers = {}, body = json{ message = message } }
  if code then item.headers["x-amzn-ErrorType"] = code end
  for k, v in pairs(extra or {}) do item.headers[k] = v end
  return item
end

local function rep(n, item)
  local t = {}
  for i = 1, n do t[i] = item end
  return t
end

local THROTTLE = err_item(429, "ThrottlingException", "Rate exceeded")
local HTML_503 = { status = 503, reason = "Service Unavailable",
  headers = { ["Content-Type"] = "text/html" },
  body = "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    .. "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>" }
local FAULT_BODY = json{ Id = "11111111-2222-4333-8444-555555555555",
  Arn = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555" }

local function http_date(t)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(t))
end

--- The cases. Fields: name, op ("create" default, "describe", "list"),
--- script (items or function(ctx) -> items), setup(ctx), client (extra
--- options), on_sleep(ctx, delay), expect = { ok = true } or { code, kind,
--- retryable, message (Lua pattern) }, attempts, requests (server-side
--- count, default attempts), instances (creates; default 1 when ok, else
--- 0), fresh_connection (the next call must not reuse the connection),
--- delays (number of backoff sleeps, default attempts - 1 on retryable
--- paths), min_delay, max_seconds (wide sanity bound), burst.
M.cases = {
  {
    name = "throttle then success",
    script = { THROTTLE },
    expect = { ok = true }, attempts = 2,
  },
  {
    name = "3x throttle",
    script = rep(3, THROTTLE),
    expect = { code = "ThrottlingException", kind = "service", retryable = true, message = "Rate exceeded" },
    attempts = 3,
  },
  {
    name = "throttle with x-amz-retry-after 1500 ms",
    script = { err_item(429, "ThrottlingException", "Slow down", { ["x-amz-retry-after"] = "1500" }) },
    client = { random = function() return 0 end },
    expect = { ok = true }, attempts = 2, min_delay = 1.5,
  },
  {
    name = "bare 429 then success",
    script = { { status = 429, body = "" } },
    expect = { ok = true }, attempts = 2,
  },
  {
    name = "500 then success",
    script = { err_item(500, "InternalServiceException", "Internal failure") },
    expect = { ok = true }, attempts = 2,
  },
  {
    name = "503 HTML page (3x)",
    script = rep(3, HTML_503),
    expect = { code = "503", kind = "service", retryable = true, message = "^Service Unavailable$" },
    attempts = 3,
  },
  {
    name = "502 then success",
    script = { { status = 502, reason = "Bad Gateway", headers = { ["Content-Type"] = "text/plain" },
      body = "upstream connect error or disconnect/reset before headers" } },
    expect = { ok = true }, attempts = 2,
  },
  {
    name = "504 (3x)",
    script = rep(3, { status = 504, reason = "Gateway Timeout", body = "" }),
    expect = { code = "504", kind = "service", retryable = true },
    attempts = 3,
  },
  {
    name = "connection refused",
    setup = function(ctx) ctx.endpoint = ctx.refused_endpoint end,
    expect = { code = "NetworkError", kind = "network", retryable = true, message = "connect" },
    attempts = 3, requests = 0,
  },
  {
    name = "reset before the response",
    script = { { fault = "reset" } },
    expect = { ok = true }, attempts = 2, fresh_connection = true,
  },
  {
    name = "reset before the response (3x)",
    script = rep(3, { fault = "reset" }),
    expect = { code = "NetworkError", kind = "network", retryable = true },
    attempts = 3, fresh_connection = true,
  },
  {
    name = "reset mid-body",
    script = { { fault = "reset_mid_body", body = FAULT_BODY, rst_delay = 0.05 } },
    expect = { ok = true }, attempts = 2, fresh_connection = true,
  },
  {
    name = "reset mid-body (3x)",
    script = rep(3, { fault = "reset_mid_body", body = FAULT_BODY, rst_delay = 0.05 }),
    expect = { code = "ResponseError", kind = "response", retryable = true, message = "cut short" },
    attempts = 3, fresh_connection = true,
  },
  {
    name = "delay past the timeout (3x)",
    script = rep(3, { fault = "hang", max_seconds = 20 }),
    client = { timeout = 0.5 },
    expect = { code = "TimeoutError", kind = "timeout", retryable = true, message = "timed out" },
    attempts = 3, fresh_connection = true,
  },
  {
    -- the response is lost after the service created the instance: the
    -- retry (sent once the instance exists) must get the same one back
    name = "delay past the timeout, created meanwhile",
    script = { { pass = true, delay = 1.5 } },
    client = { timeout = 1 },
    on_sleep = function(ctx)
      for _ = 1, 200 do
        if #ctx.srv:instances() >= 1 then return end
        fake.sleep(0.05)
      end
    end,
    expect = { ok = true }, attempts = 2, fresh_connection = true,
  },
  {
    name = "trickle (headers, then 1 byte per 0.3 s)",
    script = rep(3, { fault = "trickle", headers_first = true, interval = 0.3, body = FAULT_BODY }),
    client = { timeout = 0.6 },
    expect = { code = "TimeoutError", kind = "timeout", retryable = true },
    attempts = 3, fresh_connection = true,
  },
  {
    name = "trickle (whole response)",
    script = { { fault = "trickle", interval = 0.2, body = FAULT_BODY } },
    client = { timeout = 0.6 },
    expect = { ok = true }, attempts = 2, fresh_connection = true,
  },
  {
    name = "truncated JSON (connection closed early, 3x)",
    script = rep(3, { fault = "truncated", body = FAULT_BODY }),
    expect = { code = "ResponseError", kind = "response", retryable = true, message = "cut short" },
    attempts = 3, fresh_connection = true,
  },
  {
    name = "truncated JSON then success",
    script = { { fault = "truncated", body = FAULT_BODY } },
    expect = { ok = true }, attempts = 2, fresh_connection = true,
  },
  {
    name = "200 with cut-off JSON text",
    script = { { status = 200, body = '{"Id":"abc","Arn":"arn:aws:conn' } },
    expect = { code = "ResponseError", kind = "response", retryable = false, message = "not JSON" },
    attempts = 1, fresh_connection = true,
  },
  {
    name = "garbage bytes (3x)",
    script = rep(3, { fault = "garbage", length = 200 }),
    expect = { code = "ResponseError", kind = "response", retryable = true },
    attempts = 3, fresh_connection = true,
  },
  {
    name = "2 GiB Content-Length",
    script = { { status = 200, content_length = 2147483648, body = FAULT_BODY } },
    expect = { code = "ResponseError", kind = "response", retryable = false, message = "exceeds" },
    attempts = 1, fresh_connection = true,
  },
  {
    name = "200 with a JSON array",
    script = { { status = 200, body = "[1,2,3]" } },
    expect = { code = "ResponseError", kind = "response", retryable = false, message = "JSON object" },
    attempts = 1, fresh_connection = true,
  },
  {
    name = "200 with wrongly typed JSON",
    script = { { status = 200, body = json{ Id = 42, Arn = true } } },
    expect = { code = "ResponseError", kind = "response", retryable = false, message = "should be a string" },
    attempts = 1, fresh_connection = true,
  },
  {
    name = "200 with an HTML page from a proxy",
    script = { { status = 200, headers = { ["Content-Type"] = "text/html" },
      body = "<!DOCTYPE html><html><body>Please log in to the proxy</body></html>" } },
    expect = { code = "ResponseError", kind = "response", retryable = false, message = "not JSON" },
    attempts = 1, fresh_connection = true,
  },
  {
    name = "400 InvalidRequestException (no retry)",
    script = { err_item(400, "InvalidRequestException", "Alias is already in use") },
    expect = { code = "InvalidRequestException", kind = "service", retryable = false },
    attempts = 1,
  },
  {
    name = "402 ServiceQuotaExceeded (no retry)",
    setup = function(ctx) ctx.srv:config{ quota = 0 } end,
    expect = { code = "ServiceQuotaExceededException", kind = "service", retryable = false },
    attempts = 1,
  },
  {
    name = "404 ResourceNotFound (no retry)",
    op = "describe",
    expect = { code = "ResourceNotFoundException", kind = "service", retryable = false },
    attempts = 1,
  },
  {
    name = "403 AccessDenied (no retry)",
    script = { err_item(403, "AccessDeniedException", "User is not authorized") },
    expect = { code = "AccessDeniedException", kind = "service", retryable = false },
    attempts = 1,
  },
  {
    name = "skewed clock (server 15 min ahead)",
    setup = function(ctx) ctx.srv:config{ clock_offset = 900 } end,
    expect = { ok = true }, attempts = 2, delays = 0, skew = true,
  },
  {
    name = "RequestTimeTooSkewed with Date 20 min behind",
    script = function()
      return { err_item(403, "RequestTimeTooSkewed", "The difference between the request time and the current time "
        .. "is too large.", { Date = http_date(os.time() - 1200) }) }
    end,
    expect = { ok = true }, attempts = 2, delays = 0, skew = true,
    -- the fake server checks the corrected (20 min early) time against
    -- its own clock: allow that skew there for this one case
    setup = function(ctx) ctx.srv:config{ max_skew = 3600 } end,
  },
  {
    name = "InvalidSignatureException, Date in step (no retry)",
    script = { err_item(403, "InvalidSignatureException", "The request signature we calculated does not match") },
    expect = { code = "InvalidSignatureException", kind = "service", retryable = false },
    attempts = 1,
  },
  {
    name = "burst that exhausts the retry quota",
    burst = true,
  },
}

--- Starts the fake server (with a session token) and finds a port on
--- which nothing listens. ctx:stop() stops what it started.
function M.context()
  local ctx = {}
  ctx.srv = fake.start{ access_key = M.KEY, secret_key = M.SECRET, session_token = M.TOKEN,
    region = "us-east-1", create_delay = 0 }
  local dead = fake.start{ access_key = M.KEY, secret_key = M.SECRET }
  ctx.refused_endpoint = dead.endpoint
  dead:stop()
  function ctx.stop()
    if ctx.srv then ctx.srv:stop() end
  end
  return ctx
end

local PARAMS = {
  identity_management_type = "CONNECT_MANAGED",
  inbound_calls_enabled = true,
  outbound_calls_enabled = false,
  instance_alias = "fault-matrix",
}

--- A client for one case: records sleeps and log lines; its clock moves on
--- by each delay plus one second, so that every retry is signed later.
function M.client(ctx, out, extra)
  out.delays, out.logs = {}, {}
  local slept = 0
  local opts = {
    region = "us-east-1",
    endpoint = ctx.endpoint or ctx.srv.endpoint,
    credentials = { access_key_id = M.KEY, secret_access_key = M.SECRET, session_token = M.TOKEN },
    getenv = {},
    app_id = "fault-matrix",
    logger = function(level, msg) out.logs[#out.logs + 1] = tostring(level) .. " " .. tostring(msg) end,
    sleep = function(d)
      out.delays[#out.delays + 1] = d
      slept = slept + d + 1
      if ctx.on_sleep then ctx.on_sleep(ctx, d) end
    end,
    clock = function() return core.now() + slept end,
  }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return aws_connect.new(opts)
end

local function call(client, op)
  if op == "describe" then
    return pcall(client.describe_instance, client, "00000000-0000-4000-8000-00000000dead")
  elseif op == "list" then
    return pcall(client.list_instances, client, {})
  end
  return pcall(client.create_instance, client, PARAMS)
end

local function run_burst(ctx, out)
  -- 50 calls that fail 3 times each use up the 500 tokens (2 retries x 5);
  -- the 51st call fails at once; a success then refunds 1 token
  local srv = ctx.srv
  srv:script(rep(153, { status = 503, body = "" }))
  -- a real clock here: 100 one-second steps would approach the server's
  -- 5-minute skew limit
  local client = M.client(ctx, out, { clock = core.now })
  out.client = client
  out.calls = {}
  out.errors = {}
  local t0 = core.monotonic()
  for i = 1, 51 do
    local ok, e = call(client, "list")
    out.calls[i] = ok and "ok" or (e.code .. "/" .. tostring(e.attempts))
    if not ok then out.errors[#out.errors + 1] = e end
  end
  out.quota_after_burst = aws_connect._private(client).policy.quota
  out.burst_requests = #srv:requests()
  srv:reset()
  local ok, res, meta = call(client, "list")
  out.after_ok, out.after_meta = ok, meta
  if not ok then out.errors[#out.errors + 1] = res end
  out.quota_after_success = aws_connect._private(client).policy.quota
  out.elapsed = core.monotonic() - t0
  out.requests = srv:requests()
  out.err = out.errors[#out.errors]
  out.ok = false
  out.attempts = out.err and out.err.attempts
  return out
end

--- Runs one case; returns out = { ok, result, meta, err, attempts,
--- elapsed, delays, logs, requests (server log of the call), instances,
--- client, followup_ok, followup_requests }.
function M.run(ctx, case)
  local srv = ctx.srv
  srv:reset()
  ctx.endpoint, ctx.on_sleep = nil, case.on_sleep
  local out = { case = case }
  if case.burst then return run_burst(ctx, out) end
  if case.setup then case.setup(ctx) end
  local script = case.script
  if type(script) == "function" then script = script(ctx) end
  if script then srv:script(script) end
  local client = M.client(ctx, out, case.client)
  out.client = client
  local t0 = core.monotonic()
  local ok, res, meta = call(client, case.op)
  out.elapsed = core.monotonic() - t0
  out.ok = ok
  if ok then
    out.result, out.meta, out.attempts = res, meta, meta.attempts
  else
    out.err = res
    out.attempts = type(res) == "table" and res.attempts
  end
  out.requests = srv:requests()
  out.instances = srv:instances()
  if not ctx.endpoint then
    -- the same client goes on working, on a fresh connection after a
    -- broken exchange
    srv:config{ quota = 10 }
    local fok, fres = call(client, "list")
    out.followup_ok, out.followup_err = fok, (not fok) and fres or nil
    out.followup_requests = srv:requests()
  end
  ctx.endpoint, ctx.on_sleep = nil, nil
  return out
end

local function header_of(req, name)
  name = name:lower()
  for _, h in ipairs(req.headers or {}) do
    if h[1]:lower() == name then return h[2] end
  end
  return nil
end
M.header_of = header_of

local function fmt_delays(d)
  local t = {}
  for i = 1, #(d or {}) do t[i] = ("%.2f"):format(d[i]) end
  return #t > 0 and table.concat(t, ",") or "-"
end

--- One printable row of the matrix.
function M.row(out)
  local case = out.case
  local expected, got
  if case.burst then
    expected = "50x 503/3, then 503/1 (quota)"
    got = ("%s .. %s; quota %s -> %s"):format(tostring(out.calls and out.calls[1]), tostring(out.calls and out.calls[51]),
      tostring(out.quota_after_burst), tostring(out.quota_after_success))
  else
    expected = case.expect.ok and "ok" or case.expect.code
    got = out.ok and "ok" or (type(out.err) == "table" and tostring(out.err.code) or tostring(out.err))
  end
  return {
    case.name, expected, got, tostring(out.attempts or "-"), tostring(out.requests and #out.requests or "-"),
    tostring(out.instances and #out.instances or "-"),
    case.burst and (#out.delays .. " sleeps") or fmt_delays(out.delays), ("%.2f"):format(out.elapsed or 0),
  }
end

--- Prints rows as a plain-text table.
function M.print_table(rows)
  local head = { "case", "expected", "got", "attempts", "requests", "instances", "delays (s)", "time (s)" }
  local all = { head }
  for _, r in ipairs(rows) do all[#all + 1] = r end
  local w = {}
  for _, r in ipairs(all) do
    for i, c in ipairs(r) do if not w[i] or #c > w[i] then w[i] = #c end end
  end
  local lines = { "", "Fault matrix:" }
  for n, r in ipairs(all) do
    local cells = {}
    for i, c in ipairs(r) do cells[i] = c .. (" "):rep(w[i] - #c) end
    lines[#lines + 1] = "| " .. table.concat(cells, " | ") .. " |"
    if n == 1 then
      local dashes = {}
      for i = 1, #w do dashes[i] = ("-"):rep(w[i]) end
      lines[#lines + 1] = "|-" .. table.concat(dashes, "-|-") .. "-|"
    end
  end
  io.stdout:write(table.concat(lines, "\n") .. "\n\n")
end

return M
