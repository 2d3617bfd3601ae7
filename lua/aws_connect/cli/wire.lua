-- aws_connect.cli.wire: the transport the command gives the library: the
-- curl transport, wrapped to keep the body of the last Connect response
-- (cli/result.lua takes map key order from it) and, with --debug, to log
-- every exchange to stderr, Connect's and the credential providers'
-- (instance metadata, containers, STS, SSO), headers and bodies included.
--
-- Logged text goes through the library's one redaction (aws_connect.redact)
-- with every secret this process has seen: the environment's keys and
-- tokens, token headers of requests (X-Amz-Security-Token, the metadata and
-- SSO tokens, a container's Authorization), and the keys and tokens in
-- credential responses (JSON and STS's XML); signatures are cut out, and
-- control characters replaced. A body is logged up to MAX_LOG bytes.

local redact = require("aws_connect.redact")

local M = {}

M.MAX_LOG = 65536

local SECRET_HEADERS = {
  ["x-amz-security-token"] = true, ["x-aws-ec2-metadata-token"] = true, ["x-amz-sso_bearer_token"] = true,
}
local SECRET_FIELDS = { "SecretAccessKey", "SessionToken", "Token", "secretAccessKey", "sessionToken",
  "accessToken", "refreshToken", "clientSecret", "idToken", "WebIdentityToken", "access_token", "refresh_token" }

local W = {}
W.__index = W

--- A wrapper of transport `inner` (default: a new curl transport).
--- opts: endpoint (Connect's URL), debug (bool), log(line), getenv.
function M.new(opts)
  local self = setmetatable({
    inner = opts.inner or require("aws_connect.transport.curl").new(),
    endpoint = opts.endpoint, debug = opts.debug, log = opts.log,
    secrets = {}, seen = {}, last_body = nil,
  }, W)
  local getenv = opts.getenv or os.getenv
  for _, k in ipairs({ "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN" }) do
    self:secret(getenv(k))
  end
  return self
end

function W:secret(v)
  if type(v) == "string" and #v >= redact.MIN_LENGTH and not self.seen[v] then
    self.seen[v] = true
    self.secrets[#self.secrets + 1] = v
    self.red = nil
  end
end

function W:redactor()
  if not self.red then self.red = redact.new(self.secrets) end
  return self.red
end

-- secrets in a body: "Field": "value" (JSON), <Field>value</Field> (XML),
-- Field=value (a form)
function W:harvest(body)
  if type(body) ~= "string" or body == "" then return end
  local text = #body > 1048576 and body:sub(1, 1048576) or body
  for _, f in ipairs(SECRET_FIELDS) do
    if text:find(f, 1, true) then
      for v in text:gmatch('"' .. f .. '"%s*:%s*"([^"]*)"') do self:secret(v) end
      for v in text:gmatch("<" .. f .. ">([^<]*)</" .. f .. ">") do self:secret(v) end
      for v in text:gmatch("[?&]?" .. f .. "=([^&]*)") do self:secret(v) end
    end
  end
end

function W:clean(s)
  return redact.printable(self:redactor():string(s), M.MAX_LOG)
end

local function is_connect(self, url)
  return self.endpoint ~= nil and url:sub(1, #self.endpoint) == self.endpoint
end

function W:request(req)
  local connect = is_connect(self, req.url)
  local imds_token = false
  for _, h in ipairs(req.headers or {}) do
    local l = h[1]:lower()
    if SECRET_HEADERS[l] or (l == "authorization" and not h[2]:find("^AWS4%-HMAC%-SHA256 ")) then self:secret(h[2]) end
    if l == "x-aws-ec2-metadata-token-ttl-seconds" then imds_token = true end
  end
  if self.debug then
    self:harvest(req.body)
    local what = connect and "" or " (credential provider)"
    self.log(("> %s %s%s"):format(req.method, self:clean(req.url), what))
    for _, h in ipairs(req.headers or {}) do
      local v = h[2]
      if h[1]:lower() == "authorization" then v = v:gsub("Signature=%x+", "Signature=REDACTED") end
      self.log(("> %s: %s"):format(h[1], self:clean(v)))
    end
    if req.body and req.body ~= "" then self.log("> " .. self:clean(req.body)) end
  end
  local resp, kind, msg = self.inner:request(req)
  if resp then
    self:harvest(resp.body)
    if imds_token and type(resp.body) == "string" then self:secret(resp.body) end
    if connect and resp.status and resp.status >= 200 and resp.status < 300 then
      self.last_body, self.last_status, self.last_headers = resp.body, resp.status, resp.headers
    end
  end
  if self.debug then
    if not resp then
      self.log(("< request failed: %s %s"):format(tostring(kind), self:clean(msg or "")))
    else
      self.log(("< HTTP %s %s"):format(tostring(resp.status), self:clean(resp.reason or "")))
      for _, h in ipairs(resp.headers or {}) do self.log(("< %s: %s"):format(self:clean(h[1]), self:clean(h[2]))) end
      if resp.body and resp.body ~= "" then self.log("< " .. self:clean(resp.body)) end
    end
  end
  return resp, kind, msg
end

function W:discard()
  if self.inner.discard then self.inner:discard() end
end

function W:close()
  if self.inner.close then self.inner:close() end
end

--- The body of the last 2xx Connect response, and forgets it.
function W:take_body()
  local b = self.last_body
  self.last_body = nil
  return b
end

return M
