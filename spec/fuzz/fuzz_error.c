/*
 * fuzz_error.c - libFuzzer harness for error-response parsing. That
 * parsing is Lua code (aws_connect._service_error in init.lua, plus each
 * operation's parse of a 2xx body), so this harness embeds Lua: the C core
 * is compiled in and registered as aws_connect.core, and the Lua modules
 * are loaded from lua/ (run from the repository root). Fuzzing the Lua
 * layer this way also exercises json_decode and the UTF-8 checks on
 * realistic inputs; spec/fuzz/error_driver.lua states the contracts.
 *
 * Input: byte 0 picks the mode (0: error path, 1-4: a 2xx body through an
 * operation's parser), bytes 1-2 the status (300-599 on the error path),
 * the rest is "header lines\n\nbody".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_aws_connect_core(lua_State *L);

static lua_State *L;
static int driver_ref = LUA_NOREF;
static unsigned long runs;

/* Lua line coverage as libFuzzer "extra counters", so that the fuzzer is
 * guided by the branches of the Lua parsers, not only by the C below them.
 * Outside libFuzzer the section is just an array. */
#define LUA_COUNTERS 8192
__attribute__((section("__libfuzzer_extra_counters")))
static uint8_t lua_counters[LUA_COUNTERS];

static void line_hook(lua_State *S, lua_Debug *ar)
{
    uintptr_t h;
    if (!lua_getinfo(S, "S", ar)) return;
    h = ((uintptr_t)ar->source * 31u) ^ ((uintptr_t)ar->currentline * 2654435761u);
    h ^= h >> 13;
    lua_counters[h % LUA_COUNTERS]++;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_error: %s: %s\n", what, lua_tostring(L, -1));
    abort();
}

static void setup(void)
{
    L = luaL_newstate();
    if (!L) abort();
    luaL_openlibs(L);
    if (luaL_dostring(L, "package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path\n"
                         "package.cpath = ''"))
        die("package.path");
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_aws_connect_core);
    lua_setfield(L, -2, "aws_connect.core");
    lua_pop(L, 2);
    if (luaL_loadfile(L, "spec/fuzz/error_driver.lua") || lua_pcall(L, 0, 1, 0))
        die("loading spec/fuzz/error_driver.lua (run from the repository root)");
    driver_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_sethook(L, line_hook, LUA_MASKLINE, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int mode, status;
    const uint8_t *rest, *sep;
    size_t rlen, hlen;

    if (!L) setup();
    if (size < 3) return 0;
    mode = data[0] % 5;
    status = (data[1] | (data[2] << 8));
    status = mode == 0 ? 300 + status % 300 : 200 + status % 100;
    rest = data + 3;
    rlen = size - 3;
    sep = rlen >= 2 ? memmem(rest, rlen, "\n\n", 2) : NULL;
    hlen = sep ? (size_t)(sep - rest) : 0;

    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, driver_ref);
    lua_pushinteger(L, mode);
    lua_pushinteger(L, status);
    lua_pushlstring(L, (const char *)rest, hlen);
    if (sep) lua_pushlstring(L, (const char *)sep + 2, rlen - hlen - 2);
    else lua_pushlstring(L, (const char *)rest, rlen);
    if (lua_pcall(L, 4, 0, 0) != LUA_OK) die("contract broken");
    lua_settop(L, 0);
    if (++runs % 2000 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}
