-- aws_connect.config: resolves the client's settings (profile, region,
-- endpoint, timeouts, retry settings, TLS, proxy) from explicit options, the
-- environment and the shared config files (~/.aws/config and
-- ~/.aws/credentials), without touching the network. Raises ConfigError for
-- settings that cannot work. Called by new(); never at require time.
--
-- Precedence of each setting: the option given to new(), then the
-- environment, then the selected profile (README "Configuration").

local errors = require("aws_connect.errors")
local ini = require("aws_connect.ini")
local url_lib = require("aws_connect.url")

local M = {}

local function config_error(msg, field)
  errors.raise("ConfigError", msg, { field = field })
end

--- A getenv function: opts.getenv (a function or a table, for tests and
--- embedders), else os.getenv.
--- Anything else given as getenv is a ConfigError: silently falling back
--- to the real environment would use settings the caller meant to replace.
function M.getenv_of(opts)
  local g = opts.getenv
  if type(g) == "function" then return g end
  if type(g) == "table" then return function(k) return g[k] end end
  if g ~= nil then
    config_error("getenv must be a function or a table, got " .. type(g), "getenv")
  end
  return os.getenv
end

local function nonempty(v)
  if v ~= nil and v ~= "" then return v end
  return nil
end
M.nonempty = nonempty

local function check_text(name, v)
  if type(v) ~= "string" then config_error(name .. " must be a string, got " .. type(v), name) end
  if v:find("[%z\1-\31\127]") then config_error(name .. " contains a control character (CR, LF, ...)", name) end
  return v
end
M.check_text = check_text

-- Files and profiles ------------------------------------------------------------

--- The home directory: HOME, else USERPROFILE, else HOMEDRIVE..HOMEPATH.
function M.home(getenv)
  local h = nonempty(getenv("HOME")) or nonempty(getenv("USERPROFILE"))
  if h then return h end
  local d, p = nonempty(getenv("HOMEDRIVE")), nonempty(getenv("HOMEPATH"))
  if d and p then return d .. p end
  return nil
end

--- Expands a leading "~" (or "~/...") with the home directory; returns nil
--- when the path needs a home directory and there is none.
function M.expand_path(path, getenv)
  if path == "~" or path:sub(1, 2) == "~/" or path:sub(1, 2) == "~\\" then
    local h = M.home(getenv)
    if not h then return nil end
    return h .. path:sub(2)
  end
  return path
end

local function read_ini(path)
  local doc, err = ini.read_file(path)
  if err then config_error("cannot parse " .. err) end
  return doc
end

