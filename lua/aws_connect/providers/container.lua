-- aws_connect.providers.container: credentials from the ECS task or EKS Pod
-- Identity endpoint.
--
--   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  appended to http://169.254.170.2
--                                           (wins over FULL_URI)
--   AWS_CONTAINER_CREDENTIALS_FULL_URI      https://..., or http:// to a
--                                           loopback address, localhost,
--                                           169.254.170.2, 169.254.170.23 or
--                                           [fd00:ec2::23]; anything else is
--                                           refused
--   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  its contents (read on every
--                                           fetch) are the Authorization header
--   AWS_CONTAINER_AUTHORIZATION_TOKEN       else this value
--
-- GET with a 2 s timeout, 3 tries 1 s apart; the JSON answer carries
-- AccessKeyId, SecretAccessKey, Token, Expiration and maybe AccountId.
-- base_url, timeout, attempts and retry_delay are fields so that specs can
-- point the relative URI at a local stand-in and shorten the waits. Every
-- URL is read by aws_connect.url; the token is scrubbed from every message
-- (aws_connect.redact), also when the endpoint quotes it back.

local util = require("aws_connect.providers.util")
local url = require("aws_connect.url")
local redact = require("aws_connect.redact")

local M = {}

M.base_url = "http://169.254.170.2"
M.timeout = 2
M.attempts = 3
M.retry_delay = 1

-- the container credential hosts botocore allows over plain http, besides loopback
local ALLOWED_IPV4 = { ["169.254.170.2"] = true, ["169.254.170.23"] = true }
local ALLOWED_IPV6 = "fd00:ec2:0:0:0:0:0:23"

--- True when a FULL_URI may be used: https, or http to an allowed host.
--- The URL is read by aws_connect.url exactly as libcurl will read it, so
--- the host checked is the host connected to (user information, which
--- once let "http://127.0.0.1:1@other-host/" through, is refused).
--- Returns ok, why (why never quotes the URL), and the parsed URL.
function M.allowed_full_uri(s)
  local u, why = url.parse(s)
  if not u then return false, why end
  if u.scheme ~= "http" and u.scheme ~= "https" then return false, "must use http or https" end
  if u.has_userinfo then return false, "must not contain user information (user:password@)" end
  if u.scheme == "https" then return true, nil, u end
  if u.ipv4 and ALLOWED_IPV4[u.ipv4] then return true, nil, u end
  if u.ipv6 then
    local g = url._ipv6_groups(u.hostname)
    local parts = {}
    for i = 1, 8 do parts[i] = ("%x"):format(g[i]) end
    if table.concat(parts, ":") == ALLOWED_IPV6 then return true, nil, u end
  end
  if url.is_loopback(u) then return true, nil, u end
  return false, "uses http with a host that is neither a loopback address nor a container credentials host"
end

local function auth_header(ctx)
  local file = util.env(ctx, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  local token
  if file then
    local data, err = util.read_file(file)
    if not data then
      util.cred_error("container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (" .. util.printable(err, 200) .. ")")
    end
    token = data:gsub("[\r\n]+$", "")
  else
    token = util.env(ctx, "AWS_CONTAINER_AUTHORIZATION_TOKEN")
  end
  if token and token:find("[%z\r\n]") then
    util.cred_error("container: the authorization token contains a line break or NUL")
  end
  if token == "" then token = nil end
  return token
end

function M.fetch(ctx)
  local rel = util.env(ctx, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  local full = util.env(ctx, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
  local target, what
  if rel then
    if rel:find("[%z\1-\32\127]") then
      util.cred_error("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI contains a blank or control character")
    end
    if rel:sub(1, 1) ~= "/" then rel = "/" .. rel end
    -- the joined URL must still point at the base host
    local base = url.parse(M.base_url)
    local u = url.parse(M.base_url .. rel)
    if not u or not base or u.has_userinfo or u.host ~= base.host or u.port ~= base.port then
      util.cred_error("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path on " .. base.origin)
    end
    target, what = url.build(u), "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)"
  elseif full then
    local ok, why, u = M.allowed_full_uri(full)
    if not ok then
      util.cred_error("container: AWS_CONTAINER_CREDENTIALS_FULL_URI " .. url.display(full) .. " " .. why)
    end
    target, what = url.build(u), "container (AWS_CONTAINER_CREDENTIALS_FULL_URI)"
  else
    return nil, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set"
  end
  local token = auth_header(ctx)
  local headers = { { "Accept", "application/json" }, { "User-Agent", "lua-aws-connect credentials/container" } }
  if token then headers[#headers + 1] = { "Authorization", token } end
  -- the endpoint may quote the request back (the token is its Authorization)
  local scrub = redact.new{ token }
  local transport, release = util.transport(ctx)
  local ok, result = pcall(function()
    local last
    for attempt = 1, M.attempts do
      local resp, kind, msg = util.request(ctx, transport, {
        method = "GET", url = target, headers = headers, connect_timeout = M.timeout, timeout = M.timeout,
      })
      if resp and resp.status == 200 then
        local doc = util.json_object(resp.body)
        if doc then return util.creds_from_json(doc, what, "Token") end
        last = "the response is not a JSON object"
      elseif resp then
        local doc = util.json_object(resp.body)
        local m = doc and (util.jstr(doc, "message") or util.jstr(doc, "Message"))
        last = ("HTTP %d%s"):format(resp.status, m and (": " .. util.printable(scrub:string(m), 200)) or "")
      else
        last = ("%s (%s)"):format(kind, util.printable(scrub:string(msg), 200))
      end
      if attempt < M.attempts then util.sleep(ctx, transport, M.retry_delay) end
    end
    util.cred_error(scrub:string(("%s: no credentials from %s after %d attempts: %s"):format(what,
      url.display(target), M.attempts, last)))
  end)
  release()
  if not ok then error(scrub:deep(result), 0) end
  return result
end

return M
