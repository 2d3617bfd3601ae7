-- aws_connect.credentials: where the signing keys come from.
--
-- A resolver walks an ordered chain of providers on first use (never at
-- require or new() time), caches what it finds, and refreshes temporary
-- credentials before they expire. Each provider is
--   { name = "...", fetch = function(ctx) -> creds | nil, why_not }
-- and returns nil with a reason when it does not apply, so that a chain
-- that finds nothing raises one CredentialsError saying what it tried. A
-- provider that applies but fails (a denied AssumeRole, a broken
-- credential_process) raises at once, as botocore does. Secrets never
-- appear in messages.
--
-- Chain (README "Credentials"): the credentials option, then
-- environment -> assume-role -> web identity -> SSO (IAM Identity Center)
-- -> shared credentials file -> (login_session: not supported yet, a
-- CredentialsError) -> credential_process -> config file -> container ->
-- instance metadata.
--
-- Credentials that are already expired after a refresh (a credentials
-- option or AWS_CREDENTIAL_EXPIRATION in the past, a credential_process
-- printing an old Expiration) are a CredentialsError, never signed.
--
-- Refresh: credentials with an expiration are refreshed when less than 15
-- minutes remain (advisory: a failure is logged and the current, still
-- valid credentials are kept) and must be refreshed when less than 10
-- minutes remain (mandatory: a failure is raised).
--
-- Single flight: one refresh at a time. A refresh can yield (the cosocket
-- transport inside OpenResty), so other coroutines may ask meanwhile:
-- during an advisory refresh they get the current credentials at once;
-- when there are no usable credentials they wait for the refresh in
-- progress by calling env.yield(seconds) (e.g. ngx.sleep) in a loop, then
-- take its result (or its error). Without env.yield, or when it returns
-- false (it cannot wait in this context), such a caller refreshes by itself. A refresh that has not finished after
-- M.WAIT_LIMIT seconds of waiting (its coroutine was abandoned) is taken over.

local errors = require("aws_connect.errors")
local config = require("aws_connect.config")

local M = {}

local ADVISORY = 15 * 60   -- refresh this long before expiry, keep old on failure
local MANDATORY = 10 * 60  -- must refresh this long before expiry
M.ADVISORY, M.MANDATORY = ADVISORY, MANDATORY
M.WAIT_STEP = 0.01
M.WAIT_LIMIT = 60

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
    account_id = type(c.account_id) == "string" and c.account_id or nil,
    source = source,
  }
end

-- Providers (loaded on first use) ---------------------------------------------------

local function lazy(module, fn)
  return function(ctx) return require(module)[fn](ctx) end
end

--- The default chain after explicit credentials.
M.chain = {
  { name = "environment", fetch = lazy("aws_connect.providers.env", "fetch") },
  { name = "assume-role", fetch = lazy("aws_connect.providers.profile", "assume_role") },
  { name = "web identity", fetch = lazy("aws_connect.providers.profile", "web_identity") },
  { name = "sso", fetch = lazy("aws_connect.providers.sso", "fetch") },
  { name = "shared credentials file", fetch = lazy("aws_connect.providers.profile", "shared_file") },
  -- not supported yet: raises for a login_session profile instead of skipping it
  { name = "login", fetch = lazy("aws_connect.providers.sso", "login") },
  { name = "credential_process", fetch = lazy("aws_connect.providers.process", "fetch") },
  { name = "config file", fetch = lazy("aws_connect.providers.profile", "config_file") },
  { name = "container", fetch = lazy("aws_connect.providers.container", "fetch") },
  { name = "instance metadata", fetch = lazy("aws_connect.providers.imds", "fetch") },
}

-- Resolver -----------------------------------------------------------------

local Resolver = {}
Resolver.__index = Resolver
Resolver.__tostring = function() return "aws_connect.credentials resolver" end

--- opts.credentials may be a table or a function returning one; otherwise
--- the chain is walked. clock() gives epoch seconds.
--- env (optional) is passed to providers as ctx.env:
---   { cfg = config.resolve's result, new_transport = function() -> transport,
---     log = function(level, msg), yield = function(seconds), sleep = function(seconds) }
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
    refreshing = false, fetches = 0,
  }, Resolver)
