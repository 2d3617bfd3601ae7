/*
 * compat.h - the few Lua 5.2+ C API pieces core.c and json.c use, for
 * Lua 5.1 and LuaJIT. Each shim is guarded by the name it provides, not by
 * the version number alone (LuaJIT 2.1 has some of them already).
 */
#ifndef AWSC_COMPAT_H
#define AWSC_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502

#ifndef lua_rawlen
#define lua_rawlen(L, i) lua_objlen(L, (i))
#endif

#ifndef LUA_OK
#define LUA_OK 0
#endif

#ifndef luaL_newlibtable
#define luaL_newlibtable(L, l) lua_createtable(L, 0, sizeof(l) / sizeof((l)[0]) - 1)
#endif

/* LuaJIT 2.1 defines luaL_setfuncs/luaL_newlib as functions, not macros, but
 * also defines LUAJIT_VERSION; PUC 5.1 has neither. */
#if !defined(LUAJIT_VERSION)
static inline void awsc_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
#define luaL_setfuncs awsc_setfuncs
#ifndef luaL_newlib
#define luaL_newlib(L, l) (luaL_newlibtable(L, l), luaL_setfuncs(L, l, 0))
#endif
#endif

#ifndef lua_absindex
#define lua_absindex(L, i) (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#endif

static inline void *awsc_testudata(lua_State *L, int ud, const char *tname)
{
    void *p = lua_touserdata(L, ud);
    if (p != NULL && lua_getmetatable(L, ud)) {
        luaL_getmetatable(L, tname);
        if (!lua_rawequal(L, -1, -2)) p = NULL;
        lua_pop(L, 2);
        return p;
    }
    return NULL;
}
#define luaL_testudata awsc_testudata

static inline void awsc_setmetatable(lua_State *L, const char *tname)
{
    luaL_getmetatable(L, tname);
    lua_setmetatable(L, -2);
}
#define luaL_setmetatable awsc_setmetatable

#endif /* LUA_VERSION_NUM < 502 */

#if LUA_VERSION_NUM >= 503
#define AWSC_HAS_INTEGERS 1
#else
#define AWSC_HAS_INTEGERS 0
#endif

#endif
