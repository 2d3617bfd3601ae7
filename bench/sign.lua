-- bench/sign.lua ITERATIONS - the "core.sign from Lua" signing row.
-- Signs bench/request.json ITERATIONS times through core.sign (the argument
-- table built once, as a caller that signs many requests would reuse it)
-- and prints "lua_sign US signature HEX" (US = mean microseconds per call).

local core = require("aws_connect.core")
local common = require("bench.common")

local iters = tonumber(arg[1]) or 100000
local args = common.sign_args(common.fixture())
local sign = core.sign

local s
for _ = 1, math.max(1, math.floor(iters / 10)) do s = sign(args) end  -- warm up
collectgarbage("collect")
local t0 = common.clock()
for _ = 1, iters do s = sign(args) end
local dt = common.clock() - t0
io.write(("lua_sign %.4f signature %s\n"):format(dt * 1e6 / iters, s.signature))
