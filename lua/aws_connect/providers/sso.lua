-- aws_connect.providers.sso: credentials from IAM Identity Center (SSO),
-- as botocore's SSOProvider / SSOTokenProvider give them
-- (aws-behaviour.md §9), and the not-yet-supported `aws login` sessions.
--
-- A profile applies when it sets sso_account_id or sso_role_name. Its SSO
-- settings are the [sso-session NAME] section it names with sso_session
-- (sso_start_url, sso_region, sso_registration_scopes; a key set in both
-- places must agree), or the legacy sso_start_url + sso_region on the
-- profile itself.
--
--   1. ~/.aws/cli/cache/<key>.json (aws_connect.credential_cache, the AWS
--      CLI's file for these role credentials) when it has more than 15
--      minutes left and the credential_cache option is not false;
--   2. the token `aws sso login` cached in ~/.aws/sso/cache/<sha1>.json
--      (SHA-1 hex of the session name, or of the start URL for legacy
--      profiles): accessToken, expiresAt; for sessions also refreshToken,
--      clientId, clientSecret, registrationExpiresAt. With fewer than 15
--      minutes left a session's token is refreshed with SSO-OIDC
--      CreateToken (grantType refresh_token, unsigned) and the file
--      rewritten atomically (mode 0600); a failed refresh is logged and
--      the old token used while it lasts;
--   3. SSO GetRoleCredentials (unsigned, the token in the modeled
--      x-amz-sso_bearer_token header) on the portal of sso_region;
--      expiration comes in milliseconds. The result is written to the
--      cache of step 1.
--
-- Both calls go through the client's pipeline (ctx.env.service_call:
-- endpoint from AWS_ENDPOINT_URL_SSO / _SSO_OIDC, [services] keys sso /
-- sso_oidc, AWS_ENDPOINT_URL, the profile's endpoint_url, else the rules
-- for sso_region; the client's retries, transport and sleep, so inside
-- nginx nothing blocks but the small file reads and writes). The resolver
-- (credentials.lua) refreshes the credentials before they expire.
--
-- Every failure is a CredentialsError naming the profile; a token that is
-- missing, expired or refused says to run `aws sso login --profile NAME`.
-- Tokens, refresh tokens and client secrets never appear in a message.

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")
local config = require("aws_connect.config")
local times = require("aws_connect.times")
local redact = require("aws_connect.redact")
local util = require("aws_connect.providers.util")
local cache = require("aws_connect.credential_cache")

local M = {}

M.REFRESH_WINDOW = 15 * 60        -- refresh a session's token this long before it expires
M.MAX_TOKEN_BYTES = 64 * 1024     -- a token file is ~2 KiB

local function show(s) return redact.printable(s, 80) end

local function login_hint(name)
  return ("run `aws sso login --profile %s`"):format(show(name))
end

-- login_session ---------------------------------------------------------------------

--- Raises the "not supported" CredentialsError when profile `name` uses an
--- `aws login` session (login_session); returns nothing otherwise.
function M.check(ctx, name)
  local profile = ctx.files and ctx.files.profiles and ctx.files.profiles[name]
  if not util.pv(profile, "login_session") then return end
  util.cred_error(("profile %q gets its credentials from an aws login session (login_session), which this "
    .. "library does not support yet; run `aws configure export-credentials --profile %s --format env` and use "
    .. "the environment, or use a profile with keys, a role, SSO or credential_process"):format(show(name), show(name)),
    { profile = name })
end

--- The chain's login provider: raises for a login_session profile.
function M.login(ctx)
  M.check(ctx, ctx.profile_name)
  return nil, ("login: profile %q has no login_session"):format(ctx.profile_name)
end

-- Settings ------------------------------------------------------------------------

local function fail(name, msg, fields)
  fields = fields or {}
  fields.profile = name
  util.cred_error(("SSO (profile %q): %s"):format(show(name), msg), fields)
end

local SESSION_KEYS = { "sso_start_url", "sso_region", "sso_registration_scopes" }

