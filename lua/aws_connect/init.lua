-- aws_connect: the public face. new() resolves a client's settings; the
-- client has a method for every operation of the Connect model (named as
-- boto3 names it, made on first use), client:call, client:pages,
-- client:items and client:prepare (the generic forms), and the friendly
-- instance layer (aws_connect.instances). Calls run through one pipeline
-- (aws_connect.call). Secrets live in a private table keyed by the client,
-- so tostring(client) and the logger never see them.

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local config = require("aws_connect.config")
local credentials = require("aws_connect.credentials")
local retry = require("aws_connect.retry")
local model = require("aws_connect.model")
local transport = require("aws_connect.transport")
-- the pipeline (call.lua: shape checks, protocols, signing) and pagination
-- load with the first call, not at require time (start-up stays small)
local call = setmetatable({}, { __index = function(t, k)
  local m = require("aws_connect.call")
  setmetatable(t, { __index = m })
  return m[k]
end })
local paginate = setmetatable({}, { __index = function(t, k)
  local m = require("aws_connect.paginate")
  setmetatable(t, { __index = m })
  return m[k]
end })
local suggest = require("aws_connect.suggest")

local M = {
  VERSION = core.version,
  errors = errors,
  null = core.null,
}

local private = setmetatable({}, { __mode = "k" })

local Client = {}

local OPTIONS = {
  "region", "profile", "credentials", "endpoint", "use_fips", "use_dualstack",
  "connect_timeout", "timeout", "max_attempts", "retry_mode", "verify_tls", "ca_file",
  "proxy", "transport", "app_id", "logger", "sleep", "clock", "random", "getenv", "max_body",
  "mfa_code", "credential_cache", "ignore_configured_endpoint_urls",
}
local KNOWN_OPTION = {}
for _, k in ipairs(OPTIONS) do KNOWN_OPTION[k] = true end

local function lua_version()
  if type(jit) == "table" and jit.version then
    return "5.1 md/" .. jit.version:gsub("%s+", "#")
  end
  return (_VERSION:match("%d+%.%d+")) or "unknown"
end

local function user_agent(app_id, mode)
  local ua = "lua-aws-connect/" .. core.version .. " lua/" .. lua_version() .. " cfg/retry-mode#" .. mode
  if app_id then ua = ua .. " app/" .. app_id end
  return ua
end

local function check_options(opts)
  local k = next(opts)
  while k ~= nil do
    if not KNOWN_OPTION[k] then
      local best = type(k) == "string" and suggest.closest(k, OPTIONS) or nil
      local shown = type(k) == "string" and (#k > 60 and k:sub(1, 60) .. "..." or k) or tostring(k)
      local msg = ("unknown option %s for aws_connect.new"):format(shown)
      if best then msg = msg .. ("; did you mean '%s'?"):format(best) end
      errors.raise("ConfigError", msg, { field = shown })
    end
    k = next(opts, k)
  end
end

local function check_function(opts, name)
  local v = rawget(opts, name)
  if v ~= nil and type(v) ~= "function" then
    errors.raise("ConfigError", name .. " must be a function, got " .. type(v), { field = name })
  end
  return v
end

local function state(self)
  local p = private[self]
  if not p then
    errors.raise("ConfigError", "not a client: call methods with a colon (client:method(...), not client.method(...))")
  end
  return p
end

--- Creates a client. Every field of opts is optional (see README).
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    errors.raise("ConfigError", "aws_connect.new expects a table of options, got " .. type(opts))
  end
  check_options(opts)
  local cfg = config.resolve(opts)
  local t = transport.check_option(rawget(opts, "transport"))
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
    logger = check_function(opts, "logger"),
    sleep = check_function(opts, "sleep"),
    clock = clock,
    clock_offset = 0,
    transport_opt = t,
    retry_mode = cfg.retry_mode,
  }
  p.policy = retry.new{ mode = cfg.retry_mode, max_attempts = cfg.max_attempts,
    random = check_function(opts, "random"), clock = clock }
  p.max_attempts = p.policy.max_attempts
  p.user_agent = user_agent(cfg.app_id, p.policy.mode)
  p.resolver = credentials.resolver(opts, cfg.getenv, function() return clock() + p.clock_offset end, nil, {
    cfg = cfg,
    -- providers that talk HTTP (IMDS, containers, STS) use a transport of the client's kind
    new_transport = function() return transport.new_for(p) end,
    log = function(level, msg) if p.logger then pcall(p.logger, level, msg) end end,
    yield = transport.yield,
    -- providers call STS through the same pipeline (aws_connect.services)
    service_call = function(id, operation, params, o)
      return require("aws_connect.services").call(p, id, operation, params, o)
    end,
  })
  private[self] = p
  if not p.verify_tls then
    pcall(p.logger or function() end, "warn", "TLS certificate verification is off (verify_tls = false)")
  end
  return self
end

Client.__tostring = function(self)
  return ("aws_connect client (region %s, endpoint %s)"):format(self.region, self.endpoint)
end

-- Operations ----------------------------------------------------------------

local function connect()
  return model.service("connect")
end

