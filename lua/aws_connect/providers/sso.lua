-- aws_connect.providers.sso: profiles whose credentials come from IAM
-- Identity Center (SSO: sso_session, sso_start_url, sso_account_id,
-- sso_role_name) or from an `aws login` session (login_session).
--
-- Not supported yet. Until it is, such a profile is a CredentialsError that
-- says so and names the profile, instead of being skipped in silence (which
-- let the chain go on to an instance role on the host). This is the one
-- place that error is raised: the chain (credentials.lua) and source
-- profiles (profile.lua) both call M.check, so implementing SSO later
-- means replacing this file.

local util = require("aws_connect.providers.util")

local M = {}

M.KEYS = { "sso_session", "sso_start_url", "sso_account_id", "sso_role_name", "login_session" }

--- The first SSO or login key the profile sets, or nil.
function M.key_of(profile)
  if type(profile) ~= "table" then return nil end
  for _, k in ipairs(M.KEYS) do
    if util.pv(profile, k) then return k end
  end
  return nil
end

--- Raises the "not supported" CredentialsError when profile `name` uses
--- SSO or a login session; returns nothing otherwise.
function M.check(ctx, name)
  local profile = ctx.files and ctx.files.profiles and ctx.files.profiles[name]
  local key = M.key_of(profile)
  if not key then return end
  local kind = key == "login_session" and "an aws login session (login_session)" or ("IAM Identity Center / SSO (" .. key .. ")")
  util.cred_error(("profile %q gets its credentials from %s, which this library does not support yet; "
    .. "run `aws configure export-credentials --profile %s --format env` and use the environment, "
    .. "or use a profile with keys, a role or credential_process"):format(name, kind, name),
    { profile = name })
end

--- The chain's provider: raises for an SSO or login profile, else does not apply.
function M.fetch(ctx)
  M.check(ctx, ctx.profile_name)
  return nil, ("sso: profile %q does not use SSO"):format(ctx.profile_name)
end

return M
