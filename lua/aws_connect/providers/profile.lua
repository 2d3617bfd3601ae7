-- aws_connect.providers.profile: the providers driven by the shared config
-- and credentials files:
--
--   assume_role   profile with role_arn and source_profile or
--                 credential_source (Environment, Ec2InstanceMetadata,
--                 EcsContainer); AssumeRole signed with the source's keys.
--                 A source profile with its own keys (or without role_arn)
--                 gives its keys through web identity, the credentials
--                 file, credential_process or the config file; one with
--                 only role_arn is assumed in turn (chains are followed,
--                 loops are an error). mfa_serial: the code comes from the
--                 mfa_code option (a function). The result is shared with
--                 other processes through the AWS CLI's cache
--                 (~/.aws/cli/cache, aws_connect.credential_cache; read
--                 before the source credentials are resolved) unless the
--                 credential_cache option is false.
--   web_identity  AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+
--                 AWS_ROLE_SESSION_NAME; not when the profile was chosen
--                 in code), else the profile's
--                 web_identity_token_file + role_arn (+ role_session_name);
--                 AssumeRoleWithWebIdentity, unsigned; the token file is
--                 read on every fetch.
--   shared_file   aws_access_key_id / aws_secret_access_key /
--                 aws_security_token, else aws_session_token, of [name] in
--                 the credentials file.
--   config_file   the same keys in the config file's profile.

local util = require("aws_connect.providers.util")
local sts = require("aws_connect.providers.sts")
local cache = require("aws_connect.credential_cache")

local M = {}

local function has_static(values)
  return values ~= nil and (util.pv(values, "aws_access_key_id") ~= nil or util.pv(values, "aws_secret_access_key") ~= nil)
end

