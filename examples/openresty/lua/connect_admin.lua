-- examples/openresty/lua/connect_admin.lua - the handlers of
-- examples/openresty/conf/nginx.conf: a small JSON admin API over the Amazon
-- Connect instances of an account, inside nginx (the module sends through
-- cosockets there, so no worker is blocked).
--
--   GET  /instances             every instance
--   GET  /instances/ID          one instance
--   POST /instances?alias=NAME  make sure the instance NAME exists; created at
--                               most once (ensure_instance), never on a GET:
--                               each creation counts against a 30-day quota
--
-- Every handler runs under xpcall: an error is logged with tostring(err),
-- one line without secrets (nginx itself logs an uncaught error object as
-- "runtime error: unknown reason"), and answered as JSON with its code.

-- luacheck: globals ngx
local aws_connect = require("aws_connect")
local cjson = require("cjson.safe")

local M = {}

local client

--- init_by_lua: the client every worker shares. new() resolves region and
--- endpoint and sends nothing; a ConfigError (no region: `env AWS_REGION;`)
--- stops nginx with its one-line message.
function M.init(opts)
  local ok, c = pcall(aws_connect.new, opts)
  if not ok then error("connect_admin: " .. tostring(c), 0) end
  client = c
end

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(body))
end

local function status_of(err)
  if err.kind == "validation" then return 400 end
  if err.code == "ResourceNotFoundException" then return 404 end
  if err.kind == "config" or err.kind == "credentials" then return 500 end
  return 502
end

-- Runs fn under xpcall; errors become a log line and a JSON answer.
local function handle(fn, ...)
  local ok, err = xpcall(fn, function(e)
    if aws_connect.errors.is_error(e) then return e end
    return debug.traceback(tostring(e), 2)      -- a bug: keep where it happened
  end, ...)
  if ok then return end
  if aws_connect.errors.is_error(err) then
    ngx.log(ngx.ERR, "connect_admin: ", tostring(err))
    return reply(status_of(err), { error = { code = err.code, message = err.message, request_id = err.request_id } })
  end
  ngx.log(ngx.ERR, "connect_admin: internal error: ", err)
  return reply(500, { error = { code = "InternalError", message = "internal error (see the error log)" } })
end

local function list()
  local out = {}
  for inst in client:instances{ max_results = 10 } do
    out[#out + 1] = { id = inst.id, alias = inst.instance_alias, status = inst.instance_status, arn = inst.arn }
  end
  -- lua-cjson writes an empty table as {}; the list is [] then
  ngx.header["Content-Type"] = "application/json"
  ngx.say('{"instances":', #out == 0 and "[]" or cjson.encode(out), "}")
end

local function ensure()
  local alias = ngx.var.arg_alias
  if not alias or alias == "" then
    return reply(400, { error = { code = "ValidationError", message = "POST /instances?alias=NAME" } })
  end
  local inst, info = client:ensure_instance{
    identity_management_type = "CONNECT_MANAGED",
    inbound_calls_enabled = true,
    outbound_calls_enabled = false,
    instance_alias = alias,
  }
  reply(info.created and 201 or 200, { created = info.created, id = inst.id, arn = inst.arn })
end

--- location = /instances
function M.instances()
  local method = ngx.req.get_method()
  if method == "GET" or method == "HEAD" then return handle(list) end
  if method == "POST" then return handle(ensure) end
  ngx.header["Allow"] = "GET, POST"
  return reply(405, { error = { code = "MethodNotAllowed", message = "GET or POST" } })
end

--- location ~ ^/instances/(?<instance_id>[^/]+)$
function M.instance(id)
  if ngx.req.get_method() ~= "GET" then
    ngx.header["Allow"] = "GET"
    return reply(405, { error = { code = "MethodNotAllowed", message = "GET" } })
  end
  return handle(function()
    local inst = client:describe_instance(ngx.unescape_uri(id))
    reply(200, {
      id = inst.id, arn = inst.arn, alias = inst.instance_alias, status = inst.instance_status,
      identity_management_type = inst.identity_management_type, created_time = inst.created_time,
    })
  end)
end

return M