--- Reads the shared config and credentials files. Returns
--- { config_path, credentials_path,
---   config_profiles = { name -> keys },       -- config file ([default], [profile x])
---   credentials_profiles = { name -> keys },  -- credentials file ([x])
---   services = { name -> { service -> keys } }, -- [services x] in the config file
---   sso_sessions = { name -> keys },          -- [sso-session x] in the config file
---   profiles = { name -> keys } }             -- both, credentials file winning
--- A file that does not exist counts as empty.
function M.load_files(getenv)
  local files = {
    config_profiles = {}, credentials_profiles = {}, services = {}, profiles = {}, sso_sessions = {},
  }
  local cpath = nonempty(getenv("AWS_CONFIG_FILE")) or "~/.aws/config"
  local kpath = nonempty(getenv("AWS_SHARED_CREDENTIALS_FILE")) or "~/.aws/credentials"
  files.config_path = M.expand_path(cpath, getenv)
  files.credentials_path = M.expand_path(kpath, getenv)

  local function merge_into(dst, src)
    for k, v in pairs(src) do dst[k] = v end
  end

  local doc = files.config_path and read_ini(files.config_path)
  if doc then
    -- [default] and [profile default] are one profile; as in botocore, the
    -- section that comes later in the file is used and the other ignored
    local default_section
    for _, sname in ipairs(doc.order) do
      if sname == "default" then
        default_section = sname
      elseif sname:find("^profile[%s\"']") then
        local parts = ini.split_header(sname)
        if parts and #parts == 2 and parts[1] == "profile" and parts[2] == "default" then default_section = sname end
      end
    end
    for _, sname in ipairs(doc.order) do
      local values = doc.sections[sname]
      local name
      if sname == "default" then
        if sname == default_section then name = "default" end
      elseif sname:find("^profile[%s\"']") then
        local parts = ini.split_header(sname)
        if parts and #parts == 2 and parts[1] == "profile" then
          name = parts[2]
          if name == "default" and sname ~= default_section then name = nil end
        end
      elseif sname:find("^services[%s\"']") then
        local parts = ini.split_header(sname)
        if parts and #parts == 2 then
          files.services[parts[2]] = files.services[parts[2]] or {}
          merge_into(files.services[parts[2]], values)
        end
      elseif sname:find("^sso%-session[%s\"']") then
        local parts = ini.split_header(sname)
        if parts and #parts == 2 and parts[1] == "sso-session" then
          files.sso_sessions[parts[2]] = files.sso_sessions[parts[2]] or {}
          merge_into(files.sso_sessions[parts[2]], values)
        end
      end
      if name then
        files.config_profiles[name] = files.config_profiles[name] or {}
        merge_into(files.config_profiles[name], values)
      end
    end
  end
  doc = files.credentials_path and read_ini(files.credentials_path)
  if doc then
    for _, sname in ipairs(doc.order) do
      files.credentials_profiles[sname] = doc.sections[sname]
    end
  end
  for name, values in pairs(files.config_profiles) do
    files.profiles[name] = {}
    merge_into(files.profiles[name], values)
  end
  for name, values in pairs(files.credentials_profiles) do
    files.profiles[name] = files.profiles[name] or {}
    merge_into(files.profiles[name], values)
  end
  return files
end

local function files_hint(files)
  return ("%s or %s"):format(tostring(files.config_path or "~/.aws/config (no HOME)"),
    tostring(files.credentials_path or "~/.aws/credentials (no HOME)"))
end
M.files_hint = files_hint

--- The profile name: the profile option, then AWS_PROFILE, then
--- AWS_DEFAULT_PROFILE, then "default". Returns name, explicit (given in
--- code), source. A profile that is named but missing is a ConfigError.
function M.profile_name(opts, getenv, files)
  local name, source = opts.profile, "profile option"
  if name ~= nil then
    check_text("profile", name)
    if name == "" then config_error("profile must not be empty", "profile") end
  else
    name, source = nonempty(getenv("AWS_PROFILE")), "AWS_PROFILE"
    if not name then name, source = nonempty(getenv("AWS_DEFAULT_PROFILE")), "AWS_DEFAULT_PROFILE" end
    if name then check_text(source, name) end
  end
  if name == nil then return "default", false, "default" end
  if files and not files.profiles[name] then
    config_error(("profile %q (from %s) was not found in %s"):format(name, source, files_hint(files)), "profile")
  end
  return name, source == "profile option", source
end

--- A string value of a profile key (sub-sections are not values).
function M.profile_value(profile, key)
  local v = profile and profile[key]
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

--- Parses "true"/"false" (any case); raises ConfigError on anything else.
function M.parse_bool(v, source)
  local l = v:lower()
  if l == "true" then return true end
  if l == "false" then return false end
  config_error(("%s must be true or false, got %q"):format(source, v), source)
end

-- Region ------------------------------------------------------------------------

