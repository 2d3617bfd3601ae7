-- bench/common.lua - helpers shared by the Lua benchmark scripts: the
-- request fixture, timing, RSS, small statistics. Runs on Lua 5.1-5.4 and
-- LuaJIT.

local core = require("aws_connect.core")

local M = {}

M.clock = core.monotonic

function M.dir()
  local src = debug.getinfo(1, "S").source
  return (src:match("^@(.*)/[^/]*$")) or "bench"
end

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

--- The request every signing row signs (bench/request.json).
function M.fixture()
  local path = M.dir() .. "/request.json"
  local text = assert(M.read_file(path), "cannot read " .. path)
  return assert(core.json_decode(text))
end

--- core.sign's argument table for the fixture, as the client builds it.
function M.sign_args(fx)
  return {
    method = fx.method, path = fx.path, query = fx.query,
    headers = { { "Host", fx.host }, { "Content-Type", fx.content_type } },
    body = fx.body, region = fx.region, service = fx.service,
    access_key_id = fx.access_key_id, secret_access_key = fx.secret_access_key,
    session_token = fx.session_token, time = fx.time,
  }
end

local PAGE
--- Resident set size of this process in bytes (/proc/self/statm).
function M.rss()
  if not PAGE then
    local p = io.popen("getconf PAGESIZE 2>/dev/null")
    PAGE = p and tonumber(p:read("*a")) or 4096
    if p then p:close() end
  end
  local s = M.read_file("/proc/self/statm") or ""
  local pages = tonumber(s:match("^%d+%s+(%d+)"))
  return pages and pages * PAGE or nil
end

function M.median(xs)
  local t = {}
  for i = 1, #xs do t[i] = xs[i] end
  table.sort(t)
  local n = #t
  if n == 0 then return nil end
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

function M.minmax(xs)
  local lo, hi = math.huge, -math.huge
  for i = 1, #xs do
    if xs[i] < lo then lo = xs[i] end
    if xs[i] > hi then hi = xs[i] end
  end
  return lo, hi
end

return M
