-- aws_connect.credentials: where the signing keys come from.
--
-- A resolver walks an ordered chain of providers on first use (never at
-- require or new() time), caches what it finds, and refreshes temporary
-- credentials before they expire. Each provider is
--   { name = "...", fetch = function(ctx) -> creds | nil, why_not }
-- and returns nil with a reason when it does not apply, so that a chain
-- that finds nothing can say what it tried. Secrets never appear in
-- messages.

local errors = require("aws_connect.errors")

local M = {}

local ADVISORY = 15 * 60   -- refresh this long before expiry, keep old on failure
local MANDATORY = 10 * 60  -- must refresh this long before expiry

local function cred_error(msg)
  errors.raise("CredentialsError", msg)
end

local function check_part(source, name, v, optional)
  if v == nil and optional then return nil end
  if type(v) ~= "string" or v == "" then
    cred_error(("%s: %s must be a non-empty string"):format(source, name))
  end
  if v:find("[%z\1-\31\127]") then
    cred_error(("%s: %s contains a control character (CR, LF, ...)"):format(source, name))
  end
  return v
end

--- Validates and copies a credentials table.
function M.normalize(c, source)
  if type(c) ~= "table" then cred_error(source .. " must give a table, got " .. type(c)) end
  local exp = c.expiration
  if exp ~= nil and type(exp) ~= "number" then
    cred_error(source .. ": expiration must be epoch seconds (a number)")
  end
  return {
    access_key_id = check_part(source, "access_key_id", c.access_key_id),
    secret_access_key = check_part(source, "secret_access_key", c.secret_access_key),
    session_token = check_part(source, "session_token", c.session_token, true),
    expiration = exp,
    source = source,
  }
end

-- Providers ----------------------------------------------------------------

local function env_provider(ctx)
  local id, secret = ctx.getenv("AWS_ACCESS_KEY_ID"), ctx.getenv("AWS_SECRET_ACCESS_KEY")
  if (id == nil or id == "") and (secret == nil or secret == "") then
    return nil, "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set"
  end
  if id == nil or id == "" then return nil, "environment: AWS_SECRET_ACCESS_KEY set without AWS_ACCESS_KEY_ID" end
  if secret == nil or secret == "" then return nil, "environment: AWS_ACCESS_KEY_ID set without AWS_SECRET_ACCESS_KEY" end
  local token = ctx.getenv("AWS_SESSION_TOKEN")
  if token == nil or token == "" then token = ctx.getenv("AWS_SECURITY_TOKEN") end
  if token == "" then token = nil end
  return { access_key_id = id, secret_access_key = secret, session_token = token }
end

--- The default chain after explicit credentials. Later providers (profiles,
--- assume-role, web identity, process, container, IMDS) are inserted here
--- by name order; see README "Configuration".
M.chain = {
  { name = "environment", fetch = env_provider },
}

-- Resolver -----------------------------------------------------------------

local Resolver = {}
Resolver.__index = Resolver
Resolver.__tostring = function() return "aws_connect.credentials resolver" end

--- opts.credentials may be a table or a function returning one; otherwise
--- the chain is walked. clock() gives epoch seconds.
--- env (optional) is passed to providers as ctx.env: { cfg, new_transport, log }.
function M.resolver(opts, getenv, clock, chain, env)
  local explicit = opts.credentials
  if explicit ~= nil and type(explicit) ~= "table" and type(explicit) ~= "function" then
    errors.raise("ConfigError", "credentials must be a table or a function, got " .. type(explicit),
      { field = "credentials" })
  end
  if type(explicit) == "table" then
    explicit = M.normalize(explicit, "credentials option")
  end
  return setmetatable({
    explicit = explicit, getenv = getenv, clock = clock,
    chain = chain or M.chain, opts = opts, cached = nil, env = env or {},
  }, Resolver)
end

function Resolver:fetch()
  local ex = self.explicit
  if type(ex) == "table" then return ex end
  if type(ex) == "function" then
    local ok, c = pcall(ex)
    if not ok then
      if errors.is_error(c) then error(c, 0) end
      cred_error("credentials function failed: " .. tostring(c))
    end
    if c == nil then cred_error("credentials function returned nothing") end
    return M.normalize(c, "credentials function")
  end
  local tried = {}
  local ctx = { getenv = self.getenv, clock = self.clock, opts = self.opts, env = self.env }
  for _, p in ipairs(self.chain) do
    local ok, c, why = pcall(p.fetch, ctx)
    if not ok then
      if errors.is_error(c) then error(c, 0) end
      cred_error(p.name .. ": " .. tostring(c))
    end
    if c then return M.normalize(c, p.name) end
    tried[#tried + 1] = why or p.name
  end
  cred_error("no credentials found; tried: " .. table.concat(tried, "; "))
end

--- Current credentials, refreshed ahead of expiry.
function Resolver:get()
  local c = self.cached
  if c then
    if not c.expiration then return c end
    local left = c.expiration - self.clock()
    if left > ADVISORY then return c end
    if left > MANDATORY then
      local ok, fresh = pcall(self.fetch, self)
      if ok then self.cached = fresh; return fresh end
      return c  -- advisory refresh failed: keep the still valid ones
    end
  end
  c = self:fetch()
  self.cached = c
  return c
end

function Resolver:invalidate()
  self.cached = nil
end

return M
