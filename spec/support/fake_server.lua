-- Test helper: runs spec/support/fake_connect.py (a fake Amazon Connect
-- endpoint) in the background and talks to its unsigned /_fake/ control API.
--
-- Independent of the code under test: uses only the standard library,
-- lua-cjson, the curl command-line tool and spec/support/helpers.lua (its
-- shell and file helpers).  Works on Lua 5.1-5.4 and LuaJIT.
--
--   local fake = require("spec.support.fake_server")
--   local srv = fake.start{ access_key = "AKIDFAKE", secret_key = "secret",
--                           region = "us-east-1", create_delay = 0.2 }
--   srv.endpoint, srv.port, srv.pid, srv.log_file
--   srv:reset(); srv:script{ {status = 429, body = "..."}, {fault = "reset"} }
--   srv:requests(); srv:instances(); srv:config{ clock_offset = 600 }
--   srv:respond{ operation = "DescribeUser", status = 404, times = 1,
--                headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException" } }
--   srv:responders(); srv:clear_responses("DescribeUser"); srv:tags()
--   srv:warnings(); srv:operations()
--   srv:stop()
-- start{} also takes model (a service-2.json path), strict_arns and
-- error_type_suffix (booleans).

local cjson = require("cjson")
local helpers = require("spec.support.helpers")

local M = {}
M.null = cjson.null
M.python = "/usr/bin/python3"

local function script_dir()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) == "@" then
    local dir = src:sub(2):match("^(.*)[/\\][^/\\]*$")
    if dir then return dir end
    return "."
  end
  return "spec/support"
end

M.script = script_dir() .. "/fake_connect.py"

local shell_quote, read_file, write_file, capture = helpers.q, helpers.read, helpers.write, helpers.capture
M.shell_quote = shell_quote
M.read_file = read_file

local function sleep(seconds)
  os.execute("sleep " .. tostring(seconds))
end
M.sleep = sleep

-- The pid of this Lua process: popen runs /bin/sh -c, whose parent is us.
local own_pid_cache
function M.own_pid()
  if own_pid_cache == nil then
    local out = capture("echo $PPID")
    own_pid_cache = tonumber(out:match("(%d+)")) or false
  end
  return own_pid_cache or nil
end

-- True while the process exists and is not a zombie (nobody may reap the
-- orphaned server in a container, so a dead one can linger as a zombie).
function M.pid_alive(pid)
  if not pid then return false end
  local stat = read_file("/proc/" .. tostring(pid) .. "/stat")
  if stat then
    local state = stat:match("^%d+ %b() (%a)")
    return state ~= nil and state ~= "Z" and state ~= "X"
  end
  -- No procfs: fall back to kill -0.
  local ok = os.execute("kill -0 " .. tostring(pid) .. " 2>/dev/null")
  return ok == true or ok == 0
end

-- Stops process pid: TERM, wait up to 2 s (term_naps naps of 50 ms when
-- given), then KILL and wait up to 2 s again.
function M.stop_pid(pid, term_naps)
  if pid and M.pid_alive(pid) then
    os.execute("kill -TERM " .. pid .. " 2>/dev/null")
    for _ = 1, term_naps or 40 do
      if not M.pid_alive(pid) then break end
      sleep(0.05)
    end
    if M.pid_alive(pid) then
      os.execute("kill -KILL " .. pid .. " 2>/dev/null")
      for _ = 1, 40 do
        if not M.pid_alive(pid) then break end
        sleep(0.05)
      end
    end
  end
end

-- Replace cjson.null in objects by nil (arrays are left alone).
local function strip_nulls(v)
  if type(v) ~= "table" then return v end
  local n = #v
  for k, x in pairs(v) do
    if x == cjson.null then
      if type(k) ~= "number" or k > n then v[k] = nil end
    else
      strip_nulls(x)
    end
  end
  return v
end

M.strip_nulls = strip_nulls

local Server = {}
Server.__index = Server