--- Region: explicit -> AWS_REGION -> AWS_DEFAULT_REGION -> profile.
--- FIPS pseudo-regions turn FIPS on, as the JavaScript SDK reads them:
--- "fips-aws-global" and "aws-fips" are us-east-1; otherwise a "fips-"
--- (or "fips-dkr-", "fips-prod-") prefix or a "-fips" suffix is removed.
--- Returns region, fips (boolean), source.
function M.region(opts, getenv, profile, profile_name)
  local r = opts.region
  local source = "region option"
  if r == nil then r, source = nonempty(getenv("AWS_REGION")), "AWS_REGION" end
  if r == nil then r, source = nonempty(getenv("AWS_DEFAULT_REGION")), "AWS_DEFAULT_REGION" end
  if r == nil then
    r, source = M.profile_value(profile, "region"), ("region of profile %q"):format(profile_name or "default")
  end
  if r == nil then
    config_error("no region: pass new{ region = \"us-east-1\" }, set AWS_REGION or AWS_DEFAULT_REGION, "
      .. "or add region = us-east-1 to your profile in ~/.aws/config", "region")
  end
  check_text(source, r)
  local fips = false
  local stripped
  if r == "fips-aws-global" or r == "aws-fips" then
    stripped = "us-east-1"
  else
    stripped = r:match("^fips%-dkr%-(.+)$") or r:match("^fips%-prod%-(.+)$") or r:match("^fips%-(.+)$")
      or r:match("^(.+)%-fips$")
  end
  if stripped then r, fips = stripped, true end
  if not r:find("^[a-z0-9][a-z0-9%-]*$") or #r > 63 then
    config_error(("invalid region %q (from %s)"):format(r, source), "region")
  end
  return r, fips, source
end

-- Endpoint ------------------------------------------------------------------------

--- Splits an endpoint URL into its parts (aws_connect.url, as libcurl
--- will read it); raises ConfigError when it is not
--- http(s)://host[:port][/path] (user information, a query or a fragment
--- are refused; the message never shows a password). base_path is the
--- path without one trailing slash (botocore joins "/base/" and
--- "/instance" as "/base/instance"); path is the path as given.
function M.parse_endpoint(url, source)
  source = source or "endpoint"
  check_text(source, url)
  local u = url_lib.check(url, source, { field = "endpoint" })
  local path = u.path
  local base = path:sub(-1) == "/" and path:sub(1, -2) or path
  return {
    scheme = u.scheme, host = u.host, port = u.effective_port, base_path = base, path = path,
    host_header = u.host_header, hostname = u.hostname,
    url = u.origin .. base,
  }
end

--- A configured (custom) endpoint URL for a service, from the sources
--- after the explicit option: AWS_ENDPOINT_URL_<ENV_ID>, AWS_ENDPOINT_URL,
--- the profile's [services x] section (`<key> =` / `endpoint_url =`), the
--- profile's endpoint_url. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the
--- profile's ignore_configured_endpoint_urls) turns them all off;
--- `ignore` (the new{} option, a boolean) wins over both when given.
--- Returns url, source or nil.
function M.configured_endpoint(getenv, files, profile, profile_name, key, env_id, ignore)
  if ignore == true then return nil end
  local ign = ignore == nil and nonempty(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) or nil
  local ign_source = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
  if not ign and ignore == nil then
    ign, ign_source = M.profile_value(profile, "ignore_configured_endpoint_urls"), "ignore_configured_endpoint_urls"
  end
  if ign and M.parse_bool(ign, ign_source) then return nil end
  local e = nonempty(getenv("AWS_ENDPOINT_URL_" .. env_id))
  if e then return e, "AWS_ENDPOINT_URL_" .. env_id end
  e = nonempty(getenv("AWS_ENDPOINT_URL"))
  if e then return e, "AWS_ENDPOINT_URL" end
  local sname = M.profile_value(profile, "services")
  if sname then
    local section = files and files.services[sname]
    if not section then
      config_error(("profile %q refers to [services %s], which does not exist"):format(profile_name, sname), "endpoint")
    end
    local sub = section[key]
    if type(sub) == "table" and nonempty(sub.endpoint_url) then
      return sub.endpoint_url, ("[services %s] %s endpoint_url"):format(sname, key)
    end
  end
  e = M.profile_value(profile, "endpoint_url")
  if e then return e, ("endpoint_url of profile %q"):format(profile_name) end
  return nil
end

