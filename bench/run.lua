-- bench/run.lua - make bench: measures every row in one run, side by side,
-- and prints one table (medians over repetitions, spread, ratios, targets).
--
--   lua5.4 bench/run.lua [--lua lua5.4] [--reps 7] [--smoke] [--counts FILE] [--markdown FILE]
--
-- Run from the repository root with LUA_PATH/LUA_CPATH pointing at lua/ and
-- build/LUA (mk/bench.mk does it) and the C harnesses built in build/bench.
-- Each repetition runs every row once, in the same order, so that a noisy
-- moment hits the rows that are compared alike; a ratio is the median of
-- the per-repetition ratios. --smoke runs each row once, tiny, only to show
-- that it works (make test); it appends "passed failed skipped" to --counts
-- (a row whose optional peer, botocore or awscrt, is missing is skipped).
-- Targets are reported, never enforced: benchmarks are not timed tests.

local core = require("aws_connect.core")
local common = require("bench.common")
local nginx = require("bench.nginx")

local opts = { lua = "lua5.4", reps = 7, smoke = false }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--smoke" then opts.smoke = true
    elseif a == "--lua" or a == "--reps" or a == "--counts" or a == "--markdown" then
      opts[a:sub(3)] = arg[i + 1]
      i = i + 1
    else
      io.stderr:write("run.lua: unknown argument " .. a .. "\n")
      os.exit(2)
    end
    i = i + 1
  end
  opts.reps = tonumber(opts.reps) or 7
  if opts.smoke then opts.reps = 1 end
end

local PY = "/usr/bin/python3"
local BIN = "build/bench"
local DIR = common.dir()
local FIXTURE = DIR .. "/request.json"
local LUA = opts.lua

