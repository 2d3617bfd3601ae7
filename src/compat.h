/*
 * compat.h - lets core.c and json.c code against the Lua 5.3 C API and
 * still build for Lua 5.1, 5.3, 5.4 and LuaJIT 2.1 (OpenResty's luajit2).
 *
 * Each shim is guarded by the name it provides where that name can be a
 * macro (#ifndef), not by the version number alone: LuaJIT 2.1 has
 * luaL_newlib (a macro) and luaL_setfuncs/luaL_setmetatable/luaL_testudata
 * (functions), PUC 5.1 has none of them, neither has lua_rawlen or
 * lua_absindex. Functions cannot be tested for with the preprocessor, so on
 * the 5.1 ABI the names are mapped to our own static versions, which behave
 * the same on both. One build per Lua ABI; liblua is never linked in.
 */
#ifndef AWSC_COMPAT_H
#define AWSC_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502

#ifndef LUA_OK
#define LUA_OK 0
#endif

#ifndef lua_rawlen
#define lua_rawlen(L, i) lua_objlen(L, (i))
#endif

#ifndef lua_absindex
#define lua_absindex(L, i) \
    (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#endif

#ifndef luaL_newlibtable
#define luaL_newlibtable(L, l) lua_createtable(L, 0, sizeof(l) / sizeof((l)[0]) - 1)
#endif

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
#undef luaL_setfuncs
#define luaL_setfuncs awsc_setfuncs

#ifndef luaL_newlib
#define luaL_newlib(L, l) (luaL_newlibtable(L, l), luaL_setfuncs(L, l, 0))
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
#undef luaL_testudata
#define luaL_testudata awsc_testudata

static inline void awsc_setmetatable(lua_State *L, const char *tname)
{
    luaL_getmetatable(L, tname);
    lua_setmetatable(L, -2);
}
#undef luaL_setmetatable
#define luaL_setmetatable awsc_setmetatable

#endif /* LUA_VERSION_NUM < 502 */

/* 5.3+ has a separate integer subtype (lua_isinteger); 5.1/LuaJIT do not. */
#if LUA_VERSION_NUM >= 503
#define AWSC_HAS_INTEGERS 1
#else
#define AWSC_HAS_INTEGERS 0
#endif

#endif
