-- aws_connect.providers.env: credentials from the environment:
-- AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, the session token from
-- AWS_SECURITY_TOKEN or else AWS_SESSION_TOKEN (botocore's order),
-- AWS_CREDENTIAL_EXPIRATION (ISO 8601) and AWS_ACCOUNT_ID. Skipped when the
-- profile was chosen in code (new{ profile = ... }), as botocore does.

local util = require("aws_connect.providers.util")

local M = {}

--- fetch(ctx[, force]): force ignores the explicit-profile rule (used by
--- credential_source = Environment).
function M.fetch(ctx, force)
  if ctx.profile_explicit and not force then
    return nil, "environment: skipped because the profile was chosen in code"
  end
  local id, secret = util.env(ctx, "AWS_ACCESS_KEY_ID"), util.env(ctx, "AWS_SECRET_ACCESS_KEY")
  if not id and not secret then
    return nil, "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set"
  end
  if not id then util.cred_error("environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") end
  if not secret then util.cred_error("environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not") end
  local exp
  local e = util.env(ctx, "AWS_CREDENTIAL_EXPIRATION")
  if e then
    exp = util.parse_time(e)
    if not exp then util.cred_error("environment: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time") end
  end
  return {
    access_key_id = id, secret_access_key = secret,
    session_token = util.env(ctx, "AWS_SECURITY_TOKEN") or util.env(ctx, "AWS_SESSION_TOKEN"),
    expiration = exp, account_id = util.env(ctx, "AWS_ACCOUNT_ID"),
  }
end

return M
