-- Test helper: runs Debian's nginx with ngx_lua in a temporary prefix and
-- talks to it with the curl command-line tool. Works on Lua 5.1-5.4 and
-- LuaJIT (standard library only, plus spec.support.fake_server's and
-- spec.support.helpers' helpers).
--
--   local nginx = require("spec.support.nginx")
--   if not nginx.available() then pending(...) end
--   local srv = nginx.start{ http = "...http-level directives...", server = "...locations...",
--                            env = { AWS_REGION = "us-east-1" }, init = "...init_by_lua code..." }
--   srv.port, srv.pid, srv.prefix, srv:url("/x")
--   local status, body, headers = srv:get("/x")        -- srv:request("POST", "/x")
--   local srv = nginx.start_file{ prefix = dir, conf = "conf/nginx.conf", port = p, env = {...} }
--   local results = srv:get_parallel({ "/a", "/b", ... })  -- { {status, body, time}, ... }
--   srv:log(), srv:stop()
--
-- nginx runs with daemon off; master_process off (one process, the one
-- whose pid we hold), listens on 127.0.0.1 on a port the OS picked, and is
-- stopped by that pid in stop(). A watchdog stops it too if the Lua process
-- that started it dies first.

local fake = require("spec.support.fake_server")
local helpers = require("spec.support.helpers")

local M = {}

M.binary = "/usr/sbin/nginx"
M.module_dirs = { "/usr/lib/nginx/modules", "/usr/share/nginx/modules" }

local shell_quote, read_file, write_file, capture = helpers.q, helpers.read, helpers.write, helpers.capture

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

--- The repository root (this file is spec/support/nginx.lua).
function M.root()
  local src = debug.getinfo(1, "S").source
  local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/spec/support/[^/]*$")
  if not dir or dir == "" then dir = "." end
  if dir:sub(1, 1) ~= "/" then dir = capture("pwd"):gsub("%s+$", "") .. "/" .. dir end
  return dir
end

--- The directory holding ndk and ngx_http_lua modules, or nil, why.
function M.available()
  if not exists(M.binary) then return nil, M.binary .. " is not installed (nginx-core)" end
  for _, d in ipairs(M.module_dirs) do
    if exists(d .. "/ndk_http_module.so") and exists(d .. "/ngx_http_lua_module.so") then return d end
  end
  return nil, "ngx_http_lua_module.so or ndk_http_module.so not found (libnginx-mod-http-lua, libnginx-mod-http-ndk)"
end

--- The LuaJIT headers ngx_http_lua's LuaJIT (luajit2) was built with.
function M.luajit_incdir()
  local d = capture("pkg-config --variable=includedir luajit 2>/dev/null"):gsub("%s+$", "")
  if d == "" then d = "/usr/include/luajit-2.1" end
  return d
end

--- A port the OS picked as free just now (it may be taken again before
--- nginx binds it; start() retries then).
function M.free_port()
  local out = capture(fake.python .. [[ -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()']])
  return assert(tonumber(out:match("(%d+)")), "free_port: " .. out)
end

local function mktemp_dir() return helpers.tmpdir("nginx") end
M.mktemp_dir = mktemp_dir

local function conf_text(opts, port, modules, prefix)
  local root = opts.root or M.root()
  local env = {}
  for _, name in ipairs(opts.env_names or {}) do env[#env + 1] = "env " .. name .. ";" end
  return table.concat({
    "load_module " .. modules .. "/ndk_http_module.so;",
    "load_module " .. modules .. "/ngx_http_lua_module.so;",
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    "error_log logs/error.log info;",
    "pid logs/nginx.pid;",
    table.concat(env, "\n"),
    "events { worker_connections 1024; }",
    "http {",
    "  access_log logs/access.log;",
    "  client_body_temp_path " .. prefix .. "/tmp/body;",
    "  proxy_temp_path " .. prefix .. "/tmp/proxy;",
    "  fastcgi_temp_path " .. prefix .. "/tmp/fastcgi;",
    "  uwsgi_temp_path " .. prefix .. "/tmp/uwsgi;",
    "  scgi_temp_path " .. prefix .. "/tmp/scgi;",
    -- ';;' keeps the default path, where resty.core lives: without it nginx exits
    ('  lua_package_path "%s;;";'):format(opts.lua_path
      or (root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/?.lua")),
    ('  lua_package_cpath "%s;;";'):format(opts.lua_cpath or (root .. "/build/luajit/?.so")),
    opts.http or "",
    "  server {",
    "    listen 127.0.0.1:" .. port .. ";",
    "    location = /ping { content_by_lua_block { ngx.say('pong') } }",
    opts.server or "",
    "  }",
    "}",
    "",
  }, "\n")
end

local Server = {}
Server.__index = Server

function Server:url(path)
  return "http://127.0.0.1:" .. self.port .. (path or "/")
end

function Server:log()
  return read_file(self.prefix .. "/logs/error.log") or ""
end

--- GET path: status (number), body, raw header block.
function Server:get(path, max_time)
  return self:request("GET", path, max_time)
end

--- METHOD path (no body): status (number), body, raw header block.
function Server:request(method, path, max_time)
  local body_file, head_file = self.prefix .. "/client.body", self.prefix .. "/client.head"
  local code = capture(("curl -sS --max-time %d -X %s -o %s -D %s -w '%%{http_code}' %s 2>&1"):format(
    max_time or 30, shell_quote(method), shell_quote(body_file), shell_quote(head_file), shell_quote(self:url(path))))
  local body, head = read_file(body_file) or "", read_file(head_file) or ""
  os.remove(body_file)
  os.remove(head_file)
  return tonumber(code:match("(%d%d%d)%s*$")), body, head
end

--- Sends every GET at once (curl --parallel); returns a list of
--- { status, body, time } in the order given.
function Server:get_parallel(paths, max_time)
  local args = {}
  for i, path in ipairs(paths) do
    args[#args + 1] = "-o " .. shell_quote(self.prefix .. "/par." .. i) .. " " .. shell_quote(self:url(path))
  end
  local out = capture(("curl -sS --parallel --parallel-immediate --parallel-max %d --max-time %d "
    .. "-w '%%{url} %%{http_code} %%{time_total}\\n' %s 2>&1"):format(#paths, max_time or 30, table.concat(args, " ")))
  local by_url = {}
  for url, code, t in out:gmatch("(%S+) (%d%d%d) ([%d.]+)") do by_url[url] = { tonumber(code), tonumber(t) } end
  local res = {}
  for i, path in ipairs(paths) do
    local f = self.prefix .. "/par." .. i
    local r = by_url[self:url(path)] or {}
    res[i] = { status = r[1], time = r[2], body = read_file(f) or "" }
    os.remove(f)
  end
  return res, out
end

function Server:alive()
  return fake.pid_alive(self.pid)
end

local function kill_wait(pid) fake.stop_pid(pid, 60) end

--- Stops nginx (TERM, then KILL) and its watchdog by pid; removes the
--- prefix unless keep is set. Idempotent.
function Server:stop(keep)
  if self.stopped then return end
  self.stopped = true
  kill_wait(self.pid)
  if self.watchdog and fake.pid_alive(self.watchdog) then
    os.execute("kill -TERM " .. self.watchdog .. " 2>/dev/null")
  end
  if not keep and not self.keep and self.prefix:match("^/tmp/awsc%-nginx%.") then
    os.execute("rm -rf " .. shell_quote(self.prefix))
  end
end

local function launch(opts, port, modules, prefix)
  write_file(prefix .. "/conf/nginx.conf", conf_text(opts, port, modules, prefix))
  os.remove(prefix .. "/logs/error.log")
  local env = {}
  for name, value in pairs(opts.env or {}) do env[#env + 1] = name .. "=" .. shell_quote(value) end
  -- a clean environment: nothing of the caller's (AWS_CA_BUNDLE, HOME, ...)
  -- leaks in, as with a real master process, which clears it
  local cmd = ("env -i %s %s -p %s -c conf/nginx.conf -e logs/error.log"):format(
    table.concat(env, " "), M.binary, shell_quote(prefix .. "/"))
  local pid = tonumber(capture("sh -c " .. shell_quote(cmd .. " >" .. shell_quote(prefix .. "/logs/stdout.log")
    .. " 2>&1 </dev/null & echo $!")):match("(%d+)"))
  assert(pid, "could not launch nginx")
  return pid
end

--- Starts nginx on a configuration file of one's own, the way the README
--- starts examples/openresty: `nginx -p PREFIX/ -c CONF -g 'daemon off;'`
--- (master process and workers as the file says; the master's pid is the
--- one held, and a watchdog stops it if this Lua process dies first).
--- opts: prefix (from M.mktemp_dir, holding the configuration), conf
--- (relative to the prefix), port (the one it listens on), env (name ->
--- value: the whole environment nginx starts with), ready (a path to GET
--- until it answers; "/"). Raises with the error log when it does not come up.
function M.start_file(opts)
  local prefix = assert(opts.prefix, "start_file: prefix")
  local env = {}
  for name, value in pairs(opts.env or {}) do env[#env + 1] = shell_quote(name .. "=" .. value) end
  local cmd = ("env -i %s %s -p %s -c %s -g 'daemon off;'"):format(table.concat(env, " "), M.binary,
    shell_quote(prefix .. "/"), shell_quote(opts.conf or "conf/nginx.conf"))
  local pid = tonumber(capture("sh -c " .. shell_quote(cmd .. " >" .. shell_quote(prefix .. "/stdout.log")
    .. " 2>&1 </dev/null & echo $!")):match("(%d+)"))
  assert(pid, "could not launch nginx")
  local srv = setmetatable({ prefix = prefix, port = opts.port, pid = pid }, Server)
  local owner = fake.own_pid()
  if owner then
    local loop = ("(while kill -0 %d && kill -0 %d; do sleep 1; done; kill -TERM %d) >/dev/null 2>&1 </dev/null & echo $!")
      :format(owner, pid, pid)
    srv.watchdog = tonumber(capture("sh -c " .. shell_quote(loop)):match("(%d+)"))
  end
  for _ = 1, 200 do
    if not srv:alive() then break end
    local code = srv:get(opts.ready or "/", 2)
    if code and code > 0 then return srv end
    fake.sleep(0.05)
  end
  local log = srv:log() .. (read_file(prefix .. "/stdout.log") or "")
  srv:stop(true)
  error("nginx did not start (prefix " .. prefix .. "):\n" .. log, 2)
end

--- Starts nginx; raises with the error log when it does not come up.
--- opts: http, server (config text), env (name -> value, each also gets an
--- env directive), env_names (extra env directives), root, keep, lua_path and
--- lua_cpath (instead of the repository's lua/ and build/luajit; ";;" is
--- always appended).
function M.start(opts)
  opts = opts or {}
  local modules = assert(M.available())
  local names = {}
  for _, n in ipairs(opts.env_names or {}) do names[#names + 1] = n end
  for n in pairs(opts.env or {}) do names[#names + 1] = n end
  table.sort(names)
  opts.env_names = names
  local prefix = mktemp_dir()
  os.execute("mkdir -p " .. shell_quote(prefix .. "/conf") .. " " .. shell_quote(prefix .. "/logs")
    .. " " .. shell_quote(prefix .. "/tmp"))
  local srv = setmetatable({ prefix = prefix, keep = opts.keep }, Server)
  local last_log = ""
  for _ = 1, 5 do
    local port = M.free_port()
    srv.port = port
    srv.pid = launch(opts, port, modules, prefix)
    srv.stopped = false
    local owner = fake.own_pid()
    if owner then
      -- stops nginx if this Lua process dies without calling stop()
      local loop = ("(while kill -0 %d && kill -0 %d; do sleep 1; done; kill -TERM %d) >/dev/null 2>&1 </dev/null & echo $!")
        :format(owner, srv.pid, srv.pid)
      srv.watchdog = tonumber(capture("sh -c " .. shell_quote(loop)):match("(%d+)"))
    end
    local ready = false
    for _ = 1, 200 do
      if not srv:alive() then break end
      local code, body = srv:get("/ping", 2)
      if code == 200 and body:match("^pong") then ready = true break end
      fake.sleep(0.05)
    end
    if ready then return srv end
    last_log = srv:log() .. read_file(prefix .. "/logs/stdout.log") or ""
    kill_wait(srv.pid)
    if srv.watchdog then os.execute("kill -TERM " .. srv.watchdog .. " 2>/dev/null") end
    if not last_log:find("Address already in use", 1, true) then break end
  end
  srv.stopped = false
  srv:stop()
  error("nginx did not start (prefix " .. prefix .. "):\n" .. last_log, 2)
end

return M
