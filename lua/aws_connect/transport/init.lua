-- aws_connect.transport: which transport a call uses, and the one sleep
-- rule.
--
-- Chosen per call, never in new(): clients are often made in init_by_lua,
-- where no cosocket exists, and used later from content handlers. Inside
-- nginx the default is the cosocket transport (transport/ngx.lua); a phase
-- without cosockets gets a ConfigError, unless transport = "curl" was asked
-- for. Elsewhere it is libcurl (transport/curl.lua). A table with a request
-- function is used as it is (the custom-transport contract in the README).
--
-- State lives in the client's private table p: p.transport_opt (the
-- option), p.transport / p.transport_kind / p.transport_pid (the current
-- one), p.sleep (the sleep option).

local core = require("aws_connect.core")
local errors = require("aws_connect.errors")

local M = {}

-- ngx_lua phases in which cosockets and ngx.sleep work
local COSOCKET_PHASES = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

--- The ngx_lua phase inside nginx, nil elsewhere.
local function nginx_phase()
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return nil end
  return ngx.get_phase()
end
M.nginx_phase = nginx_phase

--- True where ngx.sleep and cosockets can be used right now.
local function can_yield()
  local phase = nginx_phase()
  return phase ~= nil and COSOCKET_PHASES[phase] == true
end
M.can_yield = can_yield

--- Checks the transport option of new(); raises a ConfigError.
function M.check_option(t)
  if t ~= nil and t ~= "curl" and t ~= "ngx"
    and not (type(t) == "table" and type(t.request) == "function") then
    errors.raise("ConfigError", "transport must be \"curl\", \"ngx\" or a table with a request function",
      { field = "transport" })
  end
  return t
end

--- "curl" or "ngx" for a call made now; raises the ConfigError of a phase
--- without cosockets.
local function kind_now(p)
  local t = p.transport_opt
  if t == "curl" then return "curl" end
  local phase = nginx_phase()
  if not phase then
    if t == "ngx" then
      errors.raise("ConfigError", 'transport "ngx" needs OpenResty (ngx_lua); leave transport unset outside nginx',
        { field = "transport" })
    end
    return "curl"
  end
  if not COSOCKET_PHASES[phase] then
    errors.raise("ConfigError", ('cannot send from the nginx "%s" phase, which has no cosockets: call from '
      .. 'content, access or rewrite handlers or timers (from init_worker_by_lua use ngx.timer.at(0, ...)), '
      .. 'or pass transport = "curl" to block the worker instead'):format(phase), { field = "transport", phase = phase })
  end
  return "ngx"
end
M.kind_now = kind_now

local function worker_pid()
  if type(ngx) == "table" and type(ngx.worker) == "table" and ngx.worker.pid then return ngx.worker.pid() end
  return 0
end

local function make(kind)
  return require("aws_connect.transport." .. kind).new()
end

--- A new transport of the kind the client uses now (for credential
--- providers, which keep their own).
function M.new_for(p)
  local t = p.transport_opt
  if type(t) == "table" then return t end
  return make(kind_now(p))
end

--- The client's transport for a call made now. The ngx transport holds no
--- connection (nginx pools them per worker), so one object serves every
--- concurrent request; a curl session made before nginx forked is not
--- shared with the workers.
function M.of(p)
  local t = p.transport_opt
  if type(t) == "table" then return t end
  local kind, pid = kind_now(p), worker_pid()
  local cur = p.transport
  if cur and p.transport_kind == kind and p.transport_pid == pid then return cur end
  if cur and cur.close and p.transport_pid == pid then cur:close() end
  cur = make(kind)
  p.transport, p.transport_kind, p.transport_pid = cur, kind, pid
  return cur
end

--- The one sleep rule: the sleep option, else the transport's (ngx.sleep
--- for the ngx transport), else ngx.sleep where it works (curl asked for
--- inside nginx), else the blocking core.sleep.
function M.sleep_of(p, transport)
  if p.sleep then return p.sleep end
  transport = transport or M.of(p)
  if transport.sleep then return function(s) transport:sleep(s) end end
  if can_yield() then return ngx.sleep end
  return core.sleep
end

--- Waits without blocking where other requests can run meanwhile (nginx,
--- in a phase with ngx.sleep) and returns true; returns false at once
--- elsewhere (single-flight credential refresh: later callers wait for the
--- first one's fetch).
function M.yield(seconds)
  if not can_yield() then return false end
  ngx.sleep(seconds or 0)
  return true
end

--- Closes the client's connection (a later call opens a new one).
function M.close(p)
  if p.transport and p.transport.close then p.transport:close() end
  p.transport = nil
end

return M