local function arg_pairs(opts)
  local args = {}
  local function add(flag, value)
    if value ~= nil then
      args[#args + 1] = flag
      args[#args + 1] = shell_quote(value)
    end
  end
  add("--host", opts.host or "127.0.0.1")
  add("--port", opts.port or 0)
  add("--access-key", opts.access_key or "AKIDFAKE")
  add("--secret-key", opts.secret_key or "secret")
  add("--session-token", opts.session_token)
  add("--region", opts.region or "us-east-1")
  add("--create-delay", opts.create_delay)
  add("--quota", opts.quota)
  add("--max-skew", opts.max_skew)
  add("--clock-offset", opts.clock_offset)
  add("--tls-cert", opts.tls_cert)
  add("--tls-key", opts.tls_key)
  if opts.parent_pid ~= false then
    add("--parent-pid", opts.parent_pid or M.own_pid())
  end
  add("--model", opts.model)
  if opts.strict_arns then args[#args + 1] = "--strict-arns" end
  if opts.error_type_suffix then args[#args + 1] = "--error-type-suffix" end
  if opts.verbose then args[#args + 1] = "--verbose" end
  return table.concat(args, " ")
end

function M.start(opts)
  opts = opts or {}
  if (opts.tls_cert == nil) ~= (opts.tls_key == nil) then
    error("fake_server.start: tls_cert and tls_key go together", 2)
  end
  local log_file = os.tmpname()
  local cmd = M.python .. " " .. shell_quote(M.script) .. " " .. arg_pairs(opts)
  local launcher = "sh -c " .. shell_quote(cmd .. " >" .. shell_quote(log_file)
    .. " 2>&1 </dev/null & echo $!")
  local pid = tonumber(capture(launcher):match("(%d+)"))
  if not pid then
    os.remove(log_file)
    error("fake_server.start: could not launch " .. cmd, 2)
  end
  local srv = setmetatable({
    pid = pid, log_file = log_file, tls = opts.tls_cert ~= nil,
    keep_log = opts.keep_log, host = opts.host or "127.0.0.1",
    access_key = opts.access_key or "AKIDFAKE",
    secret_key = opts.secret_key or "secret",
    session_token = opts.session_token,
    region = opts.region or "us-east-1",
  }, Server)
  local port
  local deadline = os.time() + 10
  local tries = 0
  while true do
    local log = read_file(log_file) or ""
    port = tonumber(log:match("LISTENING (%d+)"))
    if port then break end
    tries = tries + 1
    -- os.time() has 1 s resolution; also bound the number of 50 ms naps.
    if tries > 200 or os.time() > deadline or not M.pid_alive(pid) then
      srv.keep_log = true
      srv:stop()
      local final = read_file(log_file) or ""
      os.remove(log_file)
      error("fake_server.start: server did not report LISTENING (pid "
        .. pid .. ").\ncommand: " .. cmd .. "\nlog:\n" .. final, 2)
    end
    sleep(0.05)
  end
  srv.port = port
  local host = srv.host
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  srv.endpoint = (srv.tls and "https" or "http") .. "://" .. host .. ":" .. port
  return srv
end

function Server:url(path)
  return self.endpoint .. (path or "")
end

-- Low-level control call; returns status code and decoded JSON (or raw text).
function Server:control(method, path, payload)
  local cmd = { "curl", "-sS", "--max-time", "10", "-X", method,
    "-w", shell_quote("\n%{http_code}") }
  if self.tls then cmd[#cmd + 1] = "-k" end
  local tmp
  if payload ~= nil then
    tmp = os.tmpname()
    write_file(tmp, cjson.encode(payload))
    cmd[#cmd + 1] = "-H 'Content-Type: application/json' --data-binary @" .. shell_quote(tmp)
  end
  cmd[#cmd + 1] = shell_quote(self:url(path))
  cmd[#cmd + 1] = "2>&1"
  local out = capture(table.concat(cmd, " "))
  if tmp then os.remove(tmp) end
  local body, code = out:match("^(.*)\n(%d%d%d)$")
  if not code then
    error("fake_server: control call " .. method .. " " .. path .. " failed: " .. out, 3)
  end
  code = tonumber(code)
  local ok, decoded = pcall(cjson.decode, body)
  if ok then decoded = strip_nulls(decoded) else decoded = body end
  return code, decoded
end

local function checked(self, method, path, payload)
  local code, decoded = self:control(method, path, payload)
  if code ~= 200 then
    local msg = type(decoded) == "table" and decoded.message or tostring(decoded)
    error("fake_server: " .. method .. " " .. path .. " -> " .. code .. ": "
      .. tostring(msg), 3)
  end
  return decoded
end

function Server:reset()
  return checked(self, "POST", "/_fake/reset", {})
end

-- items: list of scripted responses (see fake_connect.py / report).
function Server:script(items)
  local list = {}
  for i = 1, #(items or {}) do list[i] = items[i] end
  -- cjson encodes an empty table as {}; the server accepts that as [].
  return checked(self, "POST", "/_fake/script", { responses = list })
end

function Server:requests()
  return checked(self, "GET", "/_fake/requests")
end

function Server:instances()
  return checked(self, "GET", "/_fake/instances")
end

function Server:config(values)
  if values == nil then return checked(self, "GET", "/_fake/config") end
  return checked(self, "POST", "/_fake/config", values)
end

-- A scripted answer for one operation (see fake_connect.py --help):
-- { operation =, status =, body =, headers =, times =, validate = }.
function Server:respond(rule)
  return checked(self, "POST", "/_fake/respond", rule)
end

function Server:responders()
  return checked(self, "GET", "/_fake/respond").rules
end

-- Drops the rules of one operation, or every rule without an argument.
function Server:clear_responses(operation)
  local path = "/_fake/respond"
  if operation then path = path .. "?operation=" .. operation end
  return checked(self, "DELETE", path).rules
end

function Server:tags()
  return checked(self, "GET", "/_fake/tags")
end

function Server:warnings()
  return checked(self, "GET", "/_fake/warnings")
end

function Server:operations()
  return checked(self, "GET", "/_fake/operations")
end

function Server:log()
  return read_file(self.log_file) or ""
end

function Server:alive()
  return M.pid_alive(self.pid)
end

-- TERM, wait up to 2 s, then KILL and wait again.  Idempotent.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  M.stop_pid(self.pid)
  if not self.keep_log and self.log_file then
    os.remove(self.log_file)
  end
end

return M
