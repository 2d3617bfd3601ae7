-- aws_connect.safe: the same API as aws_connect, returning nil, err
-- instead of raising (OpenResty's convention). err is the very error object
-- the raising API would have thrown (code, kind, message, status, ...).
--
--   local safe = require("aws_connect.safe")
--   local client, err = safe.new{ region = "us-east-1" }
--   local instance, meta_or_err = client:create_instance{ ... }
--   if not instance then ngx.log(ngx.ERR, tostring(meta_or_err)) end
--
-- Owns only the wrapping. A safe client is a proxy: every method of the
-- real client class (including ones added later, looked up when first
-- used) is called under pcall; fields such as region and endpoint are read
-- through. Errors that are not aws_connect errors are bugs and are raised
-- again. Functions a method returns (iterators) are handed back as they
-- are and raise as in the plain API. pcall can yield in LuaJIT, so this
-- works with the cosocket transport.

local aws_connect = require("aws_connect")
local errors = aws_connect.errors

local M = {}

local real_of = setmetatable({}, { __mode = "k" })

local function settle(ok, ...)
  if ok then return ... end
  local err = ...
  if errors.is_error(err) then return nil, err end
  error(err, 0)
end

-- Wrapped methods, one per name, shared by every proxy.
local wrapped = {}

local Proxy = {}

Proxy.__index = function(proxy, key)
  local real = real_of[proxy]
  local v = real[key]
  if type(v) ~= "function" then return v end
  local w = wrapped[key]
  if w and w.orig == v then return w.fn end
  local fn = function(self, ...)
    local target = real_of[self]
    if target == nil then
      return nil, errors.new("ConfigError", "not a safe client (use client:" .. tostring(key) .. "(), not client."
        .. tostring(key) .. "())")
    end
    return settle(pcall(v, target, ...))
  end
  wrapped[key] = { orig = v, fn = fn }
  return fn
end

Proxy.__newindex = function(proxy, key, value)
  real_of[proxy][key] = value
end

Proxy.__tostring = function(proxy)
  return tostring(real_of[proxy])
end

--- Wraps an existing (raising) client.
function M.wrap(client)
  if getmetatable(client) ~= aws_connect.Client then
    return nil, errors.new("ConfigError", "safe.wrap expects an aws_connect client")
  end
  local proxy = setmetatable({}, Proxy)
  real_of[proxy] = client
  return proxy
end

--- The raising client behind a safe one.
function M.raising(proxy)
  return real_of[proxy]
end

--- Like aws_connect.new: a safe client, or nil, err.
function M.new(opts)
  local ok, client = pcall(aws_connect.new, opts)
  if not ok then return settle(false, client) end
  return M.wrap(client)
end

-- Everything else of aws_connect reads through: errors, null, VERSION;
-- other public functions get the nil, err treatment too.
return setmetatable(M, {
  __index = function(_, key)
    local v = aws_connect[key]
    if type(v) ~= "function" or type(key) ~= "string" or key:sub(1, 1) == "_" then return v end
    local fn = function(...) return settle(pcall(v, ...)) end
    rawset(M, key, fn)
    return fn
  end,
})