--- The Connect context of a client (model, protocol, endpoint, region).
local function context(p)
  local ctx = p.ctx
  if not ctx then
    ctx = call.context(connect(), p.ep, p.region)
    p.ctx = ctx
  end
  return ctx
end

--- The operation a name stands for: its AWS name ("DescribeUser") or its
--- method name ("describe_user").
local function operation(name)
  if type(name) ~= "string" then
    errors.raise("ValidationError", "the operation name must be a string, got " .. type(name), { field = "operation" })
  end
  local svc = connect()
  local op = svc:operation(name) or (svc:method(name) and svc:operation(svc:method(name)))
  if not op then
    local shown = #name > 60 and name:sub(1, 60) .. "..." or name
    local msg = ("Connect has no operation %q"):format(shown)
    local best = suggest.closest(name, name:find("^%u") and svc.names or (function()
      local l = {}
      for i, n in ipairs(svc.names) do l[i] = require("aws_connect.names").snake(n) end
      return l
    end)())
    if best then msg = msg .. ("; did you mean '%s'?"):format(best) end
    errors.raise("ValidationError", msg, { field = "operation" })
  end
  return op
end

local function run(self, name, params, what)
  local p = state(self)
  local op = operation(name)
  return call.run(p, context(p), op, params, what or op.snake)
end

--- The generic form of every operation: result, meta (uniform for every
--- operation, the instance operations included).
function Client:call(name, params)
  return run(self, name, params)
end

--- Validates, serialises and signs without sending; returns the request
--- (method, url, headers, body, client_token, operation).
function Client:prepare(name, params)
  local p = state(self)
  local op = operation(name)
  return call.prepare(p, context(p), op, params, op.snake)
end

function Client:pages(name, params, opts)
  local p = state(self)
  local op = operation(name)
  return paginate.pages(op, function(pp) return call.run(p, context(p), op, pp, op.snake) end, p.clock, params, opts)
end

function Client:items(name, params, opts)
  local p = state(self)
  local op = operation(name)
  return paginate.items(op, function(pp) return call.run(p, context(p), op, pp, op.snake) end, p.clock, params, opts)
end

--- Closes the client's connection; the client stays usable (a later call
--- opens a new one).
function Client:close()
  local p = private[self]
  if p then transport.close(p) end
end

require("aws_connect.instances").install(Client, {
  call = run,
  check = state,
  clock = function(self) return state(self).clock() end,
  sleep = function(self) return transport.sleep_of(state(self)) end,
  log = function(self, level, msg) call.log(state(self), level, msg) end,
})

-- A method for every operation, made when first looked up: client:describe_user{...}.
local methods = {}
Client.__index = function(_, key)
  local v = rawget(Client, key)
  if v ~= nil then return v end
  v = methods[key]
  if v then return v end
  if type(key) ~= "string" or not key:find("^[%l][%w_]*$") then return nil end
  local name = connect():method(key)
  if not name then return nil end
  v = function(self, params) return run(self, name, params, key) end
  methods[key] = v
  return v
end

-- Everything a client may load on first use, for preload().
local LAZY_MODULES = {
  "aws_connect.call", "aws_connect.shape", "aws_connect.paginate", "aws_connect.regex", "aws_connect.redact",
  "aws_connect.headers", "aws_connect.times",
  "aws_connect.protocol.rest_json", "aws_connect.protocol.query", "aws_connect.xml", "aws_connect.services",
  "aws_connect.transport.ngx", "aws_connect.transport.curl", "aws_connect.regex.engine", "aws_connect.regex.unicode",
  "aws_connect.providers.env", "aws_connect.providers.sts", "aws_connect.providers.sso",
  "aws_connect.providers.process", "aws_connect.providers.container", "aws_connect.providers.imds",
  "aws_connect.providers.util", "aws_connect.providers.profile", "aws_connect.credential_cache",
  "aws_connect.rate_limiter", "aws_connect.safe",
}
local MODELS = { "connect", "sts", "sso", "sso_oidc" }

--- Loads now what clients otherwise load on first use: every operation of
--- the Connect, STS, SSO and SSO-OIDC models, the protocols, transports,
--- credential providers, the regex engine and its Unicode tables, and the
--- endpoint rule sets. For nginx's init_by_lua: the workers then share it
--- (copy-on-write) and never read a module or data file, which they may
--- not have the permission to do (workers run as `user`). Returns the
--- number of operations loaded.
function M.preload()
  for _, name in ipairs(LAZY_MODULES) do
    local ok, err = pcall(require, name)
    if not ok and name ~= "aws_connect.transport.ngx" then error(err, 0) end  -- ngx: only inside nginx
  end
  local n = 0
  for _, id in ipairs(MODELS) do
    local svc = model.service(id)
    for _, name in ipairs(svc.names) do
      svc:operation(name)
      n = n + 1
    end
    for _, code in ipairs(svc:error_codes()) do svc:error_shape(code) end
  end
  local endpoints = require("aws_connect.endpoints")
  endpoints.data()
  for _, def in pairs(require("aws_connect.services").SERVICES) do endpoints.data(def.rules) end
  return n
end

--- Internal: the private state of a client (for the project's own specs).
M._private = function(client) return private[client] end
M.Client = Client

return M