end

-- The context providers get; built on first use.
function Resolver:context()
  if self.ctx then return self.ctx end
  local env = self.env
  local cfg = env.cfg
  if not cfg then
    -- used without a client: read the files now, tolerate a missing region
    local ok, c = pcall(config.resolve, self.opts)
    if ok then
      cfg = c
    else
      local files = config.load_files(self.getenv)
      local name, explicit = config.profile_name(self.opts, self.getenv, files)
      cfg = { getenv = self.getenv, files = files, profile_name = name, profile_explicit = explicit }
    end
  end
  local log = env.log
  self.ctx = {
    getenv = self.getenv, clock = self.clock, opts = self.opts, env = env, cfg = cfg,
    files = cfg.files, profile_name = cfg.profile_name or "default", profile_explicit = cfg.profile_explicit,
    log = function(level, msg) if log then pcall(log, level, msg) end end,
  }
  return self.ctx
end

function Resolver:fetch()
  self.fetches = self.fetches + 1
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
  local ctx = self:context()
  for _, p in ipairs(self.chain) do
    local ok, c, why = pcall(p.fetch, ctx)
    if not ok then
      if errors.is_error(c) then error(c, 0) end
      cred_error(p.name .. ": " .. tostring(c))
    end
    if c then
      local n = M.normalize(c, p.name)
      local left = n.expiration and (" (expires in %d s)"):format(math.floor(n.expiration - self.clock())) or ""
      ctx.log("debug", "credentials from " .. p.name .. left)
      return n
    end
    tried[#tried + 1] = why or p.name
  end
  cred_error("no credentials found; tried: " .. table.concat(tried, "; ")
    .. ". Pass new{ credentials = ... }, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    .. "or configure a profile in ~/.aws/credentials")
end

local function log(self, level, msg)
  local l = self.env.log
  if l then pcall(l, level, msg) end
end

--- Current credentials, refreshed ahead of expiry (see the top of the file).
function Resolver:get()
  local c = self.cached
  if c and (not c.expiration or c.expiration - self.clock() > ADVISORY) then return c end
  local mandatory = (c == nil) or (c.expiration - self.clock() <= MANDATORY)
  if self.refreshing then
    if not mandatory then return c end -- another caller refreshes; ours are still good
    local yield = self.env.yield
    if yield then
      local waited = 0
      while self.refreshing and waited < M.WAIT_LIMIT do
        if yield(M.WAIT_STEP) == false then break end -- cannot wait here (e.g. outside nginx)
        waited = waited + M.WAIT_STEP
      end
      if not self.refreshing then
        -- the refresh we waited for set either last_error or fresh credentials
        if self.last_error then error(self.last_error, 0) end
        if self.cached then return self.cached end
      end
      if self.refreshing then log(self, "warn", "cannot wait for the credentials refresh in progress; refreshing again") end
    end
  end
  self.refreshing = true
  local ok, fresh = pcall(self.fetch, self)
  self.refreshing = false
  if ok and fresh.expiration and fresh.expiration <= self.clock() then
    -- a refresh that still gives expired credentials is a failure: they
    -- would be signed and refused (botocore raises too)
    ok, fresh = false, errors.new("CredentialsError", ("the credentials from %s expired %d s ago; "
      .. "refresh them at their source"):format(tostring(fresh.source), math.floor(self.clock() - fresh.expiration)))
  end
  if ok then
    self.cached = fresh
    self.last_error = nil
    return fresh
  end
  if not errors.is_error(fresh) then fresh = errors.new("CredentialsError", tostring(fresh)) end
  self.last_error = fresh
  if not mandatory and c and c.expiration > self.clock() then
    log(self, "warn", "advisory credentials refresh failed; keeping the current credentials: " .. tostring(fresh))
    return c
  end
  error(fresh, 0)
end

function Resolver:invalidate()
  self.cached = nil
end

return M
