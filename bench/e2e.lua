-- bench/e2e.lua MODE ENDPOINT ... - the client rows of make bench, run
-- against the local nginx that bench/run.lua starts. The client is the
-- public API (aws_connect.new + create_instance) with explicit credentials
-- and region, the endpoint the nginx.
--
--   rate ENDPOINT N            "lua_e2e CALLS_PER_S"  (after a warm-up)
--   capture ENDPOINT FILE      one call; writes the request as sent (for the
--                              libcurl floor, bench/e2e_floor.c)
--   memory ENDPOINT N1 N2 collect|nocollect
--                              "memory RSS1 RSS2 HEAP1 HEAP2": RSS (bytes) after
--                              N1 and after N2 calls and the Lua heap (KiB);
--                              with collect, a full collect before each reading
--   connections ENDPOINT N     "connections OPENED CALLS": TCP connections that
--                              libcurl opened (CURLINFO_NUM_CONNECTS) for N calls
--   session ENDPOINT FILE N    "session CALLS_PER_S": the captured request replayed
--                              through aws_connect.curl session():request (the C transport
--                              alone, without the Lua client around it)
--   overhead ENDPOINT N        "overhead US": CPU microseconds per call with a
--                              transport that answers at once, as nginx does
--                              (the client's own cost; nothing is sent)

local aws_connect = require("aws_connect")
local common = require("bench.common")

local mode, endpoint = arg[1], arg[2]
if not mode or not endpoint then
  io.stderr:write("usage: e2e.lua rate|capture|memory|connections ENDPOINT ...\n")
  os.exit(2)
end

local fx = common.fixture()

local PARAMS = {
  identity_management_type = "CONNECT_MANAGED",
  inbound_calls_enabled = true,
  outbound_calls_enabled = false,
  instance_alias = "game-support",
  tags = { team = "ops" },
}

local function new_client(transport)
  return aws_connect.new{
    region = fx.region,
    endpoint = endpoint,
    credentials = {
      access_key_id = fx.access_key_id,
      secret_access_key = fx.secret_access_key,
      session_token = fx.session_token,
    },
    transport = transport,
  }
end

-- BENCH_OP=get measures a generic GET (describe_user) instead of the
-- flagship PUT; both go through the same model-driven pipeline.
local GET = os.getenv("BENCH_OP") == "get"
local GET_PARAMS = { instance_id = "0b8ef9a3-1c4e-4c1e-9f21-6a9d2a5e7b10", user_id = "agent-7" }

local function call(client)
  if GET then
    local res, meta = client:describe_user(GET_PARAMS)
    if meta.status ~= 200 or type(res) ~= "table" then
      error("unexpected result: status " .. tostring(meta.status))
    end
    return res
  end
  local inst, meta = client:create_instance(PARAMS)
  if meta.status ~= 200 or type(inst.id) ~= "string" then
    error("unexpected result: status " .. tostring(meta.status))
  end
  return inst
end

-- A transport that forwards to the curl transport and keeps what passed.
local function recording(on_request)
  local inner = require("aws_connect.transport.curl").new()
  return {
    request = function(_, req)
      local resp, kind, msg = inner:request(req)
      on_request(req, resp)
      return resp, kind, msg
    end,
    discard = function() inner:discard() end,
    close = function() inner:close() end,
  }
end

if mode == "rate" then
  local n = assert(tonumber(arg[3]), "N")
  local client = new_client()
  for _ = 1, math.max(1, math.floor(n / 10)) do call(client) end
  local t0 = common.clock()
  for _ = 1, n do call(client) end
  local dt = common.clock() - t0
  io.write(("lua_e2e %.2f\n"):format(n / dt))

elseif mode == "capture" then
  local file = assert(arg[3], "FILE")
  local seen
  local client = new_client(recording(function(req) seen = req end))
  call(client)
  local out = { seen.method, seen.url, tostring(#seen.headers) }
  for i, h in ipairs(seen.headers) do out[3 + i] = h[1] .. ": " .. h[2] end
  out[#out + 1] = tostring(#(seen.body or ""))
  common.write_file(file, table.concat(out, "\n") .. "\n" .. (seen.body or ""))
  io.write("captured ", seen.method, " ", seen.url, "\n")

elseif mode == "memory" then
  local n1, n2 = assert(tonumber(arg[3]), "N1"), assert(tonumber(arg[4]), "N2")
  local collect = arg[5] == "collect"
  local client = new_client()
  local function reading()
    if collect then collectgarbage("collect") end
    return common.rss(), collectgarbage("count")
  end
  for _ = 1, n1 do call(client) end
  local rss1, heap1 = reading()
  for _ = n1 + 1, n2 do call(client) end
  local rss2, heap2 = reading()
  io.write(("memory %d %d %.1f %.1f\n"):format(rss1, rss2, heap1, heap2))

elseif mode == "connections" then
  local n = assert(tonumber(arg[3]), "N")
  local opened, calls = 0, 0
  local client = new_client(recording(function(_, resp)
    if resp then
      opened = opened + (resp.new_connections or 0)
      calls = calls + 1
    end
  end))
  for _ = 1, n do call(client) end
  io.write(("connections %d %d\n"):format(opened, calls))

elseif mode == "session" then
  local file, n = assert(arg[3], "FILE"), assert(tonumber(arg[4]), "N")
  local text = assert(common.read_file(file), "cannot read " .. file)
  local lines, pos = {}, 1
  while #lines < 3 or #lines < 4 + tonumber(lines[3]) do
    local nl = assert(text:find("\n", pos, true), "capture file cut short")
    lines[#lines + 1] = text:sub(pos, nl - 1)
    pos = nl + 1
  end
  local headers = {}
  for i = 1, tonumber(lines[3]) do
    local name, value = lines[3 + i]:match("^([^:]+): (.*)$")
    headers[i] = { name, value }
  end
  local req = { method = lines[1], url = lines[2], headers = headers, body = text:sub(pos) }
  local session = require("aws_connect.curl").session()
  local function once()
    local resp, kind, msg = session:request(req)
    if not resp or resp.status ~= 200 then error("session request failed: " .. tostring(kind or msg)) end
  end
  for _ = 1, math.max(1, math.floor(n / 10)) do once() end
  local t0 = common.clock()
  for _ = 1, n do once() end
  io.write(("session %.2f\n"):format(n / (common.clock() - t0)))

elseif mode == "overhead" then
  local n = assert(tonumber(arg[3]), "N")
  local nginx = require("bench.nginx")
  local resp = {
    status = 200, reason = "OK", body = nginx.RESPONSE, new_connections = 0,
    headers = {
      { "Server", "nginx" }, { "Date", "Sat, 28 Nov 2026 00:00:00 GMT" },
      { "Content-Type", "application/x-amz-json-1.1" }, { "Content-Length", tostring(#nginx.RESPONSE) },
      { "Connection", "keep-alive" }, { "x-amzn-RequestId", "3f7c1b52-9d0e-4a8b-b6c4-1e2d3f4a5b6c" },
    },
  }
  local client = new_client({ request = function() return resp end })
  for _ = 1, math.max(1, math.floor(n / 10)) do call(client) end
  local t0 = os.clock()
  for _ = 1, n do call(client) end
  io.write(("overhead %.3f\n"):format((os.clock() - t0) * 1e6 / n))

else
  io.stderr:write("e2e.lua: unknown mode " .. tostring(mode) .. "\n")
  os.exit(2)
end
