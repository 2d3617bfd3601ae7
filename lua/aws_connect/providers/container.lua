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
-- point the relative URI at a local stand-in and shorten the waits.

local util = require("aws_connect.providers.util")

local M = {}

M.base_url = "http://169.254.170.2"
M.timeout = 2
M.attempts = 3
M.retry_delay = 1

local ALLOWED_HOSTS = {
  ["169.254.170.2"] = true, ["169.254.170.23"] = true, ["fd00:ec2::23"] = true, localhost = true,
}

local function loopback(host)
  if host == "::1" or host == "0:0:0:0:0:0:0:1" then return true end
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  return tonumber(a) == 127 and tonumber(b) <= 255 and tonumber(c) <= 255 and tonumber(d) <= 255
end

--- True when a FULL_URI may be used: https, or http to an allowed host.
function M.allowed_full_uri(url)
  local scheme, authority = url:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return false, "is not a URL" end
  scheme = scheme:lower()
  if scheme == "https" then return true end
  if scheme ~= "http" then return false, "must use http or https" end
  local host = authority:match("^%[(.-)%]") or authority:match("^([^:]*)")
  host = (host or ""):lower()
  if ALLOWED_HOSTS[host] or loopback(host) then return true end
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
  local url, what
  if rel then
    if rel:find("[%z\1-\32\127]") then
      util.cred_error("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI contains a blank or control character")
    end
    if rel:sub(1, 1) ~= "/" then rel = "/" .. rel end
    url, what = M.base_url .. rel, "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)"
  elseif full then
    local ok, why = M.allowed_full_uri(full)
    if not ok or full:find("[%z\1-\32\127]") then
      util.cred_error("container: AWS_CONTAINER_CREDENTIALS_FULL_URI " .. (why or "contains a blank or control character"))
    end
    url, what = full, "container (AWS_CONTAINER_CREDENTIALS_FULL_URI)"
  else
    return nil, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set"
  end
  local token = auth_header(ctx)
  local headers = { { "Accept", "application/json" }, { "User-Agent", "lua-aws-connect credentials/container" } }
  if token then headers[#headers + 1] = { "Authorization", token } end
  local transport, release = util.transport(ctx)
  local ok, result = pcall(function()
    local last
    for attempt = 1, M.attempts do
      local resp, kind, msg = util.request(ctx, transport, {
        method = "GET", url = url, headers = headers, connect_timeout = M.timeout, timeout = M.timeout,
      })
      if resp and resp.status == 200 then
        local doc = util.json_object(resp.body)
        if doc then return util.creds_from_json(doc, what, "Token") end
        last = "the response is not a JSON object"
      elseif resp then
        local doc = util.json_object(resp.body)
        local m = doc and (util.jstr(doc, "message") or util.jstr(doc, "Message"))
        last = ("HTTP %d%s"):format(resp.status, m and (": " .. util.printable(m, 200)) or "")
      else
        last = ("%s (%s)"):format(kind, util.printable(msg, 200))
      end
      if attempt < M.attempts then util.sleep(ctx, transport, M.retry_delay) end
    end
    util.cred_error(("%s: no credentials from %s after %d attempts: %s"):format(what, url, M.attempts, last))
  end)
  release()
  if not ok then error(result, 0) end
  return result
end

return M