-- Sizes: [full, smoke].
local SIZE = {
  c_sign = { 200000, 1000 },       -- iterations of the C signer and of the floor
  lua_sign = { 200000, 1000 },
  py_sign = { 3000, 50 },
  e2e = { 4000, 50 },              -- calls per repetition (ours and the floor)
  e2e_boto = { 400, 10 },
  overhead = { 10000, 50 },
  mem = { { 1000, 100000 }, { 100, 1000 } },
  conns = { 10000, 200 },
  startup_runs = { 20, 3 },
}
local function size(k) return SIZE[k][opts.smoke and 2 or 1] end

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command; returns its output (stdout and stderr) and whether
-- it exited with 0.
local function run(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  out = out:gsub("__rc=%d+%s*$", "")
  return out, rc == 0
end

local function sh_ok(cmd)
  local _, ok = run(cmd)
  return ok
end

-- Rows ------------------------------------------------------------------------

local rows, order = {}, {}
local function row(id, fields)
  local r = rows[id]
  if not r then
    r = fields
    r.id = id
    r.samples = {}
    r.status = "ok"
    rows[id] = r
    order[#order + 1] = id
  end
  return r
end

local function fail(id, why)
  local r = rows[id]
  if r.status ~= "fail" then
    r.status = "fail"
    r.why = why
  end
end

local function skip(id, why)
  local r = rows[id]
  if r.status == "ok" and #r.samples == 0 then
    r.status = "skip"
    r.why = why
  end
end

local function add(id, v)
  if v then
    local s = rows[id].samples
    s[#s + 1] = v
  end
end

-- section, label, unit, higher (true when more is better)
row("floor", { section = "sign", label = "floor: 2 x SHA-256 + HMAC (C, OpenSSL)", unit = "us" })
row("c_sign", { section = "sign", label = "C signer, src/sigv4.c from C", unit = "us" })
row("lua_sign", { section = "sign", label = "core.sign from Lua", unit = "us" })
row("awscrt", { section = "sign", label = "awscrt signer (aws-c-auth) from Python", unit = "us" })
row("botocore", { section = "sign", label = "botocore SigV4Auth", unit = "us" })
row("e2e_floor", { section = "e2e", label = "floor: libcurl, same bytes, one handle", unit = "calls/s" })
row("e2e_lua", { section = "e2e", label = "aws_connect create_instance", unit = "calls/s" })
row("e2e_session", { section = "e2e", label = "core session:request, same bytes", unit = "calls/s" })
row("e2e_floor_get", { section = "e2e", label = "floor: libcurl, same bytes (GET)", unit = "calls/s" })
row("e2e_lua_get", { section = "e2e", label = "aws_connect describe_user (generic GET)", unit = "calls/s" })
row("e2e_boto", { section = "e2e", label = "botocore create_instance", unit = "calls/s" })
row("overhead", { section = "e2e", label = "aws_connect CPU per call, no network", unit = "us" })
row("bare", { section = "startup", label = "bare interpreter start", unit = "ms" })
row("startup", { section = "startup", label = "require + new", unit = "ms" })
row("mem", { section = "memory", label = "RSS growth, 1,000 -> 100,000 calls", unit = "MiB" })
row("conns", { section = "conns", label = "TCP connections for 10,000 calls", unit = "" })
if opts.smoke then
  rows.mem.label = ("RSS growth, %d -> %d calls"):format(size("mem")[1], size("mem")[2])
  rows.conns.label = ("TCP connections for %d calls"):format(size("conns"))
end

local notes = {}
local function note(s) notes[#notes + 1] = s end

-- Measurements ------------------------------------------------------------------

local reference_sig

local function check_sig(id, sig)
  if not sig then fail(id, "no signature in the output") return end
  if reference_sig and sig ~= reference_sig then
    fail(id, "signature " .. sig .. " differs from the C signer's " .. reference_sig)
  end
end

local function measure_c_sign()
  local out, ok = run(BIN .. "/sign_bench " .. quote(FIXTURE) .. " " .. size("c_sign"))
  local c, fl, fd, sig = out:match("c_signer ([%d.]+) floor ([%d.]+) floor_dup ([%d.]+) signature (%x+)")
  if not ok or not c then
    fail("c_sign", "sign_bench: " .. out)
    fail("floor", "sign_bench: " .. out)
    return
  end
  reference_sig = reference_sig or sig
  check_sig("c_sign", sig)
  add("c_sign", tonumber(c))
  add("floor", math.min(tonumber(fl), tonumber(fd)))
  rows.floor.dup = rows.floor.dup or {}
  rows.floor.dup[#rows.floor.dup + 1] = tonumber(fd) / tonumber(fl)
end

local function measure_lua_sign()
  local out, ok = run(LUA .. " " .. quote(DIR .. "/sign.lua") .. " " .. size("lua_sign"))
  local us, sig = out:match("lua_sign ([%d.]+) signature (%x+)")
  if not ok or not us then fail("lua_sign", "sign.lua: " .. out) return end
  check_sig("lua_sign", sig)
  add("lua_sign", tonumber(us))
end

local function measure_peers()
  local out, ok = run(PY .. " " .. quote(DIR .. "/sign_peers.py") .. " " .. quote(FIXTURE) .. " " .. size("py_sign"))
  for _, id in ipairs({ "botocore", "awscrt" }) do
    local us, sig = out:match(id .. " ([%d.]+) signature (%x+)")
    local why = out:match(id .. " skip ([^\n]*)")
    if us then
      check_sig(id, sig)
      add(id, tonumber(us))
    elseif why then
      skip(id, why)
    else
      fail(id, "sign_peers.py" .. (ok and "" or " failed") .. ": " .. out)
    end
  end
end

local srv, capture_len
local CAPTURE, CAPTURE_GET

local function measure_e2e()
  if not srv then return end
  local ep = srv.endpoint
  local out, ok = run(LUA .. " " .. quote(DIR .. "/e2e.lua") .. " rate " .. quote(ep) .. " " .. size("e2e"))
  local v = out:match("lua_e2e ([%d.]+)")
  if ok and v then add("e2e_lua", tonumber(v)) else fail("e2e_lua", "e2e.lua rate: " .. out) end

  out, ok = run(BIN .. "/e2e_floor " .. quote(CAPTURE) .. " " .. size("e2e"))
  v = out:match("floor_e2e ([%d.]+)")
  if ok and v then add("e2e_floor", tonumber(v)) else fail("e2e_floor", "e2e_floor: " .. out) end

  if CAPTURE_GET then
    out, ok = run("BENCH_OP=get " .. LUA .. " " .. quote(DIR .. "/e2e.lua") .. " rate " .. quote(ep) .. " "
      .. size("e2e"))
    v = out:match("lua_e2e ([%d.]+)")
    if ok and v then add("e2e_lua_get", tonumber(v)) else fail("e2e_lua_get", "e2e.lua rate (get): " .. out) end
    out, ok = run(BIN .. "/e2e_floor " .. quote(CAPTURE_GET) .. " " .. size("e2e"))
    v = out:match("floor_e2e ([%d.]+)")
    if ok and v then add("e2e_floor_get", tonumber(v)) else fail("e2e_floor_get", "e2e_floor (get): " .. out) end
  end

  out, ok = run(LUA .. " " .. quote(DIR .. "/e2e.lua") .. " session " .. quote(ep) .. " " .. quote(CAPTURE) .. " "
    .. size("e2e"))
  v = out:match("session ([%d.]+)")
  if ok and v then add("e2e_session", tonumber(v)) else fail("e2e_session", "e2e.lua session: " .. out) end

  out, ok = run(PY .. " " .. quote(DIR .. "/e2e_boto.py") .. " " .. quote(FIXTURE) .. " " .. quote(ep) .. " "
    .. size("e2e_boto"))
  v = out:match("botocore_e2e ([%d.]+)")
  local why = out:match("botocore_e2e skip ([^\n]*)")
  if ok and v then add("e2e_boto", tonumber(v))
  elseif why then skip("e2e_boto", why)
  else fail("e2e_boto", "e2e_boto.py: " .. out) end
end

local function measure_overhead()
  local out, ok = run(LUA .. " " .. quote(DIR .. "/e2e.lua") .. " overhead http://127.0.0.1:9 " .. size("overhead"))
  local v = out:match("overhead ([%d.]+)")
  if ok and v then add("overhead", tonumber(v)) else fail("overhead", "e2e.lua overhead: " .. out) end
end

-- require + new, against a bare start of the same interpreter
local STARTUP_CODE = 'require("aws_connect").new{region="us-east-1",'
  .. 'credentials={access_key_id="AKIDEXAMPLE",secret_access_key="secret"}}'
local have_hyperfine = sh_ok("command -v hyperfine >/dev/null")

local function measure_startup()
  local runs = size("startup_runs")
  local bare_cmd = LUA .. " -e ''"
  local new_cmd = LUA .. " -e " .. quote(STARTUP_CODE)
  local out, ok = run(new_cmd)
  if not ok then
    fail("startup", "require + new failed: " .. out)
    return
  end
  local bare_ms, new_ms
  if have_hyperfine then
    local json = os.tmpname()
    out, ok = run("hyperfine -N --style none --warmup " .. math.max(1, math.floor(runs / 5)) .. " --runs " .. runs
      .. " --export-json " .. quote(json) .. " " .. quote(bare_cmd) .. " " .. quote(new_cmd))
    local doc = ok and core.json_decode(common.read_file(json) or "") or nil
    os.remove(json)
    if type(doc) ~= "table" or type(doc.results) ~= "table" or #doc.results ~= 2 then
      fail("startup", "hyperfine: " .. out)
      fail("bare", "hyperfine: " .. out)
      return
    end
    bare_ms, new_ms = doc.results[1].median * 1000, doc.results[2].median * 1000
    rows.startup.how = "hyperfine -N, median of " .. runs .. " runs per repetition"
  else
    local function time_runs(cmd)
      local ts = {}
      for i = 1, runs do
        local t0 = core.monotonic()
        os.execute(cmd .. " >/dev/null 2>&1")
        ts[i] = (core.monotonic() - t0) * 1000
      end
      return common.median(ts)
    end
    time_runs(new_cmd)
    bare_ms, new_ms = time_runs(bare_cmd), time_runs(new_cmd)
    rows.startup.how = "os.execute loop (no hyperfine), median of " .. runs .. " runs per repetition"
  end
  add("bare", bare_ms)
  add("startup", new_ms)
end

local function measure_memory()
  if not srv then return end
  local n = size("mem")
  -- two processes: one never collects (as a real user), one does full collects
  local out, ok = run(LUA .. " " .. quote(DIR .. "/e2e.lua") .. " memory " .. quote(srv.endpoint) .. " "
    .. n[1] .. " " .. n[2] .. " nocollect")
  local r1, r2, h1, h2 = out:match("memory (%d+) (%d+) ([%d.]+) ([%d.]+)")
  if not ok or not r1 then fail("mem", "e2e.lua memory: " .. out) return end
  out, ok = run(LUA .. " " .. quote(DIR .. "/e2e.lua") .. " memory " .. quote(srv.endpoint) .. " "
    .. n[1] .. " " .. n[2] .. " collect")
  local g1, g2, gh1, gh2 = out:match("memory (%d+) (%d+) ([%d.]+) ([%d.]+)")
  if not ok or not g1 then fail("mem", "e2e.lua memory (collect): " .. out) return end
  local MiB = 1024 * 1024
  add("mem", (tonumber(r2) - tonumber(r1)) / MiB)
  rows.mem.detail = ("RSS %.1f -> %.1f MiB, Lua heap %.0f -> %.0f KiB; with a full collect before each reading: "
    .. "RSS %.1f -> %.1f MiB (growth %.2f MiB), heap %.0f -> %.0f KiB"):format(
    tonumber(r1) / MiB, tonumber(r2) / MiB, tonumber(h1), tonumber(h2),
    tonumber(g1) / MiB, tonumber(g2) / MiB, (tonumber(g2) - tonumber(g1)) / MiB, tonumber(gh1), tonumber(gh2))
  rows.mem.collected = (tonumber(g2) - tonumber(g1)) / MiB
end

local function measure_conns()
  if not srv then return end
  local n = size("conns")
  local s0 = srv:status()
  local mark = srv:log_mark()
  local out, ok = run(LUA .. " " .. quote(DIR .. "/e2e.lua") .. " connections " .. quote(srv.endpoint) .. " " .. n)
  local s1 = srv:status()
  local opened, calls = out:match("connections (%d+) (%d+)")
  if not ok or not opened then fail("conns", "e2e.lua connections: " .. out) return end
  opened, calls = tonumber(opened), tonumber(calls)
  local lines = srv:log_since(mark, n)
  local distinct, seen, bad = 0, {}, 0
  for _, l in ipairs(lines) do
    if not seen[l.connection] then seen[l.connection] = true; distinct = distinct + 1 end
    if l.status ~= 200 then bad = bad + 1 end
  end
  -- the second status request opens a connection of its own
  local accepted = s0 and s1 and (s1.accepts - s0.accepts - 1) or -1
  add("conns", opened)
  rows.conns.detail = ("libcurl CURLINFO_NUM_CONNECTS: %d for %d calls; nginx: %d accepted (stub_status), "
    .. "%d requests on %d distinct $connection in the access log"):format(opened, calls, accepted, #lines, distinct)
  if calls ~= n or #lines ~= n or bad > 0 then
    fail("conns", ("%d calls made, %d logged, %d not 200"):format(calls, #lines, bad))
  elseif accepted ~= opened or distinct ~= opened then
    fail("conns", "nginx's count of connections differs from libcurl's")
  end
end

local function start_nginx()
  local why
  srv, why = nginx.start()
  if not srv then
    for _, id in ipairs({ "e2e_floor", "e2e_lua", "e2e_session", "e2e_boto", "mem", "conns" }) do fail(id, why) end
    return
  end
  CAPTURE = srv.prefix .. "/request.capture"
  local mark = srv:log_mark()
  local out, ok = run(LUA .. " " .. quote(DIR .. "/e2e.lua") .. " capture " .. quote(srv.endpoint) .. " "
    .. quote(CAPTURE))
  if not ok then
    for _, id in ipairs({ "e2e_floor", "e2e_lua", "e2e_session", "mem", "conns" }) do fail(id, "capture: " .. out) end
    return
  end
  local l1 = srv:log_since(mark, 1)
  capture_len = l1[1] and l1[1].request_length
  -- the floor must put the very same bytes on the wire
  mark = srv:log_mark()
  out, ok = run(BIN .. "/e2e_floor " .. quote(CAPTURE) .. " 10")
  local l2 = srv:log_since(mark, 11)
  local same = ok and #l2 == 11
  for _, l in ipairs(l2) do same = same and l.request_length == capture_len end
  if not same then fail("e2e_floor", "the floor's requests differ from the client's: " .. out) end
  CAPTURE_GET = srv.prefix .. "/request-get.capture"
  out, ok = run("BENCH_OP=get " .. LUA .. " " .. quote(DIR .. "/e2e.lua") .. " capture " .. quote(srv.endpoint) .. " "
    .. quote(CAPTURE_GET))
  if not ok then
    fail("e2e_lua_get", "capture (get): " .. out)
    fail("e2e_floor_get", "capture (get): " .. out)
    CAPTURE_GET = nil
  end
  note(("end to end: nginx %s on 127.0.0.1:%d (pid %d); request %s bytes from the client and from the floor")
    :format(nginx.version(), srv.port, srv.pid, tostring(capture_len)))
end

-- Report --------------------------------------------------------------------------

local function fmt(v, unit)
  if v == nil then return "-" end
  if unit == "calls/s" then return ("%.0f"):format(v) end
  if unit == "" then return ("%d"):format(v) end
  if v >= 100 then return ("%.0f"):format(v) end
  if v >= 10 then return ("%.1f"):format(v) end
  return ("%.2f"):format(v)
end

local function med(id) return common.median(rows[id].samples) end

-- median over repetitions of a / b, pairing the samples of one repetition
local function ratio(a, b)
  local sa, sb = rows[a].samples, rows[b].samples
  if #sa == 0 or #sa ~= #sb then return nil end
  local rs = {}
  for i = 1, #sa do rs[i] = sa[i] / sb[i] end
  return common.median(rs)
end

local function spread(id)
  local s = rows[id].samples
  if #s < 2 then return "-" end
  local lo, hi = common.minmax(s)
  local m = common.median(s)
  if m == 0 then return "-" end
  return ("%.0f%%"):format((hi - lo) / math.abs(m) * 100)
end

-- ratio text, target text, met (true/false/nil)
local function judge(id)
  local r
  if id == "c_sign" then
    r = ratio("c_sign", "floor")
    return r and ("%.2fx floor"):format(r), "<= 2.0x floor", r and r <= 2.0
  elseif id == "lua_sign" then
    r = ratio("lua_sign", "c_sign")
    return r and ("%.2fx C signer"):format(r), "<= 2.0x C signer", r and r <= 2.0
  elseif id == "awscrt" then
    r = ratio("awscrt", "lua_sign")
    return r and ("%.1fx core.sign"):format(r), ">= 10x core.sign", r and r >= 10
  elseif id == "botocore" then
    r = ratio("botocore", "lua_sign")
    return r and ("%.1fx core.sign"):format(r), ">= 30x core.sign", r and r >= 30
  elseif id == "e2e_lua" then
    r = ratio("e2e_lua", "e2e_floor")
    return r and ("%.2fx floor"):format(r), ">= 0.85x floor", r and r >= 0.85
  elseif id == "e2e_lua_get" then
    r = ratio("e2e_lua_get", "e2e_floor_get")
    return r and ("%.2fx floor"):format(r), ">= 0.85x floor", r and r >= 0.85
  elseif id == "e2e_session" then
    r = ratio("e2e_session", "e2e_floor")
    return r and ("%.2fx floor"):format(r), "", nil
  elseif id == "e2e_boto" then
    r = ratio("e2e_lua", "e2e_boto")
    return r and ("aws_connect %.1fx"):format(r), "aws_connect >= 10x", r and r >= 10
  elseif id == "overhead" then
    local f = med("e2e_floor")
    return f and med("overhead") and ("%.0f%% of a floor call"):format(med("overhead") / (1e6 / f) * 100), "", nil
  elseif id == "startup" then
    r = nil
    local sa, sb = rows.startup.samples, rows.bare.samples
    if #sa > 0 and #sa == #sb then
      local d = {}
      for i = 1, #sa do d[i] = sa[i] - sb[i] end
      r = common.median(d)
    end
    return r and ("+%.1f ms over bare"):format(r), "<= +10 ms", r and r <= 10
  elseif id == "mem" then
    r = med("mem")
    return r and ("%.2f MiB"):format(r), "<= 1 MiB", r and r <= 1
  elseif id == "conns" then
    r = med("conns")
    return r and ("%d"):format(r), "1", r and r == 1
  end
  return "", "", nil
end

local SECTIONS = {
  sign = "1. Signing, us per signature (CreateInstance, session token)",
  e2e = "2. End to end against a local nginx (keep-alive)",
  startup = "3. Start-up, ms per process",
  memory = "4. Memory",
  conns = "5. Connections",
}

local function machine()
  local cpu = (common.read_file("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "unknown CPU"
  local ncpu = run("nproc"):match("(%d+)") or "?"
  local kernel = run("uname -r"):match("(%S+)") or "?"
  return ("%s, nproc %s, Linux %s"):format(cpu, ncpu, kernel)
end

local function report(elapsed)
  local lines, md = {}, {}
  local header = ("%-42s %10s %8s %7s  %-22s %-18s %s"):format("row", "median", "unit", "spread", "ratio", "target",
    "met")
  local date = os.date("!%Y-%m-%d %H:%M UTC")
  lines[#lines + 1] = ("make bench (%s) - %s - %s - %d repetition%s, %.0f s"):format(LUA, date, machine(), opts.reps,
    opts.reps == 1 and "" or "s", elapsed)
  md[#md + 1] = ("Run of %s, %s, %s; %d repetition%s, %.0f s.\n"):format(date, LUA, machine(), opts.reps,
    opts.reps == 1 and "" or "s", elapsed)
  md[#md + 1] = "| row | median | unit | spread | ratio | target | met |"
  md[#md + 1] = "|---|---:|---|---:|---|---|---|"
  local section
  for _, id in ipairs(order) do
    local r = rows[id]
    if r.section ~= section then
      section = r.section
      lines[#lines + 1] = ""
      lines[#lines + 1] = SECTIONS[section]
      lines[#lines + 1] = header
      md[#md + 1] = ("| **%s** | | | | | | |"):format(SECTIONS[section])
    end
    local m = med(id)
    local rt, target, met = judge(id)
    local mt = met == nil and "" or (met and "yes" or "NO")
    local shown = fmt(m, r.unit)
    if r.status == "skip" then rt, mt, shown = "skipped: " .. (r.why or ""), "", "-" end
    if r.status == "fail" then rt, mt = "FAILED", "" end
    lines[#lines + 1] = ("%-42s %10s %8s %7s  %-22s %-18s %s"):format(r.label, shown, r.unit, spread(id), rt or "",
      target or "", mt)
    md[#md + 1] = ("| %s | %s | %s | %s | %s | %s | %s |"):format(r.label, shown, r.unit, spread(id), rt or "",
      target or "", mt)
  end
  lines[#lines + 1] = ""
  local extra = {}
  if rows.floor.dup and #rows.floor.dup > 0 then
    extra[#extra + 1] = ("floor: HMAC by re-initialising one keyed EVP_MAC_CTX; with EVP_MAC_CTX_dup of a keyed "
      .. "template per call it is %.2fx that"):format(common.median(rows.floor.dup))
  end
  local function peers(base, what)
    local a = med("awscrt") and ratio("awscrt", base)
    local b = med("botocore") and ratio("botocore", base)
    if a or b then
      extra[#extra + 1] = ("peers against %s: awscrt %s, botocore %s"):format(what,
        a and ("%.1fx"):format(a) or "-", b and ("%.1fx"):format(b) or "-")
    end
  end
  if med("c_sign") then peers("c_sign", "the C signer") end
  if med("floor") then peers("floor", "the floor (the best any signer could do)") end
  if rows.e2e_boto.status == "ok" then
    extra[#extra + 1] = "botocore 1.29's Connect model has no Tags in CreateInstance: its calls send no tags"
  end
  if rows.startup.how then extra[#extra + 1] = "start-up: " .. rows.startup.how end
  if rows.mem.detail then extra[#extra + 1] = "memory: " .. rows.mem.detail end
  if rows.conns.detail then extra[#extra + 1] = "connections: " .. rows.conns.detail end
  for _, n in ipairs(notes) do extra[#extra + 1] = n end
  for _, id in ipairs(order) do
    local r = rows[id]
    if r.status == "fail" then extra[#extra + 1] = ("FAILED %s: %s"):format(r.label, (r.why or ""):sub(1, 400)) end
  end
  extra[#extra + 1] = "ratios: median of the per-repetition ratios; spread: (max - min) / median of the row's samples"
  md[#md + 1] = ""
  for _, e in ipairs(extra) do
    lines[#lines + 1] = e
    md[#md + 1] = "- " .. e
  end
  io.write(table.concat(lines, "\n"), "\n")
  if opts.markdown then common.write_file(opts.markdown, table.concat(md, "\n") .. "\n") end
end

-- Main ------------------------------------------------------------------------------

local t_start = core.monotonic()
local ok, err = pcall(function()
  start_nginx()
  for rep = 1, opts.reps do
    if not opts.smoke then io.stderr:write(("bench: repetition %d of %d\n"):format(rep, opts.reps)) end
    measure_c_sign()
    measure_lua_sign()
    measure_peers()
    measure_e2e()
    measure_overhead()
    measure_startup()
  end
  if not opts.smoke then io.stderr:write("bench: memory and connections\n") end
  measure_memory()
  measure_conns()
end)
if srv then srv:stop() end
if not ok then
  io.stderr:write("bench: " .. tostring(err) .. "\n")
  for _, id in ipairs(order) do
    if rows[id].status == "ok" and #rows[id].samples == 0 then fail(id, tostring(err)) end
  end
end
report(core.monotonic() - t_start)

local passed, failed, skipped = 0, 0, 0
for _, id in ipairs(order) do
  local r = rows[id]
  if r.status == "skip" then skipped = skipped + 1
  elseif r.status == "fail" or #r.samples == 0 then failed = failed + 1
  else passed = passed + 1 end
end
if opts.counts then
  local f = assert(io.open(opts.counts, "a"))
  f:write(("%d %d %d\n"):format(passed, failed, skipped))
  f:close()
end
io.write(("bench: %d rows measured, %d failed, %d skipped\n"):format(passed, failed, skipped))
-- with --counts the failures are in the counts file already
os.exit((failed == 0 or opts.counts) and 0 or 1)
