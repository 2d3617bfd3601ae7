-- aws_connect.providers.util: helpers shared by the credential providers:
-- HTTP through a transport of the client's kind, ISO 8601 times, files,
-- errors, and the credentials table they all return. No I/O at require time.

local errors = require("aws_connect.errors")
local config = require("aws_connect.config")

local M = {}

--- Raises a CredentialsError; `fields` may add status, request_id, ...
function M.cred_error(msg, fields)
  errors.raise("CredentialsError", msg, fields)
end

local times = require("aws_connect.times")
M.epoch = times.epoch
--- ISO 8601 / RFC 3339 time (or epoch seconds) -> epoch seconds, or nil.
M.parse_time = times.parse_iso8601

--- Reads a whole file; nil and a message (without its contents) when it
--- cannot be read.
function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, tostring(err) end
  local data, rerr = f:read("*a")
  f:close()
  if not data then return nil, path .. ": " .. tostring(rerr) end
  return data
end

--- A non-empty string setting from the environment.
function M.env(ctx, name)
  return config.nonempty(ctx.getenv(name))
end

--- A non-empty string setting of a profile.
function M.pv(profile, key)
  return config.profile_value(profile, key)
end

--- "true"/"false" from the environment or a profile (nil when unset).
function M.bool(v, source)
  if v == nil then return nil end
  return config.parse_bool(v, source)
end

local function printable(s, max)
  s = tostring(s or ""):gsub("[%z\1-\31\127]", " ")
  if #s > max then s = s:sub(1, max) .. "..." end
  return s
end
M.printable = printable

--- Sleeps between attempts: env.sleep, else the transport's own sleep (the
--- cosocket transport yields), else the C core's blocking sleep.
function M.sleep(ctx, transport, seconds)
  if seconds <= 0 then return end
  local env = ctx.env or {}
  if env.sleep then return env.sleep(seconds) end
  if transport and transport.sleep then return transport:sleep(seconds) end
  require("aws_connect.core").sleep(seconds)
end

--- A transport for one provider fetch (env.new_transport() when the
--- client gave one, else a curl transport) and a function that releases it.
function M.transport(ctx)
  local env = ctx.env or {}
  local t
  if env.new_transport then t = env.new_transport() end
  if not t then t = require("aws_connect.transport.curl").new() end
  local user = ctx.opts and ctx.opts.transport
  return t, function()
    if t ~= user and type(t.close) == "function" then pcall(t.close, t) end
  end
end

--- One HTTP request through `transport`; fills in proxy and TLS settings
--- from the client's configuration. Returns resp or nil, kind, message.
function M.request(ctx, transport, req)
  local cfg = ctx.cfg or {}
  if req.proxy == nil then req.proxy = config.proxy_for(ctx.getenv, req.url, cfg.proxy_option) end
  if req.verify_tls == nil then req.verify_tls = cfg.verify_tls ~= false end
  if req.ca_file == nil then req.ca_file = cfg.ca_file end
  req.max_body = req.max_body or 1024 * 1024
  local ok, resp, kind, msg = pcall(transport.request, transport, req)
  if not ok then return nil, "other", printable(resp, 200) end
  return resp, kind, msg
end

--- The value of a response header (last one wins), case-insensitive.
function M.header(resp, name)
  name = name:lower()
  local hs = resp.headers or {}
  for i = #hs, 1, -1 do
    if type(hs[i][1]) == "string" and hs[i][1]:lower() == name then return hs[i][2] end
  end
  return nil
end

--- Decodes a JSON object; nil when the body is not one.
function M.json_object(body)
  local core = require("aws_connect.core")
  local ok, doc = pcall(core.json_decode, body or "")
  if ok and type(doc) == "table" then return doc end
  return nil
end

-- a JSON string member, or nil (JSON null and non-strings count as absent)
function M.jstr(doc, key)
  local v = doc[key]
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

--- Builds a credentials table from a JSON document (container, IMDS,
--- credential_process). Raises CredentialsError naming `source` when a key
--- is missing; never includes the document.
function M.creds_from_json(doc, source, token_key, clock)
  local id, secret = M.jstr(doc, "AccessKeyId"), M.jstr(doc, "SecretAccessKey")
  if not id or not secret then
    M.cred_error(source .. ": the response has no " .. (id and "SecretAccessKey" or "AccessKeyId"))
  end
  local exp
  local e = doc.Expiration
  if e ~= nil and type(e) == "string" then
    exp = M.parse_time(e)
    if not exp then M.cred_error(source .. ": unreadable Expiration " .. printable(e, 40)) end
  end
  local c = {
    access_key_id = id, secret_access_key = secret,
    session_token = M.jstr(doc, token_key or "Token"), expiration = exp,
    account_id = M.jstr(doc, "AccountId"),
  }
  if exp and clock and exp <= clock() then
    M.cred_error(source .. ": the credentials it returned have already expired")
  end
  return c
end

return M
