/*
 * fields.h - reading fields of an options table passed from Lua, for the
 * binding files (core.c, session.c). Each raises a Lua error naming the
 * field when its type is wrong; strings stay valid while the table holds
 * them.
 */
#ifndef AWSC_FIELDS_H
#define AWSC_FIELDS_H

#include <stddef.h>
#include "compat.h"

static inline const char *field_opt_string(lua_State *L, int t, const char *k, size_t *len)
{
    const char *s = NULL;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, len);
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "field '%s' must be a string, got %s", k, luaL_typename(L, -1));
    } else if (len) {
        *len = 0;
    }
    lua_pop(L, 1);   /* the string stays alive: it is referenced by table t */
    return s;
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

static inline void field_set_metatable(lua_State *L, const char *name, lua_CFunction gc)
{
    if (luaL_newmetatable(L, name)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
}

#endif
