-- aws_connect.providers.imds: EC2 instance role credentials from the
-- instance metadata service (IMDSv2).
--
--   1. PUT {base}/latest/api/token with x-aws-ec2-metadata-token-ttl-seconds;
--      a 403/404/405 or a timeout falls back to IMDSv1 (no token) unless
--      AWS_EC2_METADATA_V1_DISABLED / ec2_metadata_v1_disabled is true;
--   2. GET {base}/latest/meta-data/iam/security-credentials/ -> role name;
--   3. GET .../<role> -> Code, AccessKeyId, SecretAccessKey, Token, Expiration.
--
-- base: AWS_EC2_METADATA_SERVICE_ENDPOINT or the profile's
-- ec2_metadata_service_endpoint, else by mode (AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
-- / ec2_metadata_service_endpoint_mode: IPv4 http://169.254.169.254, IPv6
-- http://[fd00:ec2::254]). AWS_EC2_METADATA_DISABLED=true turns it off.
-- Timeout and attempts per request: AWS_METADATA_SERVICE_TIMEOUT /
-- metadata_service_timeout (seconds, default 1) and
-- AWS_METADATA_SERVICE_NUM_ATTEMPTS / metadata_service_num_attempts
-- (default 1), as botocore: a GET is tried again after a network error, a
-- status other than 200 or an empty body; the token request after a
-- network error or a status other than 200/400/403/404/405 (a timeout goes
-- to IMDSv1 at once). A fresh token per fetch. When the service
-- cannot be reached the provider does not apply (the chain ends in its
-- CredentialsError). Credentials that arrive with less than 15 minutes to
-- live get their expiry pushed out by 15 min + 2-10 min of jitter, as
-- botocore does, so that an outage of the service does not stop the client.

local util = require("aws_connect.providers.util")

local M = {}

M.timeout = 1
M.token_ttl = 21600
M.extend_window = 15 * 60

local function setting(ctx, env, key)
  local profile = ctx.files and ctx.files.profiles and ctx.files.profiles[ctx.profile_name]
  local v = util.env(ctx, env)
  if v then return v, env end
  return util.pv(profile, key), "profile setting " .. key
end

--- The metadata base URL (without a trailing slash).
function M.base_url(ctx)
  local ep = setting(ctx, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint")
  if ep then
    -- read as libcurl will read it (aws_connect.url): http(s), no user
    -- information, no query; the message never shows a password
    local u = require("aws_connect.url").check(ep, "instance metadata: the endpoint",
      { code = "CredentialsError", field = "ec2_metadata_service_endpoint" })
    local path = u.path
    local stop = #path
    while stop > 0 and path:byte(stop) == 47 do stop = stop - 1 end   -- trailing "/"s (linear)
    return u.origin .. path:sub(1, stop)
  end
  local mode, src = setting(ctx, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode")
  if mode == nil or mode:lower() == "ipv4" then return "http://169.254.169.254" end
  if mode:lower() == "ipv6" then return "http://[fd00:ec2::254]" end
  util.cred_error(("instance metadata: %s must be IPv4 or IPv6, got %q"):format(src, util.printable(mode, 20)))
end

--- The timeout (seconds) and the number of attempts per request.
function M.limits(ctx)
  local t, tsrc = setting(ctx, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout")
  local timeout = M.timeout
  if t then
    local n = (t:find("^%d+%.?%d*$") or t:find("^%.%d+$")) and #t <= 12 and tonumber(t) or nil
    if not n or n <= 0 or n > 3600 then
      util.cred_error(("instance metadata: %s must be a number of seconds from 0 to 3600, got %q"):format(tsrc,
        util.printable(t, 20)), { field = "metadata_service_timeout" })
    end
    timeout = n
  end
  local a, asrc = setting(ctx, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts")
  local attempts = 1
  if a then
    local n = a:find("^%d+$") and #a <= 3 and tonumber(a) or nil
    if not n or n < 1 or n > 100 then
      util.cred_error(("instance metadata: %s must be an integer from 1 to 100, got %q"):format(asrc,
        util.printable(a, 20)), { field = "metadata_service_num_attempts" })
    end
    attempts = n
  end
  return timeout, attempts
end

function M.fetch(ctx)
  local disabled = util.env(ctx, "AWS_EC2_METADATA_DISABLED")
  if disabled and disabled:lower() == "true" then
    return nil, "instance metadata: disabled by AWS_EC2_METADATA_DISABLED"
  end
  local base = M.base_url(ctx)
  local timeout, attempts = M.limits(ctx)
  local v1_off, v1_src = setting(ctx, "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled")
  v1_off = util.bool(v1_off, v1_src) or false
  local transport, release = util.transport(ctx)
  local function req(method, path, headers)
    return util.request(ctx, transport, {
      method = method, url = base .. path, headers = headers,
      connect_timeout = timeout, timeout = timeout, max_body = 64 * 1024,
    })
  end
  -- a GET, tried again (up to `attempts`) unless it answers 200 with a body
  local function get(path, headers)
    local resp, kind, msg
    for _ = 1, attempts do
      resp, kind, msg = req("GET", path, headers)
      if resp and resp.status == 200 and (resp.body or "") ~= "" then break end
    end
    return resp, kind, msg
  end
  local ok, c, why = pcall(function()
    local ua = { "User-Agent", "lua-aws-connect credentials/imds" }
    -- 1. token
    local resp, kind, msg
    for _ = 1, attempts do
      resp, kind, msg = req("PUT", "/latest/api/token",
        { { "x-aws-ec2-metadata-token-ttl-seconds", tostring(M.token_ttl) }, ua })
      if resp and (resp.status == 200 or resp.status == 400 or resp.status == 403 or resp.status == 404
        or resp.status == 405) then break end
      if not resp and kind == "timeout" then break end
    end
    local token
    if resp and resp.status == 200 and resp.body ~= "" then
      token = resp.body:match("^%s*(%S+)%s*$")   -- one word (linear; a token has no blanks)
      if not token then return nil, "instance metadata: the token is not a header value" end
      if token:find("[%z\1-\31\127]") then return nil, "instance metadata: the token is not a header value" end
    elseif resp and (resp.status == 403 or resp.status == 404 or resp.status == 405) then
      token = nil
    elseif not resp and kind == "timeout" then
      token = nil
    elseif resp and resp.status == 400 then
      return nil, "instance metadata: token request answered HTTP 400"
    elseif resp then
      token = nil   -- still failing after every attempt: IMDSv1, as botocore
    else
      return nil, ("instance metadata: %s not reachable (%s: %s)"):format(base, kind, util.printable(msg, 150))
    end
    if not token and v1_off then
      return nil, "instance metadata: no IMDSv2 token and IMDSv1 is disabled"
    end
    local headers = { ua }
    if token then headers[2] = { "x-aws-ec2-metadata-token", token } end
    -- 2. role name
    resp, kind, msg = get("/latest/meta-data/iam/security-credentials/", headers)
    if not resp then
      return nil, ("instance metadata: role request failed (%s: %s)"):format(kind, util.printable(msg, 150))
    end
    if resp.status == 404 then return nil, "instance metadata: no IAM role is attached to this instance" end
    if resp.status ~= 200 then return nil, ("instance metadata: role request answered HTTP %d"):format(resp.status) end
    -- the first non-blank line (linear scans: the body is the server's)
    local body = resp.body or ""
    local first = body:find("%S")
    local role = ""
    if first then
      local eol = body:find("[\r\n]", first) or (#body + 1)
      role = body:sub(first, eol - 1):match("^.*%S")
    end
    if role == "" then return nil, "instance metadata: no IAM role is attached to this instance" end
    if role:find("[^%w+=,.@_%-]") then return nil, "instance metadata: unexpected role name" end
    -- 3. credentials
    resp, kind, msg = get("/latest/meta-data/iam/security-credentials/" .. role, headers)
    if not resp then
      return nil, ("instance metadata: credentials request failed (%s: %s)"):format(kind, util.printable(msg, 150))
    end
    if resp.status ~= 200 then
      return nil, ("instance metadata: credentials request answered HTTP %d"):format(resp.status)
    end
    local doc = util.json_object(resp.body)
    if not doc then return nil, "instance metadata: the credentials are not a JSON object" end
    if doc.Code ~= nil and doc.Code ~= "Success" then
      return nil, "instance metadata: credentials Code is " .. util.printable(tostring(doc.Code), 40)
    end
    local creds = util.creds_from_json(doc, "instance metadata", "Token")
    local now = ctx.clock()
    if creds.expiration and creds.expiration - now < M.extend_window then
      local jitter = 120 + math.random() * 480
      creds.expiration = now + M.extend_window + jitter
      if ctx.log then
        ctx.log("warn", "instance metadata credentials expire in less than 15 minutes; "
          .. "using them for another " .. math.floor((M.extend_window + jitter) / 60) .. " minutes")
      end
    end
    return creds
  end)
  release()
  if not ok then error(c, 0) end
  return c, why
end

return M
