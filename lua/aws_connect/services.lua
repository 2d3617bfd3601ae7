-- aws_connect.services: the services a client calls besides Connect (STS
-- for the credential providers; SSO and SSO-OIDC are listed for theirs):
-- where each one's endpoint comes from, and one call of one of their
-- operations through the pipeline (aws_connect.call) with the client's
-- settings, so that every service shares one retry loop, one redaction,
-- one User-Agent and one sleep rule.
--
-- Endpoint (design.md): AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL, the
-- profile's [services] key, the profile's endpoint_url
-- (config.configured_endpoint, as for Connect), else the service's own
-- endpoint rules (data/models/<service>/endpoint-rule-set-1.json; STS's with
-- UseGlobalEndpoint false, the regional endpoint, unless
-- sts_regional_endpoints is "legacy") for the client's region (us-east-1
-- when none is set), FIPS and dual-stack settings. A configured URL goes
-- through the rules as their Endpoint parameter, as for Connect; the
-- ignore_configured_endpoint_urls setting turns configured URLs off.
-- The signing region and name are the rules' authSchemes where they say.
--
-- A call (M.call) runs with the client's User-Agent, logger, sleep option,
-- clock, transport option, timeouts and TLS settings, the proxy for that
-- service's URL, and a retry policy of the client's mode and max_attempts
-- kept per service (its quota and adaptive rate limiter are that service's:
-- a throttled STS does not slow Connect calls down).

local config = require("aws_connect.config")
local errors = require("aws_connect.errors")

local M = {}

-- Answers to credential calls are small: bounded below the client's max_body.
M.MAX_BODY = 1024 * 1024

M.SERVICES = {
  sts = { model = "sts", env_id = "STS", key = "sts", name = "STS",
          rules = "models/sts-2011-06-15/endpoint-rule-set-1.json", params = { UseGlobalEndpoint = false } },
  sso = { model = "sso", env_id = "SSO", key = "sso", name = "SSO",
          rules = "models/sso-2019-06-10/endpoint-rule-set-1.json" },
  sso_oidc = { model = "sso_oidc", env_id = "SSO_OIDC", key = "sso_oidc", name = "SSO OIDC",
               rules = "models/sso-oidc-2019-06-10/endpoint-rule-set-1.json" },
}

local function service(id)
  local def = M.SERVICES[id]
  if not def then
    errors.raise("ConfigError", ("unknown service %q (known: sts, sso, sso_oidc)"):format(tostring(id)),
      { field = "service" })
  end
  return def
end

