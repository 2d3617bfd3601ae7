-- bench/nginx.lua - the local nginx that the end-to-end rows talk to.
--
-- Started on 127.0.0.1, on a port the OS picked free a moment before, with
-- a temporary prefix (config, logs, temp dirs), in the foreground
-- (daemon off, master_process off) so that its pid is ours to stop. It
-- answers every request with a canned CreateInstance response over
-- keep-alive (no per-connection request limit), serves stub_status at
-- /nginx_status and logs "$connection $request_length $status" per request.
-- A watchdog shell stops it (and removes the prefix) if the bench process
-- dies without stopping it.
--
--   local nginx = require("bench.nginx")
--   local srv = nginx.start()        -- or nil, reason (nginx not installed, ...)
--   srv.endpoint, srv.port, srv.pid, srv.prefix
--   srv:status()      -> { accepts =, handled =, requests = } (stub_status)
--   srv:log_mark()    -> a position in the access log
--   srv:log_since(m, n) -> list of { connection =, request_length =, status = }
--   srv:stop()

local M = {}

local INSTANCE_ID = "b8e0a4c2-6f1d-4c7e-9a3b-2d5f8e1c7a90"
M.RESPONSE = '{"Id":"' .. INSTANCE_ID .. '","Arn":"arn:aws:connect:us-east-1:123456789012:instance/'
  .. INSTANCE_ID .. '"}'

local function sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return out
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function sleep(s) os.execute("sleep " .. s) end

-- alive and not a zombie (an orphan may linger unreaped in a container)
local function alive(pid)
  local st = read_file("/proc/" .. pid .. "/stat")
  if not st then return false end
  local state = st:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end
M.alive = alive

function M.binary()
  local path = sh("command -v nginx 2>/dev/null || ls /usr/sbin/nginx 2>/dev/null"):match("^(%S+)")
  return path
end

function M.version()
  local bin = M.binary()
  local out = bin and sh(quote(bin) .. " -v 2>&1") or ""
  return out:match("nginx/(%S+)") or "?"
end

local function free_port()
  local out = sh("/usr/bin/python3 -c 'import socket; s=socket.socket(); "
    .. "s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])' 2>/dev/null")
  return tonumber(out:match("(%d+)"))
end

local function config(prefix, port)
  local p = prefix
  return table.concat({
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    "pid " .. p .. "/logs/nginx.pid;",
    "error_log " .. p .. "/logs/error.log warn;",
    "events { worker_connections 64; }",
    "http {",
    "  log_format bench '$connection $request_length $status';",
    "  access_log " .. p .. "/logs/access.log bench buffer=32k flush=200ms;",
    "  client_body_temp_path " .. p .. "/tmp/body;",
    "  proxy_temp_path " .. p .. "/tmp/proxy;",
    "  fastcgi_temp_path " .. p .. "/tmp/fastcgi;",
    "  uwsgi_temp_path " .. p .. "/tmp/uwsgi;",
    "  scgi_temp_path " .. p .. "/tmp/scgi;",
    "  keepalive_timeout 300s;",
    "  keepalive_requests 10000000;",
    "  server_tokens off;",
    "  server {",
    "    listen 127.0.0.1:" .. port .. ";",
    "    location = /nginx_status { stub_status; access_log off; }",
    "    location / {",
    "      default_type application/x-amz-json-1.1;",
    "      add_header x-amzn-RequestId 3f7c1b52-9d0e-4a8b-b6c4-1e2d3f4a5b6c;",
    "      return 200 '" .. M.RESPONSE .. "';",
    "    }",
    "  }",
    "}",
  }, "\n") .. "\n"
end

local Server = {}
Server.__index = Server

function Server:status()
  local out = sh("curl -s --noproxy '*' -m 5 " .. quote(self.endpoint .. "/nginx_status"))
  local a, h, r = out:match("%s(%d+)%s+(%d+)%s+(%d+)%s")
  if not a then return nil end
  return { accepts = tonumber(a), handled = tonumber(h), requests = tonumber(r) }
end

-- (waits for the buffered log to be flushed first)
function Server:log_mark()
  sleep(0.5)
  local s = read_file(self.prefix .. "/logs/access.log")
  return s and #s or 0
end

-- Lines logged after mark. The log is buffered (flushed every 200 ms):
-- waits until at least expect lines are there, 5 s at most.
function Server:log_since(mark, expect)
  local out
  for _ = 1, 10 do
    sleep(0.5)
    local s = read_file(self.prefix .. "/logs/access.log") or ""
    out = {}
    for c, len, st in s:sub(mark + 1):gmatch("(%d+) (%d+) (%d+)\n") do
      out[#out + 1] = { connection = tonumber(c), request_length = tonumber(len), status = tonumber(st) }
    end
    if #out >= (expect or 0) then break end
  end
  return out
end

function Server:stop()
  if not self.pid then return end
  os.execute("kill " .. self.pid .. " 2>/dev/null")
  for _ = 1, 50 do
    if not alive(self.pid) then break end
    sleep(0.1)
  end
  if alive(self.pid) then os.execute("kill -9 " .. self.pid .. " 2>/dev/null") end
  self.pid = nil
  if self.prefix and self.prefix:match("^/tmp/aws%-connect%-bench%.") then
    os.execute("rm -rf " .. quote(self.prefix))
  end
end

--- Starts nginx; returns the server, or nil and a reason.
function M.start()
  local bin = M.binary()
  if not bin then return nil, "nginx is not installed (Debian nginx-core)" end
  local last = "nginx did not start"
  for _ = 1, 5 do
    local prefix = sh("mktemp -d /tmp/aws-connect-bench.XXXXXX"):match("^(%S+)")
    local port = free_port()
    if not prefix or not port then return nil, "cannot make a temp dir or find a free port" end
    os.execute("mkdir -p " .. quote(prefix .. "/logs") .. " " .. quote(prefix .. "/tmp"))
    local f = assert(io.open(prefix .. "/nginx.conf", "wb"))
    f:write(config(prefix, port))
    f:close()
    -- nginx in the background; a watchdog stops it when this process ($PPID
    -- of the shell that os.execute runs) is gone.
    local cmd = "(" .. quote(bin) .. " -p " .. quote(prefix) .. " -c " .. quote(prefix .. "/nginx.conf")
      .. " -e " .. quote(prefix .. "/logs/error.log") .. " </dev/null >/dev/null 2>&1 & n=$!; echo $n > "
      .. quote(prefix .. "/bench.pid") .. "; owner=$PPID; "
      .. "(while kill -0 $owner 2>/dev/null && kill -0 $n 2>/dev/null; do sleep 1; done; "
      .. "kill $n 2>/dev/null; kill -0 $owner 2>/dev/null || { sleep 1; rm -rf " .. quote(prefix) .. "; }) "
      .. "</dev/null >/dev/null 2>&1 &) </dev/null >/dev/null 2>&1"
    os.execute(cmd)
    local pid
    for _ = 1, 50 do
      pid = tonumber(read_file(prefix .. "/bench.pid") or "")
      if pid then break end
      sleep(0.05)
    end
    local srv = setmetatable({ pid = pid, port = port, prefix = prefix,
      endpoint = "http://127.0.0.1:" .. port }, Server)
    for _ = 1, 100 do
      if not pid or not alive(pid) then break end
      if srv:status() then return srv end
      sleep(0.05)
    end
    last = "nginx did not start: " .. (read_file(prefix .. "/logs/error.log") or "no error log"):sub(1, 300)
    srv:stop()
  end
  return nil, last
end

return M
