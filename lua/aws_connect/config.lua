-- aws_connect.config: resolves the client's settings (region, endpoint,
-- timeouts, retry settings, TLS) from explicit options and the environment,
-- without touching the network. Raises ConfigError for settings that
-- cannot work.

local errors = require("aws_connect.errors")

local M = {}

local function config_error(msg, field)
  errors.raise("ConfigError", msg, { field = field })
end

--- A getenv function: opts.getenv (a function or a table, for tests and
--- embedders), else os.getenv.
function M.getenv_of(opts)
  local g = opts.getenv
  if type(g) == "function" then return g end
  if type(g) == "table" then return function(k) return g[k] end end
  return os.getenv
end

local function nonempty(v)
  if v ~= nil and v ~= "" then return v end
  return nil
end

local function check_text(name, v)
  if type(v) ~= "string" then config_error(name .. " must be a string, got " .. type(v), name) end
  if v:find("[%z\1-\31\127]") then config_error(name .. " contains a control character (CR, LF, ...)", name) end
  return v
end
M.check_text = check_text

--- Region: explicit -> AWS_REGION -> AWS_DEFAULT_REGION -> profile.
function M.region(opts, getenv, profile)
  local r = opts.region
  local source = "region option"
  if r == nil then r, source = nonempty(getenv("AWS_REGION")), "AWS_REGION" end
  if r == nil then r, source = nonempty(getenv("AWS_DEFAULT_REGION")), "AWS_DEFAULT_REGION" end
  if r == nil and profile then r, source = nonempty(profile.region), "profile region" end
  if r == nil then
    config_error("no region: pass new{ region = \"us-east-1\" }, set AWS_REGION or AWS_DEFAULT_REGION, "
      .. "or add region = ... to your profile in ~/.aws/config", "region")
  end
  check_text(source, r)
  if not r:find("^[a-z0-9][a-z0-9%-]*$") or #r > 63 then
    config_error(("invalid region %q (from %s)"):format(r, source), "region")
  end
  return r
end

--- Splits an endpoint URL into its parts; raises ConfigError when it is
--- not http(s)://host[:port][/path].
function M.parse_endpoint(url, source)
  source = source or "endpoint"
  check_text(source, url)
  local scheme, rest = url:match("^([%a][%w+.-]*)://(.*)$")
  if not scheme then config_error(("%s %q is not a URL (expected https://host[:port])"):format(source, url), "endpoint") end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    config_error(("%s %q must use http or https"):format(source, url), "endpoint")
  end
  if rest:find("[%s?#]") then
    config_error(("%s %q must not contain spaces, a query or a fragment"):format(source, url), "endpoint")
  end
  local authority, path = rest:match("^([^/]*)(.*)$")
  if authority:find("@") then config_error(("%s must not contain credentials"):format(source), "endpoint") end
  local host, port
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^(%[[%x:.]+%])(.*)$")
  else
    host, port = authority:match("^([^:]*)(.*)$")
  end
  if not host or host == "" then config_error(("%s %q has no host"):format(source, url), "endpoint") end
  if port ~= "" then
    port = port:match("^:(%d+)$")
    if not port or tonumber(port) < 1 or tonumber(port) > 65535 then
      config_error(("%s %q has an invalid port"):format(source, url), "endpoint")
    end
    port = tonumber(port)
  else
    port = nil
  end
  path = path:gsub("/+$", "")
  local default_port = scheme == "https" and 443 or 80
  local host_header = host:lower()
  if port and port ~= default_port then host_header = host_header .. ":" .. port end
  return {
    scheme = scheme, host = host:lower(), port = port or default_port, base_path = path,
    host_header = host_header,
    url = scheme .. "://" .. host_header .. path,
  }
end

--- Default endpoint for a region: https://connect.{region}.{dnsSuffix}.
--- (The full rule set with FIPS and dual-stack lives in endpoints.lua when
--- present.)
function M.default_endpoint(region)
  local ok, endpoints = pcall(require, "aws_connect.endpoints")
  if ok and type(endpoints) == "table" and endpoints.resolve then
    return endpoints.resolve(region)
  end
  local suffix = region:find("^cn%-") and "amazonaws.com.cn" or "amazonaws.com"
  return "https://connect." .. region .. "." .. suffix