--- The SSO settings of profile `name`, or nil when it does not use SSO
--- role credentials: { profile, account_id, role_name, start_url, region,
--- session_name (nil for legacy profiles), scopes }.
function M.settings(ctx, name)
  local files = ctx.files or {}
  local profile = (files.profiles or {})[name]
  if type(profile) ~= "table" then return nil end
  local pv = util.pv
  local account, role = pv(profile, "sso_account_id"), pv(profile, "sso_role_name")
  local session_name = pv(profile, "sso_session")
  if not account and not role then
    if session_name or pv(profile, "sso_start_url") then
      fail(name, "the profile names an SSO login (" .. (session_name and "sso_session" or "sso_start_url")
        .. ") but no sso_account_id and sso_role_name, so there is no role to get credentials for; "
        .. "add them (`aws configure sso --profile " .. show(name) .. "` writes them)")
    end
    return nil
  end
  local values = {}
  for _, k in ipairs(SESSION_KEYS) do values[k] = pv(profile, k) end
  if session_name then
    local section = (files.sso_sessions or {})[session_name]
    if type(section) ~= "table" then
      fail(name, ("sso_session %q refers to [sso-session %s], which does not exist in %s"):format(
        show(session_name), show(session_name), tostring(files.config_path or "~/.aws/config")))
    end
    for k, v in pairs(section) do
      if type(v) == "string" and v ~= "" then
        local mine = pv(profile, k)
        if mine and mine ~= v then
          fail(name, ("%s differs between the profile and [sso-session %s]; keep one"):format(show(k),
            show(session_name)))
        end
        values[k] = v
      end
    end
  end
  local missing = {}
  if not role then missing[#missing + 1] = "sso_role_name" end
  if not account then missing[#missing + 1] = "sso_account_id" end
  if not values.sso_start_url then missing[#missing + 1] = "sso_start_url" end
  if not values.sso_region then missing[#missing + 1] = "sso_region" end
  if #missing > 0 then
    fail(name, "the profile is configured for IAM Identity Center but is missing " .. table.concat(missing, ", ")
      .. (session_name and (" (in the profile or [sso-session " .. show(session_name) .. "])") or ""))
  end
  local region = values.sso_region
  if not region:find("^[a-z0-9][a-z0-9%-]*$") or #region > 63 then
    fail(name, ("sso_region %q is not a region name"):format(show(region)))
  end
  return {
    profile = name, account_id = account, role_name = role, start_url = values.sso_start_url,
    region = region, session_name = session_name, scopes = values.sso_registration_scopes,
  }
end

-- The token cache ---------------------------------------------------------------------

--- The path of the token file `aws sso login` writes for settings s, or nil.
function M.token_path(getenv, s)
  local home = config.home(getenv)
  if not home then return nil end
  return (home:gsub("/+$", "")) .. "/.aws/sso/cache/" .. core.sha1_hex(s.session_name or s.start_url) .. ".json"
end

-- expiresAt as the AWS CLI writes it ("...Z"; older versions "...UTC").
local function parse_time(v)
  if type(v) ~= "string" or #v > 64 then return nil end
  return (times.parse_iso8601((v:gsub("%s*UTC$", "Z"))))
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

local function header_value(v)
  return type(v) == "string" and v ~= "" and #v <= 16 * 1024 and not v:find("[%z\1-\31\127]")
end

local function what_of(s)
  return s.session_name and ("the SSO session %q"):format(show(s.session_name))
    or ("the SSO login for %s"):format(show(s.start_url))
end

-- The token file's document, or a CredentialsError.
local function read_token(s, path)
  local name = s.profile
  if not path then fail(name, "no home directory (HOME) to find the SSO token cache in; " .. login_hint(name)) end
  local text, kind, msg = core.read_bounded(path, M.MAX_TOKEN_BYTES)
  if not text then
    if kind == "missing" then
      fail(name, ("no SSO token is cached for %s (%s); %s"):format(what_of(s), path, login_hint(name)))
    end
    fail(name, ("cannot read the SSO token cache %s (%s); %s"):format(path, show(msg), login_hint(name)))
  end
  local ok, doc = pcall(core.json_decode, text)
  if not ok or type(doc) ~= "table" then
    fail(name, ("the SSO token cache %s is not a JSON object; %s"):format(path, login_hint(name)))
  end
  if not header_value(doc.accessToken) or not parse_time(doc.expiresAt) then
    fail(name, ("the SSO token cache %s has no usable %s; %s"):format(path,
      header_value(doc.accessToken) and "expiresAt" or "accessToken", login_hint(name)))
  end
  return doc
end

-- The client's pipeline, else one with the default settings.
local function service_call(ctx)
  return require("aws_connect.services").caller(ctx)
end

-- A new token from SSO-OIDC CreateToken, or nil and why not.
local function refresh_token(ctx, s, doc, now)
  for _, k in ipairs({ "refreshToken", "clientId", "clientSecret" }) do
    if not header_value(doc[k]) then return nil, "the token cache has no " .. k end
  end
  local reg = parse_time(doc.registrationExpiresAt)
  if not reg then return nil, "the token cache has no registrationExpiresAt" end
  if reg <= now then return nil, "the client registration expired at " .. iso(reg) end
  local secrets = { doc.refreshToken, doc.clientSecret, doc.accessToken }
  local ok, res = pcall(service_call(ctx), "sso_oidc", "CreateToken", {
    clientId = doc.clientId, clientSecret = doc.clientSecret, grantType = "refresh_token",
    refreshToken = doc.refreshToken,
  }, { unsigned = true, region = s.region, secrets = secrets, what = "SSO-OIDC CreateToken" })
  if not ok then
    local e = redact.new(secrets):deep(res)
    if errors.is_error(e) and e.code == "ConfigError" then error(e, 0) end
    return nil, "CreateToken failed: " .. show(errors.is_error(e) and (e.code .. ": " .. tostring(e.message)) or e)
  end
  local access, ttl = type(res) == "table" and res.access_token, type(res) == "table" and res.expires_in
  if not header_value(access) then return nil, "CreateToken answered no accessToken" end
  if type(ttl) ~= "number" or ttl <= 0 or ttl ~= ttl or ttl > 366 * 86400 then
    return nil, "CreateToken answered no usable expiresIn"
  end
  local new = {}
  for k, v in pairs(doc) do new[k] = v end
  new.startUrl, new.region = s.start_url, s.region
  new.accessToken, new.expiresAt = access, iso(now + ttl)
  -- as botocore: the refresh token of the answer (none: the old one is dropped)
  new.refreshToken = header_value(res.refresh_token) and res.refresh_token or nil
  return new
end

--- The SSO access token for settings s (refreshed when it is a session's
--- and has fewer than 15 minutes left), or a CredentialsError.
function M.token(ctx, s)
  local name = s.profile
  local path = M.token_path(ctx.getenv, s)
  local doc = read_token(s, path)
  local now = ctx.clock()
  local expires = parse_time(doc.expiresAt)
  if s.session_name and expires - now < M.REFRESH_WINDOW then
    local new, why = refresh_token(ctx, s, doc, now)
    if new then
      local okj, text = pcall(core.json_encode, new)
      local written, _, werr = false, nil, "cannot encode the token"
      if okj then written, _, werr = core.write_private(path, text) end
      if not written then
        ctx.log("warn", ("SSO (profile %q): refreshed token not saved: %s"):format(show(name), show(werr)))
      end
      ctx.log("info", ("SSO (profile %q): token of %s refreshed"):format(show(name), what_of(s)))
      doc, expires = new, parse_time(new.expiresAt)
    else
      ctx.log(expires > now and "warn" or "info",
        ("SSO (profile %q): token refresh not possible: %s"):format(show(name), why))
    end
  end
  if expires <= now then
    fail(name, ("the SSO token of %s expired at %s; %s"):format(what_of(s), iso(expires), login_hint(name)))
  end
  return doc.accessToken, expires
end

-- GetRoleCredentials --------------------------------------------------------------

local function role_credentials(ctx, s, token)
  local name = s.profile
  local ok, res = pcall(service_call(ctx), "sso", "GetRoleCredentials", {
    roleName = s.role_name, accountId = s.account_id, accessToken = token,
  }, { unsigned = true, region = s.region, secrets = { token }, what = "SSO GetRoleCredentials" })
  if not ok then
    local e = redact.new{ token }:deep(res)
    if not errors.is_error(e) then fail(name, "GetRoleCredentials failed: " .. show(e)) end
    if e.code == "ConfigError" then error(e, 0) end
    local fields = { status = e.status, request_id = e.request_id, attempts = e.attempts }
    if e.kind == "service" then
      fields.sso_code = e.code
      if e.code == "UnauthorizedException" then
        fail(name, ("the SSO portal refused the token of %s (UnauthorizedException: %s): it has expired or "
          .. "was revoked; %s"):format(what_of(s), show(e.message), login_hint(name)), fields)
      end
      fail(name, ("GetRoleCredentials for role %s in account %s failed: %s: %s"):format(show(s.role_name),
        show(s.account_id), e.code, show(e.message)), fields)
    elseif e.kind == "validation" then
      fields.field = e.field
      fail(name, "the GetRoleCredentials request is invalid: " .. show(e.message), fields)
    end
    fail(name, "GetRoleCredentials failed: " .. tostring(e):gsub("^aws_connect: ", ""), fields)
  end
  local rc = type(res) == "table" and res.role_credentials
  if type(rc) ~= "table" then fail(name, "the GetRoleCredentials answer has no roleCredentials") end
  for _, k in ipairs({ "access_key_id", "secret_access_key", "session_token" }) do
    if type(rc[k]) ~= "string" or rc[k] == "" then
      fail(name, "the GetRoleCredentials answer has no " .. k)
    end
  end
  local ms = rc.expiration
  if type(ms) ~= "number" or ms ~= ms or ms <= 0 or ms > 1e15 then
    fail(name, "the GetRoleCredentials answer has no usable expiration")
  end
  return {
    access_key_id = rc.access_key_id, secret_access_key = rc.secret_access_key, session_token = rc.session_token,
    expiration = ms / 1000, account_id = s.account_id,
  }
end

-- The provider --------------------------------------------------------------------

-- The cross-process cache folder and key, or nil when it is off.
local function cache_slot(ctx, s)
  local cfg, opts = ctx.cfg or {}, ctx.opts or {}
  if cfg.credential_cache == false or opts.credential_cache == false then return nil end
  local dir = cache.dir(ctx.getenv)
  if not dir then return nil end
  local key = cache.key_sso{ role_name = s.role_name, account_id = s.account_id,
    session_name = s.session_name, start_url = not s.session_name and s.start_url or nil }
  if not key then return nil end
  return dir, key
end

--- Role credentials for profile `name`, or nil and why it does not apply.
function M.for_profile(ctx, name)
  local s = M.settings(ctx, name)
  if not s then
    return nil, ("sso: profile %q has no sso_account_id / sso_role_name"):format(show(name))
  end
  local dir, key = cache_slot(ctx, s)
  if dir then
    local c = cache.load(dir, key, ctx.clock(), { log = ctx.log })
    if c then
      c.account_id = c.account_id or s.account_id
      ctx.log("debug", ("SSO (profile %q): role credentials from the AWS CLI cache"):format(show(name)))
      return c
    end
  end
  local token = M.token(ctx, s)
  local c = role_credentials(ctx, s, token)
  if dir then cache.store(dir, key, cache.sso_response(c), { log = ctx.log }) end
  return c
end

--- The chain's provider (the selected profile).
function M.fetch(ctx)
  return M.for_profile(ctx, ctx.profile_name)
end

return M