local function static_from(values, where)
  if not has_static(values) then return nil end
  local id, secret = util.pv(values, "aws_access_key_id"), util.pv(values, "aws_secret_access_key")
  if not id then util.cred_error(where .. ": aws_secret_access_key is set but aws_access_key_id is missing") end
  if not secret then util.cred_error(where .. ": aws_access_key_id is set but aws_secret_access_key is missing") end
  return {
    access_key_id = id, secret_access_key = secret,
    -- aws_security_token wins, as for the environment variables (botocore's order)
    session_token = util.pv(values, "aws_security_token") or util.pv(values, "aws_session_token"),
    account_id = util.pv(values, "aws_account_id"),
  }
end

local function shared_file_for(ctx, name)
  local values = ctx.files.credentials_profiles[name]
  local where = ("shared credentials file %s [%s]"):format(tostring(ctx.files.credentials_path), name)
  local c = static_from(values, where)
  if c then return c end
  return nil, ("shared credentials file: no keys for profile %q in %s"):format(name,
    tostring(ctx.files.credentials_path or "~/.aws/credentials (no HOME)"))
end

local function config_file_for(ctx, name)
  local values = ctx.files.config_profiles[name]
  local where = ("config file %s profile %q"):format(tostring(ctx.files.config_path), name)
  local c = static_from(values, where)
  if c then return c end
  return nil, ("config file: no keys for profile %q in %s"):format(name,
    tostring(ctx.files.config_path or "~/.aws/config (no HOME)"))
end

function M.shared_file(ctx) return shared_file_for(ctx, ctx.profile_name) end
function M.config_file(ctx) return config_file_for(ctx, ctx.profile_name) end

local function duration(values, where)
  local d = util.pv(values, "duration_seconds")
  if not d then return nil end
  local n = tonumber(d)
  if not n or n ~= math.floor(n) or n < 900 or n > 43200 then
    util.cred_error(where .. ": duration_seconds must be an integer from 900 to 43200")
  end
  return n
end

-- Web identity ---------------------------------------------------------------

-- use_env: read the AWS_* variables first (the top-level provider); a
-- source profile uses its own keys only.
local function web_identity_for(ctx, name, use_env)
  local profile = ctx.files.profiles[name] or {}
  local token_file, role_arn, session
  if use_env then
    token_file = util.env(ctx, "AWS_WEB_IDENTITY_TOKEN_FILE")
    role_arn = util.env(ctx, "AWS_ROLE_ARN")
    session = util.env(ctx, "AWS_ROLE_SESSION_NAME")
  end
  token_file = token_file or util.pv(profile, "web_identity_token_file")
  if not token_file then
    return nil, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE and web_identity_token_file not set"
  end
  role_arn = role_arn or util.pv(profile, "role_arn")
  session = session or util.pv(profile, "role_session_name")
  local what = "web identity"
  if not role_arn then
    util.cred_error(what .. ": a web identity token file is configured but no role ARN (AWS_ROLE_ARN or role_arn)")
  end
  local token, err = util.read_file(token_file)
  if not token then util.cred_error(what .. ": cannot read the token file (" .. util.printable(err, 200) .. ")") end
  local first = token:find("%S")
  token = first and token:match("^.*%S", first) or ""   -- linear trim
  if token == "" then util.cred_error(what .. ": the token file is empty") end
  return sts.assume_role_with_web_identity(ctx, {
    role_arn = role_arn, role_session_name = session or sts.session_name(ctx), token = token,
    duration_seconds = duration(profile, what),
  }, what)
end

-- The AWS_* variables are read only when the profile was not chosen in
-- code: new{ profile = "x" } means that profile's settings (botocore).
function M.web_identity(ctx) return web_identity_for(ctx, ctx.profile_name, not ctx.profile_explicit) end

-- Assume role ------------------------------------------------------------------

local assume_role_for

local function credential_source(ctx, source, name)
  local what = ("assume-role (profile %q): credential_source %s"):format(name, source)
  local c, why
  if source == "Environment" then
    c, why = require("aws_connect.providers.env").fetch(ctx, true)
  elseif source == "Ec2InstanceMetadata" then
    c, why = require("aws_connect.providers.imds").fetch(ctx)
  elseif source == "EcsContainer" then
    c, why = require("aws_connect.providers.container").fetch(ctx)
  else
    util.cred_error(what .. " is not supported (use Environment, Ec2InstanceMetadata or EcsContainer)")
  end
  if not c then util.cred_error(what .. " found no credentials: " .. tostring(why)) end
  return c
end

local function source_profile(ctx, src, parent, visited)
  local sp = ctx.files.profiles[src]
  if not sp then
    util.cred_error(("assume-role (profile %q): source_profile %q does not exist"):format(parent, src))
  end
  if visited[src] and not (src == parent and has_static(sp)) then
    visited.order[#visited.order + 1] = src
    util.cred_error("assume-role: the source_profile chain loops: " .. table.concat(visited.order, " -> "))
  end
  if has_static(sp) or not util.pv(sp, "role_arn") or util.pv(sp, "web_identity_token_file") then
    require("aws_connect.providers.sso").check(ctx, src)
    local tried = {}
    local providers = {
      function() return web_identity_for(ctx, src, false) end,
      function() return require("aws_connect.providers.sso").for_profile(ctx, src) end,
      function() return shared_file_for(ctx, src) end,
      function() return require("aws_connect.providers.process").for_profile(ctx, src) end,
      function() return config_file_for(ctx, src) end,
    }
    for _, f in ipairs(providers) do
      local c, why = f()
      if c then return c end
      tried[#tried + 1] = why
    end
    util.cred_error(("assume-role (profile %q): source_profile %q has no credentials (%s)"):format(
      parent, src, table.concat(tried, "; ")))
  end
  visited[src] = true
  visited.order[#visited.order + 1] = src
  return assume_role_for(ctx, src, visited)
end

-- The cross-process cache folder and key for AssumeRole arguments, or nil
-- when it is off. The key hashes the arguments as the AWS CLI does: the
-- session name only when the user chose it.
local function cache_slot(ctx, args, named_session)
  local cfg, opts = ctx.cfg or {}, ctx.opts or {}
  if cfg.credential_cache == false or opts.credential_cache == false then return nil end
  local dir = cache.dir(ctx.getenv)
  if not dir then return nil end
  local k = {}
  for key, v in pairs(args) do k[key] = v end
  if not named_session then k.RoleSessionName = nil end
  local key = cache.key_assume_role(k)
  if not key then return nil end
  return dir, key
end

-- The mfa_code option, or a CredentialsError (before anything is resolved).
local function mfa_function(ctx, name, what)
  local f = ctx.opts and ctx.opts.mfa_code
  if type(f) ~= "function" then
    util.cred_error(what .. ": mfa_serial is set, so AssumeRole needs an MFA code; pass "
      .. "new{ mfa_code = function(serial, profile) return code end } (the aws-connect command asks on a terminal)",
      { profile = name })
  end
  return f
end

-- The MFA code for mfa_serial from the mfa_code option.
local function mfa_code(ctx, name, serial, what)
  local f = mfa_function(ctx, name, what)
  local ok, code = pcall(f, serial, name)
  if not ok then
    if require("aws_connect.errors").is_error(code) then error(code, 0) end
    util.cred_error(what .. ": the mfa_code function failed: " .. util.printable(code, 200), { profile = name })
  end
  if type(code) ~= "string" then
    util.cred_error(what .. ": the mfa_code function must return the code as a string, got " .. type(code),
      { profile = name })
  end
  local first = code:find("%S")
  code = first and code:match("^.*%S", first) or ""   -- linear trim
  if code == "" then util.cred_error(what .. ": the mfa_code function returned an empty code", { profile = name }) end
  return code
end

assume_role_for = function(ctx, name, visited)
  local prof = ctx.files.profiles[name] or {}
  local what = ("assume-role (profile %q)"):format(name)
  local role_arn = util.pv(prof, "role_arn")
  local src, csrc = util.pv(prof, "source_profile"), util.pv(prof, "credential_source")
  if src and csrc then util.cred_error(what .. ": source_profile and credential_source are both set; keep one") end
  if not src and not csrc then
    util.cred_error(what .. ": role_arn needs source_profile or credential_source")
  end
  local serial = util.pv(prof, "mfa_serial")
  local session = util.pv(prof, "role_session_name")
  local args = {
    RoleArn = role_arn, RoleSessionName = session or sts.session_name(ctx),
    ExternalId = util.pv(prof, "external_id"), SerialNumber = serial, DurationSeconds = duration(prof, what),
  }
  local dir, key = cache_slot(ctx, args, session ~= nil)
  if dir then
    local c = cache.load(dir, key, ctx.clock(), { log = ctx.log })
    if c then
      if ctx.log then ctx.log("debug", what .. ": credentials from the AWS CLI cache") end
      return c
    end
  end
  if serial then mfa_function(ctx, name, what) end   -- before the source is resolved
  local source_creds
  if csrc then
    source_creds = credential_source(ctx, csrc, name)
  else
    source_creds = source_profile(ctx, src, name, visited)
  end
  if serial then args.TokenCode = mfa_code(ctx, name, serial, what) end
  local c = sts.call(ctx, "AssumeRole", args, source_creds, what)
  if dir then
    local resp = cache.assume_role_response(c)
    resp.Credentials.AccountId = c.account_id
    cache.store(dir, key, resp, { log = ctx.log })
  end
  return c
end

function M.assume_role(ctx)
  local name = ctx.profile_name
  local prof = ctx.files.profiles[name]
  if not prof or not util.pv(prof, "role_arn") then
    return nil, ("assume-role: profile %q has no role_arn"):format(name)
  end
  if util.pv(prof, "web_identity_token_file") then
    return nil, ("assume-role: profile %q uses web identity"):format(name)
  end
  return assume_role_for(ctx, name, { [name] = true, order = { name } })
end

return M