--- Default endpoint of a region from the rule set (FIPS and dual-stack
--- variants included).
function M.default_endpoint(region, use_fips, use_dualstack)
  return require("aws_connect.endpoints").resolve{
    region = region, use_fips = use_fips, use_dualstack = use_dualstack,
  }
end

-- Proxies ------------------------------------------------------------------------------

local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then return nil end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

--- True when NO_PROXY (curl's rules: "*", host names matching exactly or
--- as a domain suffix with or without a leading dot, optional :port, IPv4
--- CIDR ranges) exempts host:port.
function M.no_proxy_match(list, host, port)
  host = host:lower():gsub("^%[(.*)%]$", "%1")
  for entry in list:gmatch("[^,%s]+") do
    entry = entry:lower()
    if entry == "*" then return true end
    local eport
    local h, p = entry:match("^(.*):(%d+)$")   -- greedy: the last colon (linear)
    if h and not entry:find("^%[") and not h:find(":", 1, true) then entry, eport = h, tonumber(p) end
    local bracket = entry:match("^%[(.*)%](.*)$")
    if bracket then entry = bracket end
    entry = entry:gsub("^%.", "")
    if not eport or eport == port then
      local net, bits = entry:match("^([%d.]+)/(%d+)$")
      local hip = ipv4(host)
      if net and hip and ipv4(net) and tonumber(bits) <= 32 then
        local size = 2 ^ (32 - tonumber(bits))
        if math.floor(hip / size) == math.floor(ipv4(net) / size) then return true end
      elseif host == entry or (#host > #entry and host:sub(-#entry - 1) == "." .. entry) then
        return true
      end
    end
  end
  return false
end

local PROXY_SCHEMES = { http = true, https = true, socks4 = true, socks4a = true, socks5 = true, socks5h = true }

--- Checks a proxy URL as libcurl will read it (a value without a scheme
--- is http://, as in libcurl); user information is allowed (libcurl sends
--- it to the proxy) but never shown in a message. Raises ConfigError.
function M.check_proxy(proxy, source)
  check_text(source, proxy)
  local full = proxy:find("://", 1, true) and proxy or ("http://" .. proxy)
  url_lib.check(full, source, { schemes = PROXY_SCHEMES, userinfo = "keep", field = "proxy" })
  return proxy
end

--- The proxy for a URL: the proxy option (a URL, or "" / false for none),
--- else https_proxy/HTTPS_PROXY (https URLs) or http_proxy/HTTP_PROXY
--- (http URLs), else all_proxy/ALL_PROXY; a host listed in
--- no_proxy/NO_PROXY goes direct. Lower-case names win, as in curl and
--- Python. Returns the proxy URL, or "" for a direct connection (libcurl
--- then ignores its own environment, so an injected getenv is obeyed).
--- The target URL is read by aws_connect.url, the way libcurl reads it.
function M.proxy_for(getenv, url, explicit)
  local u = url_lib.parse(url)
  local scheme = u and u.scheme or "http"
  local host = u and (u.ipv4 or u.hostname) or ""
  local port = u and u.effective_port or (scheme == "https" and 443 or 80)
  local function env(name)
    local lower = nonempty(getenv(name:lower()))
    if lower then return lower, name:lower() end
    return nonempty(getenv(name:upper())), name:upper()
  end
  local proxy, source
  if explicit ~= nil then
    if explicit == false or explicit == "" then return "" end
    proxy, source = explicit, "proxy option"
  else
    if scheme == "https" then proxy, source = env("https_proxy") end
    if not proxy and scheme == "http" then proxy, source = env("http_proxy") end
    if not proxy then proxy, source = env("all_proxy") end
  end
  if not proxy then return "" end
  local no_proxy = env("no_proxy")
  if no_proxy and M.no_proxy_match(no_proxy, host, port) then return "" end
  return M.check_proxy(proxy, source)
end

-- Numbers, booleans, strings --------------------------------------------------------

local function number_opt(opts, name, default, min)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < min or v == math.huge then
    config_error(("%s must be a number >= %s, got %s"):format(name, tostring(min), tostring(v)), name)
  end
  return v
end
M.number_opt = number_opt

-- A number from the option, else from a profile key (a string).
local function number_setting(opts, name, profile, key, default, min)
  if opts[name] ~= nil then return number_opt(opts, name, default, min) end
  local s = M.profile_value(profile, key)
  if s == nil then return default end
  -- plain decimal only: tonumber would also take 0x10, 1e3 or "inf"
  local v = (s:find("^%d+%.?%d*$") or s:find("^%.%d+$")) and #s <= 20 and tonumber(s) or nil
  if not v or v ~= v or v < min or v == math.huge then
    config_error(("profile setting %s must be a number >= %s, got %q"):format(key, tostring(min), s), name)
  end
  return v
end

--- Integer setting from the option, an environment variable or a profile key.
function M.integer_setting(opts, getenv, name, envname, default, min, max, profile, key)
  local v, source = opts[name], name
  if v == nil then
    local e, esrc = nonempty(getenv(envname)), envname
    if not e and profile and key then e, esrc = M.profile_value(profile, key), "profile setting " .. key end
    if e then
      -- decimal digits only, as botocore's int(): 0x10, 1e1 or 5.0 are refused
      local digits = e:match("^%s*([+-]?%d+)%s*$")
      v, source = digits and #digits <= 12 and tonumber(digits) or nil, esrc
      if not v then
        config_error(("%s=%q is not a decimal integer"):format(esrc, require("aws_connect.redact").printable(e, 40)), name)
      end
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

--- Boolean from the option, an environment variable ("true"/"false") or a
--- profile key.
function M.boolean_setting(opts, getenv, name, envname, profile, key, default)
  if opts[name] ~= nil then return M.boolean_opt(opts, name, default) end
  local e = nonempty(getenv(envname))
  if e then return M.parse_bool(e, envname) end
  e = M.profile_value(profile, key)
  if e then return M.parse_bool(e, "profile setting " .. key) end
  return default
end

function M.string_opt(opts, name)
  local v = opts[name]
  if v == nil then return nil end
  return check_text(name, v)
end

-- String from the option, an environment variable or a profile key.
-- Also returns where the value came from.
local function string_setting(opts, getenv, name, envname, profile, key)
  if opts[name] ~= nil then return M.string_opt(opts, name), name .. " option" end
  local e = envname and nonempty(getenv(envname))
  if e then return check_text(envname, e), envname end
  e = M.profile_value(profile, key)
  if e then return check_text("profile setting " .. key, e), "profile setting " .. key end
  return nil
end

-- Resolve ---------------------------------------------------------------------------

--- Resolves every setting of a client from its options, the environment
--- and the shared config files. Needs no network.
function M.resolve(opts)
  local getenv = M.getenv_of(opts)
  local files = M.load_files(getenv)
  local pname, pexplicit = M.profile_name(opts, getenv, files)
  local profile = files.profiles[pname] or {}
  local cfg = {
    getenv = getenv, files = files, profile_name = pname, profile_explicit = pexplicit, profile = profile,
  }
  local fips_region
  cfg.region, fips_region, cfg.region_source = M.region(opts, getenv, profile, pname)
  cfg.use_fips = M.boolean_setting(opts, getenv, "use_fips", "AWS_USE_FIPS_ENDPOINT", profile,
    "use_fips_endpoint", false) or fips_region
  cfg.use_dualstack = M.boolean_setting(opts, getenv, "use_dualstack", "AWS_USE_DUALSTACK_ENDPOINT", profile,
    "use_dualstack_endpoint", false)

  cfg.ignore_configured_endpoint_urls = M.boolean_opt(opts, "ignore_configured_endpoint_urls", nil)
  local custom, source
  if opts.endpoint ~= nil then
    custom, source = check_text("endpoint", opts.endpoint), "endpoint option"
  else
    custom, source = M.configured_endpoint(getenv, files, profile, pname, "connect", "CONNECT",
      cfg.ignore_configured_endpoint_urls)
  end
  if custom then check_text(source, custom) end
  local ok, url = pcall(require("aws_connect.endpoints").resolve, {
    region = cfg.region, use_fips = cfg.use_fips, use_dualstack = cfg.use_dualstack, endpoint = custom,
  })
  if not ok then
    if errors.is_error(url) and custom then
      url.message = url.message .. " (endpoint from " .. source .. "; set use_fips/use_dualstack = false "
        .. "or drop the custom endpoint)"
    end
    error(url, 0)
  end
  cfg.endpoint_source = source or "endpoint rules"
  cfg.ep = M.parse_endpoint(url, cfg.endpoint_source)

  cfg.connect_timeout = number_setting(opts, "connect_timeout", profile, "connect_timeout", 3.1, 0.001)
  cfg.timeout = number_setting(opts, "timeout", profile, "read_timeout", 60, 0.001)
  cfg.max_body = number_opt(opts, "max_body", 10 * 1024 * 1024, 1)
  if cfg.max_body > 2 ^ 31 then
    config_error(("max_body must be at most 2 GiB (%d bytes), got %s"):format(2 ^ 31, tostring(cfg.max_body)), "max_body")
  end
  cfg.verify_tls = M.boolean_opt(opts, "verify_tls", true)
  local ca, ca_source = string_setting(opts, getenv, "ca_file", "AWS_CA_BUNDLE", profile, "ca_bundle")
  if ca == "" then ca = nil end
  if ca then ca = M.expand_path(ca, getenv) or ca end
  cfg.ca_file = ca
  cfg.ca_file_source = ca and ca_source or nil
  local proxy = opts.proxy
  if proxy ~= nil and proxy ~= false then
    if type(proxy) ~= "string" then config_error("proxy must be a string or false, got " .. type(proxy), "proxy") end
    if proxy ~= "" then M.check_proxy(proxy, "proxy option") end
  end
  cfg.proxy_option = proxy
  cfg.proxy = M.proxy_for(getenv, cfg.ep.url, proxy)
  local app_id = string_setting(opts, getenv, "app_id", "AWS_SDK_UA_APP_ID", profile, "sdk_ua_app_id")
  if app_id then app_id = app_id:gsub("[^%w!#$%%&'*+%-.^_`|~]", "-") end
  cfg.app_id = app_id
  local retry_mode = string_setting(opts, getenv, "retry_mode", "AWS_RETRY_MODE", profile, "retry_mode")
  retry_mode = retry_mode or "standard"
  if retry_mode ~= "standard" and retry_mode ~= "legacy" and retry_mode ~= "adaptive" then
    config_error(("retry_mode must be \"standard\", \"legacy\" or \"adaptive\", got %q"):format(tostring(retry_mode)),
      "retry_mode")
  end
  cfg.retry_mode = retry_mode
  cfg.max_attempts = M.integer_setting(opts, getenv, "max_attempts", "AWS_MAX_ATTEMPTS",
    require("aws_connect.retry").DEFAULT_ATTEMPTS[retry_mode], 1, 100, profile, "max_attempts")
  -- credential settings (providers read them; README "Credentials")
  local sre, sre_source = string_setting({}, getenv, "sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS", profile,
    "sts_regional_endpoints")
  if sre and sre ~= "legacy" and sre ~= "regional" then
    config_error(("%s must be \"legacy\" or \"regional\", got %q"):format(sre_source, sre), "sts_regional_endpoints")
  end
  cfg.sts_regional_endpoints = sre or "regional"
  cfg.credential_cache = M.boolean_opt(opts, "credential_cache", true)
  if opts.mfa_code ~= nil and type(opts.mfa_code) ~= "function" then
    config_error("mfa_code must be a function, got " .. type(opts.mfa_code), "mfa_code")
  end
  return cfg
end

return M
