-- aws_connect.providers.sts: the two AWS STS calls the credential chain
-- needs, AssumeRole (SigV4-signed with the source credentials) and
-- AssumeRoleWithWebIdentity (unsigned). Both go through the client's one
-- pipeline (ctx.env.service_call, aws_connect.services): the STS model
-- validates the input, the query protocol builds the form and reads the
-- XML answer, and the client's retry policy, sleep option, User-Agent,
-- logger and transport apply. A resolver used without a client gets a
-- pipeline of its own with the default settings.
--
-- Endpoint: aws_connect.services (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
-- [services x] `sts =`, the profile's endpoint_url, else STS's endpoint
-- rules for the client's region: https://sts[-fips].{region}.{dnsSuffix}).
-- Throttling, 5xx, IDPCommunicationError and network failures are retried
-- as the client's retry mode says; what still fails is raised as a
-- CredentialsError carrying sts_code, status, request_id and attempts. The
-- request's secrets (source keys, session token, web identity token) are
-- scrubbed from every message and field (aws_connect.redact): an endpoint
-- may quote the request back.

local errors = require("aws_connect.errors")
local util = require("aws_connect.providers.util")
local services = require("aws_connect.services")
local redact = require("aws_connect.redact")

local M = {}

local function trim(s)
  if type(s) ~= "string" then return nil end
  local a = s:find("[^ \t\r\n]")
  if not a then return nil end
  return s:match("^.*[^ \t\r\n]", a)
end

-- The settings the STS endpoint depends on, from the providers' context.
local function where(ctx)
  local cfg = ctx.cfg or {}
  return {
    getenv = ctx.getenv, files = ctx.files or cfg.files, profile_name = ctx.profile_name,
    region = cfg.region, use_fips = cfg.use_fips, use_dualstack = cfg.use_dualstack,
    ignore_configured_endpoint_urls = cfg.ignore_configured_endpoint_urls,
    sts_regional_endpoints = cfg.sts_regional_endpoints,
  }
end

--- The STS endpoint URL and its source for this client.
function M.endpoint(ctx)
  local e = services.endpoint("sts", where(ctx))
  return e.url, e.source
end

--- The credentials of an AssumeRole* result, or nil and what is missing.
function M.credentials_of(result)
  local c = type(result) == "table" and result.credentials
  if type(c) ~= "table" then return nil, "no Credentials element" end
  local id, secret, token = trim(c.access_key_id), trim(c.secret_access_key), trim(c.session_token)
  if not id then return nil, "no AccessKeyId" end
  if not secret then return nil, "no SecretAccessKey" end
  if not token then return nil, "no SessionToken" end
  local account
  local user = result.assumed_role_user
  local arn = type(user) == "table" and trim(user.arn)
  if arn then account = arn:match("^arn:[^:]*:[^:]*:[^:]*:(%d+):") end
  return { access_key_id = id, secret_access_key = secret, session_token = token,
           expiration = c.expiration, account_id = account }
end

-- The pipeline: the client's (ctx.env.service_call), else one with the
-- default settings.
local function service_call(ctx)
  return services.caller(ctx)
end

-- A failed STS call as the CredentialsError the chain raises. ConfigErrors
-- (a [services] section that does not exist, a transport that cannot run
-- in this nginx phase) stay what they are.
local function credentials_error(e, what, action)
  if not errors.is_error(e) then
    util.cred_error(("%s: STS %s failed: %s"):format(what, action, util.printable(e, 300)))
  end
  if e.code == "ConfigError" then error(e, 0) end
  local fields = { status = e.status, request_id = e.request_id, attempts = e.attempts, field = e.field }
  local msg
  if e.kind == "service" then
    fields.sts_code = e.code
    msg = ("%s: STS %s failed: %s: %s"):format(what, action, e.code, e.message)
  elseif e.kind == "validation" then
    msg = ("%s: the STS %s request is invalid: %s"):format(what, action, e.message)
  else
    msg = ("%s: STS %s failed: %s"):format(what, action, tostring(e):gsub("^aws_connect: ", ""))
  end
  util.cred_error(msg, fields)
end

--- Calls an STS action through the pipeline. `creds` signs the request
--- (nil: unsigned); `secrets` lists strings to scrub besides them. `what`
--- prefixes messages ("assume-role (profile dev)"). Returns the
--- credentials from the response or raises CredentialsError.
function M.call(ctx, action, params, creds, what, secrets)
  local ok, res = pcall(service_call(ctx), "sts", action, params, {
    credentials = creds, unsigned = creds == nil, secrets = secrets, what = what,
  })
  if not ok then
    -- the pipeline has scrubbed what the server sent; this also covers
    -- what was raised before anything was sent
    local scrub = redact.new{ creds and creds.secret_access_key, creds and creds.session_token,
      (secrets or {})[1], (secrets or {})[2] }
    local ok2, e = pcall(credentials_error, res, what, action)
    assert(not ok2)
    error(scrub:deep(e), 0)
  end
  local c, missing = M.credentials_of(res)
  if not c then util.cred_error(("%s: the STS %s response has %s"):format(what, action, missing)) end
  return c
end

local function duration(v)
  if v == nil then return nil end
  return tonumber(v) or v   -- a string that is no number fails validation, naming the field
end

--- AssumeRole with the given source credentials.
--- p: { role_arn, role_session_name, external_id, duration_seconds }
function M.assume_role(ctx, source_creds, p, what)
  return M.call(ctx, "AssumeRole", {
    RoleArn = p.role_arn, RoleSessionName = p.role_session_name, ExternalId = p.external_id,
    DurationSeconds = duration(p.duration_seconds),
  }, source_creds, what)
end

--- AssumeRoleWithWebIdentity (unsigned).
--- p: { role_arn, role_session_name, token, duration_seconds }
function M.assume_role_with_web_identity(ctx, p, what)
  return M.call(ctx, "AssumeRoleWithWebIdentity", {
    RoleArn = p.role_arn, RoleSessionName = p.role_session_name, WebIdentityToken = p.token,
    DurationSeconds = duration(p.duration_seconds),
  }, nil, what, { p.token })
end

--- A default session name: aws-connect-lua-<epoch seconds>.
function M.session_name(ctx)
  return "aws-connect-lua-" .. tostring(math.floor(ctx.clock()))
end

return M
