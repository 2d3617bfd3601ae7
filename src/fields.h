/*
 * fields.h - reading fields of an options table passed from Lua, for the
 * binding files (core.c, session.c). Each raises a Lua error naming the
 * field when its type is wrong.
 *
 * Anchoring (design.md house style 5): a string read with field_opt_string
 * / field_req_string is LEFT ON THE STACK, so it stays alive for as long as
 * the binding runs. The table may be a proxy whose __index builds the value
 * on the fly: then nothing else references the string, and a collection
 * inside the next __index call would free it while C still holds its
 * pointer. Callers therefore must not rely on the stack top staying put
 * across these calls (use absolute indices), and each such read costs one
 * stack slot (checked here).
 */
#ifndef AWSC_FIELDS_H
#define AWSC_FIELDS_H

#include <stddef.h>
#include "compat.h"

static inline const char *field_opt_string(lua_State *L, int t, const char *k, size_t *len)
{
    const char *s = NULL;
    t = lua_absindex(L, t);
    luaL_checkstack(L, 2, "too many option fields");
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, len);
        return s;                 /* anchored: the string stays on the stack */
    }
    if (!lua_isnil(L, -1))
        luaL_error(L, "field '%s' must be a string, got %s", k, luaL_typename(L, -1));
    if (len) *len = 0;
    lua_pop(L, 1);
    return NULL;
}

static inline const char *field_req_string(lua_State *L, int t, const char *k, size_t *len)
{
    const char *s = field_opt_string(L, t, k, len);
    if (!s) luaL_error(L, "field '%s' is required (a string)", k);
    return s;
}

static inline double field_opt_number(lua_State *L, int t, const char *k, double def)
{
    double v = def;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TNUMBER) v = (double)lua_tonumber(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "field '%s' must be a number, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

static inline int field_opt_bool(lua_State *L, int t, const char *k, int def)
{
    int v = def;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TBOOLEAN) v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "field '%s' must be a boolean, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* A number of seconds as whole milliseconds for libcurl: NaN, negative and
 * zero give 0 (no limit), tiny positive values 1, and anything beyond
 * FIELD_MAX_SECONDS is clamped first, so the cast to long is always
 * defined (1e308 would not be). */
#define FIELD_MAX_SECONDS 2147483.0   /* 2^31 ms: fits a 32-bit long */
static inline long field_seconds_to_ms(double s)
{
    long ms;
    if (!(s > 0)) return 0;
    if (s > FIELD_MAX_SECONDS) s = FIELD_MAX_SECONDS;
    ms = (long)(s * 1000.0 + 0.5);
    return ms > 0 ? ms : 1;
}

static inline void field_set_metatable(lua_State *L, const char *name, lua_CFunction gc)
{
    if (luaL_newmetatable(L, name)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
}

#endif
