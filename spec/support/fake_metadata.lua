-- Test helper: runs spec/support/fake_metadata.py (local stand-ins for EC2
-- instance metadata, the container credentials endpoint and STS) on
-- 127.0.0.1 and talks to its /_fake/ control API; also launches other small
-- helper servers (launch) such as spec/support/proxy.py.
--
-- Independent of the code under test: the standard library, lua-cjson and
-- the curl command-line tool, plus the process helpers of fake_server.lua.
--
--   local fm = require("spec.support.fake_metadata")
--   local srv = fm.start()            -- srv.endpoint, srv.port, srv.pid
--   srv:config{ container_token = "abc" }; srv:script("sts", { {status = 500} })
--   srv:requests(); srv:reset(); srv:stop()   -- stop is idempotent
--
-- Every process is stopped by its pid (stop(), also from finally/teardown);
-- the servers also exit by themselves when this Lua process is gone.

local cjson = require("cjson")
local fake = require("spec.support.fake_server")

local M = {}

local function script_dir()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) == "@" then
    return src:sub(2):match("^(.*)[/\\][^/\\]*$") or "."
  end
  return "spec/support"
end
M.dir = script_dir()

local Proc = {}
Proc.__index = Proc

--- Starts `/usr/bin/python3 <script> <args...> --parent-pid <us>` and waits
--- for its "LISTENING <port>" line. Returns a process object.
function M.launch(script, args)
  local parts = { fake.python, fake.shell_quote(script) }
  for _, a in ipairs(args or {}) do parts[#parts + 1] = fake.shell_quote(a) end
  parts[#parts + 1] = "--parent-pid"
  parts[#parts + 1] = tostring(fake.own_pid())
  local cmd = table.concat(parts, " ")
  local log_file = os.tmpname()
  local launcher = "sh -c " .. fake.shell_quote(cmd .. " >" .. fake.shell_quote(log_file) .. " 2>&1 </dev/null & echo $!")
  local p = assert(io.popen(launcher, "r"))
  local out = p:read("*a")
  p:close()
  local pid = tonumber(out:match("(%d+)"))
  if not pid then
    os.remove(log_file)
    error("launch: could not start " .. cmd, 2)
  end
  local proc = setmetatable({ pid = pid, log_file = log_file, host = "127.0.0.1" }, Proc)
  for _ = 1, 200 do
    local port = tonumber((fake.read_file(log_file) or ""):match("LISTENING (%d+)"))
    if port then
      proc.port = port
      proc.endpoint = "http://127.0.0.1:" .. port
      return proc
    end
    if not fake.pid_alive(pid) then break end
    fake.sleep(0.05)
  end
  local log = fake.read_file(log_file) or ""
  proc:stop()
  error("launch: " .. cmd .. " did not report LISTENING; log:\n" .. log, 2)
end

function Proc:log()
  return fake.read_file(self.log_file) or ""
end

function Proc:alive()
  return fake.pid_alive(self.pid)
end

-- TERM, wait up to 2 s, then KILL (fake_server.stop_pid). Idempotent.
function Proc:stop()
  if self.stopped then return end
  self.stopped = true
  fake.stop_pid(self.pid)
  if self.log_file then os.remove(self.log_file) end
end

function Proc:url(path)
  return self.endpoint .. (path or "")
end

-- Control call through the curl tool; returns the decoded JSON body.
function Proc:control(method, path, payload)
  local cmd = { "curl", "-sS", "--noproxy", "'*'", "--max-time", "10", "-X", method, "-w", "'\\n%{http_code}'" }
  local tmp
  if payload ~= nil then
    tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb"))
    f:write(cjson.encode(payload))
    f:close()
    cmd[#cmd + 1] = "-H 'Content-Type: application/json' --data-binary @" .. fake.shell_quote(tmp)
  end
  cmd[#cmd + 1] = fake.shell_quote(self:url(path))
  cmd[#cmd + 1] = "2>&1"
  local p = assert(io.popen(table.concat(cmd, " "), "r"))
  local out = p:read("*a")
  p:close()
  if tmp then os.remove(tmp) end
  local body, code = out:match("^(.*)\n(%d%d%d)$")
  if code ~= "200" then error("fake_metadata: " .. method .. " " .. path .. " failed: " .. out, 2) end
  return fake.strip_nulls(cjson.decode(body))
end

function Proc:config(values)
  if values == nil then return self:control("GET", "/_fake/config") end
  return self:control("POST", "/_fake/config", values)
end

function Proc:reset() return self:control("POST", "/_fake/reset", {}) end
function Proc:requests() return self:control("GET", "/_fake/requests") end

function Proc:script(channel, responses)
  return self:control("POST", "/_fake/script", { channel = channel, responses = responses })
end

--- Starts the metadata/container/STS stand-in.
function M.start(opts)
  opts = opts or {}
  local args = { "--host", "127.0.0.1", "--port", "0" }
  if opts.verbose then args[#args + 1] = "--verbose" end
  return M.launch(M.dir .. "/fake_metadata.py", args)
end

return M