--- The endpoint of service id. where: { getenv, files, profile_name,
--- region, use_fips, use_dualstack, ignore_configured_endpoint_urls,
--- sts_regional_endpoints } (a client's resolved settings have them all).
--- Returns { url, source, ep (config.parse_endpoint's table), region (to
--- sign for), signing_name }.
function M.endpoint(id, where)
  local def = service(id)
  local getenv = where.getenv or function() return nil end
  local files = where.files or { profiles = {}, services = {} }
  local pname = where.profile_name or "default"
  local profile = (files.profiles or {})[pname] or {}
  local custom, source = config.configured_endpoint(getenv, files, profile, pname, def.key, def.env_id,
    where.ignore_configured_endpoint_urls)
  local region = where.region or "us-east-1"
  local params = def.params
  if id == "sts" and where.sts_regional_endpoints == "legacy" then params = { UseGlobalEndpoint = true } end
  local r = require("aws_connect.endpoints").resolve_endpoint{
    region = region, use_fips = where.use_fips, use_dualstack = where.use_dualstack, endpoint = custom,
    rules = def.rules, params = params,
  }
  source = source or ("%s endpoint rules (region %s)"):format(def.name, region)
  local scheme = r.properties and type(r.properties.authSchemes) == "table" and r.properties.authSchemes[1]
  scheme = type(scheme) == "table" and scheme or {}
  return {
    url = r.url, source = source, ep = config.parse_endpoint(r.url, source),
    region = type(scheme.signingRegion) == "string" and scheme.signingRegion or region,
    signing_name = type(scheme.signingName) == "string" and scheme.signingName or nil,
  }
end

local function policy_of(p, id)
  local list = p.service_policies
  if not list then
    list = {}
    p.service_policies = list
  end
  local pol = list[id]
  if not pol then
    local base = p.policy
    pol = require("aws_connect.retry").new{ mode = base and base.mode, max_attempts = base and base.max_attempts,
      random = base and base.random, clock = p.clock }
    list[id] = pol
  end
  return pol
end

--- The state of a call made without a client (a credentials resolver used
--- on its own): ctx is the providers' context.
function M.state_of(ctx)
  local core = require("aws_connect.core")
  local cfg = ctx.cfg or {}
  local env = ctx.env or {}
  return {
    cfg = cfg, getenv = ctx.getenv, clock = ctx.clock or core.now, sleep = env.sleep,
    user_agent = "lua-aws-connect/" .. tostring(core.version),
    transport_opt = ctx.opts and ctx.opts.transport,
    connect_timeout = cfg.connect_timeout or 3.1, timeout = cfg.timeout or 60,
    verify_tls = cfg.verify_tls ~= false, ca_file = cfg.ca_file,
    policy = require("aws_connect.retry").new{ mode = cfg.retry_mode, max_attempts = cfg.max_attempts },
    logger = env.log and function(level, msg) env.log(level, msg) end or nil,
  }
end

--- Calls operation (its AWS name) of service id with params, for the
--- client whose private state is p. opts: credentials (to sign with) or
--- unsigned = true; region (default the client's); secrets (further
--- strings to scrub from every message, e.g. a web identity token); what
--- (names the call in validation messages). Returns result, meta as
--- client:call does, or raises the typed error.
function M.call(p, id, operation, params, opts)
  opts = opts or {}
  local def = service(id)
  local call = require("aws_connect.call")
  local svc = require("aws_connect.model").service(def.model)
  local op = svc:operation(operation)
  if not op then
    errors.raise("ConfigError", ("%s has no operation %q"):format(def.name, tostring(operation)),
      { field = "operation" })
  end
  local creds = opts.credentials
  if not opts.unsigned and type(creds) ~= "table" then
    errors.raise("ConfigError", ("%s %s: pass credentials to sign with, or unsigned = true"):format(def.name,
      operation), { field = "credentials" })
  end
  local cfg = p.cfg or {}
  local getenv = cfg.getenv or p.getenv or function() return nil end
  -- resolved once per client and region, as Connect's is in new()
  local region = opts.region or cfg.region
  local eps = p.service_endpoints
  if not eps then
    eps = {}
    p.service_endpoints = eps
  end
  local ekey = id .. "\0" .. tostring(region)
  local e = eps[ekey]
  if not e then
    e = M.endpoint(id, {
      getenv = getenv, files = cfg.files, profile_name = cfg.profile_name,
      region = region, use_fips = cfg.use_fips, use_dualstack = cfg.use_dualstack,
      ignore_configured_endpoint_urls = cfg.ignore_configured_endpoint_urls,
      sts_regional_endpoints = cfg.sts_regional_endpoints,
    })
    e.proxy = config.proxy_for(getenv, e.ep.url, cfg.proxy_option)
    eps[ekey] = e
  end
  local ctx = call.context(svc, e.ep, e.region, { unsigned = opts.unsigned, signing_name = e.signing_name })
  local sp = {
    cfg = cfg, policy = policy_of(p, id), user_agent = p.user_agent, logger = p.logger, sleep = p.sleep,
    clock = p.clock, clock_offset = p.clock_offset or 0, transport_opt = p.transport_opt,
    connect_timeout = p.connect_timeout, timeout = p.timeout, verify_tls = p.verify_tls, ca_file = p.ca_file,
    proxy = e.proxy,
    max_body = math.min(p.max_body or M.MAX_BODY, M.MAX_BODY),
    resolver = { get = function() return creds end },
    extra_secrets = opts.secrets,
  }
  local ok, res, meta = pcall(call.run, sp, ctx, op, params, opts.what or op.snake)
  local t = sp.transport
  if t and t ~= p.transport_opt and type(t.close) == "function" then pcall(t.close, t) end
  if not ok then error(res, 0) end
  meta.endpoint = e.url
  return res, meta
end

--- The pipeline call a credential provider uses: the client's
--- (ctx.env.service_call), else one with the default settings.
function M.caller(ctx)
  local env = ctx.env or {}
  if env.service_call then return env.service_call end
  local state = M.state_of(ctx)
  return function(id, operation, params, opts) return M.call(state, id, operation, params, opts) end
end

return M
