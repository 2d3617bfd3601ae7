-- Test handlers that run inside the nginx started by spec/nginx_spec.lua
-- (LuaJIT, ngx_lua). Each content handler answers one JSON object; the
-- spec drives them over HTTP. Not loaded by busted itself.
--
--   init_by_lua_block  { require("spec.support.nginx_app").init{ http = ..., https = ..., untrusted = ... } }
--   content_by_lua_block { require("spec.support.nginx_app").create() }

-- luacheck: globals ngx
local aws_connect = require("aws_connect")
local safe = require("aws_connect.safe")
local errors = require("aws_connect.errors")
local core = require("aws_connect.core")

local M = {}

local CREDS = { access_key_id = "AKIDFAKE", secret_access_key = "secret" }
local endpoints = {}
local clients = {}

local function params(alias)
  return {
    identity_management_type = "CONNECT_MANAGED",
    inbound_calls_enabled = true,
    outbound_calls_enabled = false,
    instance_alias = alias,
  }
end

local function error_info(e)
  if not errors.is_error(e) then return { raw = tostring(e) } end
  return {
    is_error = true, code = e.code, kind = e.kind, message = e.message, status = e.status,
    attempts = e.attempts, retryable = e.retryable, field = e.field, phase = e.phase,
    tls = e.tls, text = tostring(e), is_code = e:is(e.code),
  }
end

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(core.json_encode(t))
end

local function stats_of(client)
  local p = aws_connect._private(client)
  local t = p and p.transport
  if not t or not t.stats then return nil end
  local s = {}
  for k, v in pairs(t.stats) do s[k] = v end
  s.transport = tostring(t)
  return s
end

local function store(key, value)
  ngx.shared.results:set(key, core.json_encode(value))
end

--- init_by_lua: remembers the endpoints; makes the client every worker
--- shares (credentials from AWS_* variables, passed by env directives) and
--- tries a call, which must fail: the init phase has no cosockets.
function M.init(opts)
  endpoints = opts
  clients.shared = aws_connect.new{ endpoint = opts.http, max_attempts = 1 }
  -- credentials that take a while to fetch: concurrent first calls must
  -- share one fetch (single flight, waiting with ngx.sleep)
  M.creds_fetches = 0
  clients.slow_creds = aws_connect.new{ endpoint = opts.http, max_attempts = 1, credentials = function()
    M.creds_fetches = M.creds_fetches + 1
    ngx.sleep(0.3)
    return { access_key_id = CREDS.access_key_id, secret_access_key = CREDS.secret_access_key,
             expiration = ngx.time() + 3600 }
  end }
  local ok, e = pcall(clients.shared.create_instance, clients.shared, params("from-init"))
  ngx.shared.results:set("init", core.json_encode(ok and { ok = true } or error_info(e)))
end

--- init_worker_by_lua: the documented way to call at start-up, a timer.
function M.init_worker()
  ngx.timer.at(0, function(premature)
    if premature then return end
    local ok, res = pcall(clients.shared.create_instance, clients.shared, params("from-init-worker"))
    store("init_worker", ok and { ok = true, id = res.id, phase = "timer" } or error_info(res))
  end)
end

local function client_for(target, extra)
  local key = target .. (extra or "")
  if clients[key] then return clients[key] end
  local opts = { endpoint = endpoints[target], credentials = CREDS, max_attempts = 1 }
  if extra == "noverify" then opts.verify_tls = false end
  if extra == "retry" then
    opts.max_attempts = 3
    opts.random = function() return 0.05 end   -- a short real backoff
  end
  clients[key] = aws_connect.new(opts)
  return clients[key]
end

--- /t/create?target=http|https|untrusted|shared&alias=...&verify=0
function M.create()
  local args = ngx.req.get_uri_args()
  local target = args.target or "http"
  local client = target == "shared" and clients.shared
    or client_for(target, args.verify == "0" and "noverify" or nil)
  local ok, res, meta = pcall(client.create_instance, client, params(args.alias))
  if not ok then return reply(500, { error = error_info(res), stats = stats_of(client) }) end
  reply(200, { id = res.id, arn = res.arn, attempts = meta.attempts, request_id = meta.request_id,
               stats = stats_of(client) })
end

--- /t/creds: a call with the slow credentials function; reports how many
--- fetches the worker has made so far.
function M.creds()
  local client = clients.slow_creds
  local ok, res = pcall(client.create_instance, client, params())
  if not ok then return reply(500, { error = error_info(res), fetches = M.creds_fetches }) end
  reply(200, { id = res.id, fetches = M.creds_fetches })
end

