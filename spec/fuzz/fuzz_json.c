/*
 * fuzz_json.c - libFuzzer harness for JSON -> Lua decoding (json_decode in
 * src/json.c). The decoder needs a lua_State, so liblua is linked into this
 * binary (never into core.so). Checks: decoding never raises or corrupts
 * memory; it returns one value or nil plus a message; whatever decodes and
 * encodes again decodes again (the encoder's output is valid input).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "json.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

static lua_State *L;
static unsigned long runs;

static int decode_twice(lua_State *S)
{
    size_t len;
    const char *text = lua_tolstring(S, 1, &len);
    int n = json_decode(S, text, len);
    CHECK(n == 1 || n == 2);
    if (n == 2) {
        CHECK(lua_isnil(S, -2) && lua_type(S, -1) == LUA_TSTRING);
        return 0;
    }
    /* encode what came out; if that works, it must decode again */
    if (json_encode(S, lua_gettop(S)) == 1) {
        size_t elen;
        const char *enc = lua_tolstring(S, -1, &elen);
        CHECK(enc != NULL);
        n = json_decode(S, enc, elen);
        if (n != 1) fprintf(stderr, "re-decoding failed: %s\n", lua_tostring(S, -1));
        CHECK(n == 1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc;
    if (!L) {
        L = luaL_newstate();
        CHECK(L != NULL);
        luaL_openlibs(L);
    }
    lua_settop(L, 0);
    lua_pushcfunction(L, decode_twice);
    lua_pushlstring(L, (const char *)data, size);   /* index 1, as in core.json_decode */
    rc = lua_pcall(L, 1, 0, 0);
    if (rc != LUA_OK) fprintf(stderr, "raised: %s\n", lua_tostring(L, -1));
    CHECK(rc == LUA_OK);   /* "never raises except on out-of-memory" */
    lua_settop(L, 0);
    if (++runs % 1000 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}