end

--- Endpoint: explicit -> AWS_ENDPOINT_URL_CONNECT -> AWS_ENDPOINT_URL ->
--- the default for the region. Returns the URL and its source.
function M.endpoint(opts, getenv, region)
  if opts.endpoint ~= nil then return opts.endpoint, "endpoint option" end
  local e = nonempty(getenv("AWS_ENDPOINT_URL_CONNECT"))
  if e then return e, "AWS_ENDPOINT_URL_CONNECT" end
  e = nonempty(getenv("AWS_ENDPOINT_URL"))
  if e then return e, "AWS_ENDPOINT_URL" end
  return M.default_endpoint(region), "default endpoint"
end

local function number_opt(opts, name, default, min)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < min or v == math.huge then
    config_error(("%s must be a number >= %s, got %s"):format(name, tostring(min), tostring(v)), name)
  end
  return v
end
M.number_opt = number_opt

--- Integer setting from the option or an environment variable.
function M.integer_setting(opts, getenv, name, envname, default, min, max)
  local v, source = opts[name], name
  if v == nil then
    local e = nonempty(getenv(envname))
    if e then
      v, source = tonumber(e), envname
      if not v then config_error(("%s=%q is not a number"):format(envname, e), name) end
    end
  end
  if v == nil then return default end
  if type(v) ~= "number" or v ~= math.floor(v) or v < min or v > max then
    config_error(("%s must be an integer from %d to %d, got %s"):format(source, min, max, tostring(v)), name)
  end
  return v
end

function M.boolean_opt(opts, name, default)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "boolean" then config_error(name .. " must be a boolean, got " .. type(v), name) end
  return v
end

function M.string_opt(opts, name)
  local v = opts[name]
  if v == nil then return nil end
  return check_text(name, v)
end

--- Resolves every setting of a client from its options, the environment
--- (and, with profiles, the shared config files). Needs no network.
function M.resolve(opts)
  local getenv = M.getenv_of(opts)
  local cfg = { getenv = getenv }
  cfg.region = M.region(opts, getenv)
  local url, source = M.endpoint(opts, getenv, cfg.region)
  cfg.endpoint_source = source
  cfg.ep = M.parse_endpoint(url, source)
  cfg.connect_timeout = number_opt(opts, "connect_timeout", 3.1, 0.001)
  cfg.timeout = number_opt(opts, "timeout", 60, 0.001)
  cfg.max_body = number_opt(opts, "max_body", 10 * 1024 * 1024, 1)
  cfg.verify_tls = M.boolean_opt(opts, "verify_tls", true)
  cfg.ca_file = M.string_opt(opts, "ca_file")
  cfg.proxy = M.string_opt(opts, "proxy")
  cfg.use_fips = M.boolean_opt(opts, "use_fips", false)
  cfg.use_dualstack = M.boolean_opt(opts, "use_dualstack", false)
  local app_id = M.string_opt(opts, "app_id")
  if app_id then app_id = app_id:gsub("[^%w!#$%%&'*+%-.^_`|~]", "-") end
  cfg.app_id = app_id
  local retry_mode = opts.retry_mode
  if retry_mode == nil then retry_mode = nonempty(getenv("AWS_RETRY_MODE")) end
  retry_mode = retry_mode or "standard"
  if retry_mode ~= "standard" and retry_mode ~= "legacy" and retry_mode ~= "adaptive" then
    config_error(("retry_mode must be \"standard\", got %q"):format(tostring(retry_mode)), "retry_mode")
  end
  cfg.retry_mode = retry_mode
  cfg.max_attempts = M.integer_setting(opts, getenv, "max_attempts", "AWS_MAX_ATTEMPTS", 3, 1, 100)
  return cfg
end

return M