--- /t/invalid: a validation error raised inside nginx, as an object.
function M.invalid()
  local client = client_for("http")
  local ok, e = pcall(client.create_instance, client, { identity_management_type = "NOPE",
    inbound_calls_enabled = true, outbound_calls_enabled = false })
  reply(ok and 200 or 500, { error = error_info(e) })
end

--- /t/service_error: whatever the fake server was scripted to answer.
function M.service_error()
  local client = client_for("http")
  local ok, e = pcall(client.create_instance, client, params())
  reply(ok and 200 or 500, { error = error_info(e) })
end

--- /t/safe: the nil, err convention, for a validation error and for what
--- the fake server answers next.
function M.safe()
  local client, nerr = safe.new{ endpoint = endpoints.http, credentials = CREDS, max_attempts = 1 }
  if not client then return reply(500, { new_error = error_info(nerr) }) end
  local bad_res, bad_err = client:create_instance{ identity_management_type = "NOPE" }
  local res, err = client:create_instance(params())
  local _, cerr = safe.new{ no_such_option = 1 }
  reply(200, {
    invalid = { result = bad_res == nil, error = error_info(bad_err) },
    call = res and { id = res.id } or { error = error_info(err) },
    new = { error = error_info(cerr) },
  })
end

--- /t/retry: scripted throttling, retried after a real (short) ngx.sleep.
function M.retry()
  local client = client_for("http", "retry")
  local real_sleep = ngx.sleep
  local sleeps = {}
  ngx.sleep = function(s) sleeps[#sleeps + 1] = s; return real_sleep(s) end
  local ok, res, meta = pcall(client.create_instance, client, params())
  ngx.sleep = real_sleep
  if not ok then return reply(500, { error = error_info(res), sleeps = sleeps }) end
  reply(200, { id = res.id, attempts = meta.attempts, sleeps = sleeps })
end

--- /t/twice: two calls in one request; both on one pooled connection.
function M.twice()
  local client = client_for("http")
  local a = stats_of(client) or { connects = 0, reused = 0 }
  local r1 = client:create_instance(params())
  local r2 = client:create_instance(params())
  local b = stats_of(client)
  reply(200, { ids = { r1.id, r2.id }, connects = b.connects - (a.connects or 0), reused = b.reused - (a.reused or 0) })
end

--- set_by_lua: no cosockets; "transport = curl" is allowed to block.
function M.from_set(kind)
  local client
  if kind == "curl" then
    client = aws_connect.new{ endpoint = endpoints.http, credentials = CREDS, max_attempts = 1, transport = "curl" }
  else
    client = client_for("http")
  end
  local ok, res = pcall(client.create_instance, client, params())
  if ok then return "ok " .. res.id end
  return core.json_encode(error_info(res))
end

--- header_filter_by_lua and log_by_lua: the result goes to a header or to
--- the results dict.
function M.from_filter()
  ngx.header["X-Result"] = M.from_set()
end

function M.from_log()
  ngx.shared.results:set("log", M.from_set())
end

--- /t/result?key=...: what a phase without output stored.
function M.result()
  local v = ngx.shared.results:get(ngx.req.get_uri_args().key)
  if not v then return reply(404, { missing = true }) end
  ngx.status = 200
  ngx.header["Content-Type"] = "application/json"
  ngx.say(v)
end

--- /chunked?n=...: a chunked JSON body sent in small flushed pieces.
function M.chunked_source()
  local n = tonumber(ngx.req.get_uri_args().n) or 50
  ngx.header["Content-Type"] = "application/json"
  ngx.print('{"items":[')
  for i = 1, n do
    ngx.print((i > 1 and "," or "") .. '"item-' .. i .. '"')
    ngx.flush(true)
  end
  ngx.print("]}")
end

--- /t/chunked?port=...&n=...&max=...: the transport itself fetching /chunked
--- from this nginx twice (the second time on the pooled connection).
function M.chunked()
  local args = ngx.req.get_uri_args()
  local t = require("aws_connect.transport.ngx").new()
  local url = "http://127.0.0.1:" .. args.port .. "/chunked?n=" .. (args.n or 50)
  local out = {}
  for i = 1, 2 do
    local resp, kind, msg = t:request{ method = "GET", url = url, headers = { { "Host", "127.0.0.1" } },
      timeout = 5, connect_timeout = 2, max_body = tonumber(args.max) }
    if not resp then
      out[i] = { kind = kind, message = msg }
    else
      local te
      for _, h in ipairs(resp.headers) do
        if h[1]:lower() == "transfer-encoding" then te = h[2] end
      end
      local doc = core.json_decode(resp.body)
      out[i] = { status = resp.status, te = te, items = doc and #doc.items, reused = resp.reused }
    end
  end
  reply(200, { results = out, stats = t.stats })
end

return M
