-- GC-stress mode for the spec suite (issue 12, item 1): a busted helper
-- (`busted --helper=spec/support/gc_stress.lua`, what `make test-gc-stress`
-- runs under ASan) that makes the collector run as often as it can:
--   * collectgarbage("setpause", 0): a new cycle starts as soon as the last
--     one ends (generational 5.4 is switched to incremental first);
--   * a count hook runs collectgarbage("step") every AWSC_GC_STRESS_EVERY
--     (default 1000) VM instructions, in the main thread and in every
--     coroutine created after this file ran (hooks are per thread).
-- A C binding that keeps a pointer to a string nothing anchors then reads
-- freed memory almost every time, which ASan reports. Does nothing unless
-- AWSC_GC_STRESS=1 (so loading it by accident changes nothing).

if os.getenv("AWSC_GC_STRESS") ~= "1" then return end

local every = tonumber(os.getenv("AWSC_GC_STRESS_EVERY") or "") or 1000

if _VERSION == "Lua 5.4" then collectgarbage("incremental") end
collectgarbage("setpause", 0)
collectgarbage("setstepmul", 400)

local step = collectgarbage
local function hook() step("step") end

debug.sethook(hook, "", every)

local create, resume = coroutine.create, coroutine.resume
coroutine.create = function(f)  -- luacheck: ignore 122
  local co = create(f)
  debug.sethook(co, hook, "", every)
  return co
end
coroutine.wrap = function(f)  -- luacheck: ignore 122
  local co = create(f)
  debug.sethook(co, hook, "", every)
  local function pass(ok, ...)
    if not ok then error((...), 0) end
    return ...
  end
  return function(...) return pass(resume(co, ...)) end
end
