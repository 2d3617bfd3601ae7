/*
 * session.c - aws_connect.curl, the Lua binding of the libcurl session
 * (http.c): one keep-alive handle per transport object. It is a module of
 * its own so that libcurl, and the thirty libraries it links, are mapped
 * only when the curl transport first sends, not by require("aws_connect").
 * Ownership as in core.c: the handle lives in a userdata with __gc,
 * anchored before it is allocated; responses are copied into Lua before
 * the C buffers are freed; nothing raises while libcurl is on the stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "fields.h"
#include "http.h"

#define SESSION_MT      "aws_connect.session"
#define SESSION_RESP_MT "aws_connect.http_response"

#define AWSC_EXPORT __attribute__((visibility("default")))


typedef struct { http_session *s; } session_handle;
typedef struct { http_response res; } session_resp;

static int session_close(lua_State *L)
{
    session_handle *cs = luaL_checkudata(L, 1, SESSION_MT);
    if (cs->s) { http_session_free(cs->s); cs->s = NULL; }
    return 0;
}

static int session_resp_gc(lua_State *L)
{
    session_resp *r = lua_touserdata(L, 1);
    if (r) http_response_free(&r->res);
    return 0;
}

static int session_new(lua_State *L)
{
    char err[HTTP_ERRLEN];
    session_handle *cs = lua_newuserdata(L, sizeof *cs);
    cs->s = NULL;
    luaL_setmetatable(L, SESSION_MT);   /* anchored before allocating */
    cs->s = http_session_new(err, sizeof err);
    if (!cs->s) return luaL_error(L, "session: %s", err);
    return 1;
}

/* An HTTP method is a token (RFC 9110): visible ASCII, no separators. */
static int session_method_ok(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || n > 32) return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || strchr("\"(),/:;<=>?@[\\]{}", c)) return 0;
    }
    return 1;
}

static int session_has_crlf(const char *s, size_t n)
{
    return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL || memchr(s, '\0', n) != NULL;
}

/* session:request{ method, url, headers = {{n,v},...}, body, connect_timeout,
 *                  timeout, verify_tls, ca_file, proxy, max_body }
 * -> { status, reason, headers = {{n,v},...}, body, new_connections, time }
 * or nil, kind, message   (kind: connect|timeout|tls|recv|protocol|too_large|usage|nomem|other) */
static int session_request(lua_State *L)
{
    session_handle *cs = luaL_checkudata(L, 1, SESSION_MT);
    http_request req;
    const char **lines = NULL;
    session_resp *out;
    char err[HTTP_ERRLEN];
    http_error kind;
    size_t i, n = 0, url_len, method_len, opt_len;
    double ct, to, mb;

    luaL_checktype(L, 2, LUA_TTABLE);
    if (!cs->s) return luaL_error(L, "session is closed");
    memset(&req, 0, sizeof req);
    /* strings read below stay on the stack (fields.h): a proxy table's
     * __index may build them, and a collection in the next __index must not
     * free one that C still points at */
    req.method = field_req_string(L, 2, "method", &method_len);
    if (!session_method_ok(req.method, method_len))
        return luaL_error(L, "method must be an HTTP token (no blanks or control characters)");
    req.url = field_req_string(L, 2, "url", &url_len);
    if (session_has_crlf(req.url, url_len))
        return luaL_error(L, "url contains a control character");
    req.body = field_opt_string(L, 2, "body", &req.body_len);
    ct = field_opt_number(L, 2, "connect_timeout", 0);
    to = field_opt_number(L, 2, "timeout", 0);
    mb = field_opt_number(L, 2, "max_body", 0);
    req.connect_timeout_ms = field_seconds_to_ms(ct);   /* clamped: no UB on 1e308 */
    req.timeout_ms = field_seconds_to_ms(to);
    if (mb != mb || mb > 2147483648.0) mb = 2147483648.0;   /* no UB on huge values */
    req.max_body = mb > 0 ? (size_t)mb : 0;
    req.verify_tls = field_opt_bool(L, 2, "verify_tls", 1);
    req.ca_file = field_opt_string(L, 2, "ca_file", &opt_len);
    if (req.ca_file && memchr(req.ca_file, 0, opt_len))
        return luaL_error(L, "ca_file contains a NUL byte");
    req.proxy = field_opt_string(L, 2, "proxy", &opt_len);
    if (req.proxy && session_has_crlf(req.proxy, opt_len))
        return luaL_error(L, "proxy contains a control character");

    lua_getfield(L, 2, "headers");
    if (!lua_isnil(L, -1)) {
        int ht = lua_gettop(L), base;
        luaL_argcheck(L, lua_type(L, ht) == LUA_TTABLE, 2, "headers must be a list of {name, value}");
        n = lua_rawlen(L, ht);
        lines = lua_newuserdata(L, (n ? n : 1) * sizeof *lines);
        lua_createtable(L, (int)n, 0);   /* anchors the formatted lines */
        base = lua_gettop(L);
        for (i = 0; i < n; i++) {
            size_t nl, vl;
            const char *nm, *v;
            lua_rawgeti(L, ht, (int)i + 1);
            if (lua_type(L, -1) != LUA_TTABLE)
                return luaL_error(L, "headers[%d] must be a {name, value} pair", (int)i + 1);
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            nm = lua_tolstring(L, -2, &nl);
            v = lua_tolstring(L, -1, &vl);
            if (!nm || !v || lua_type(L, -2) != LUA_TSTRING)
                return luaL_error(L, "headers[%d] must hold a name and a value", (int)i + 1);
            if (nl == 0 || session_has_crlf(nm, nl) || session_has_crlf(v, vl) || memchr(nm, ':', nl))
                return luaL_error(L, "header %s contains a control character", nl ? "value" : "name");
            lua_pushfstring(L, vl ? "%s: %s" : "%s;", nm, v);
            lines[i] = lua_tostring(L, -1);
            lua_rawseti(L, base, (int)i + 1);
            lua_pop(L, 3);
        }
        req.headers = lines;
        req.nheaders = n;
    }

    out = lua_newuserdata(L, sizeof *out);
    memset(out, 0, sizeof *out);
    field_set_metatable(L, SESSION_RESP_MT, session_resp_gc);
    err[0] = '\0';
    kind = http_perform(cs->s, &req, &out->res, err, sizeof err);
    if (kind != HTTP_OK) {
        http_response_free(&out->res);
        lua_pushnil(L);
        lua_pushstring(L, http_error_name(kind));
        lua_pushstring(L, err);
        return 3;
    }
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, (lua_Integer)out->res.status);
    lua_setfield(L, -2, "status");
    lua_pushstring(L, out->res.reason ? out->res.reason : "");
    lua_setfield(L, -2, "reason");
    lua_createtable(L, (int)out->res.nheaders, 0);
    for (i = 0; i < out->res.nheaders; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, out->res.headers[i].name);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, out->res.headers[i].value);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, out->res.body ? out->res.body : "", out->res.body_len);
    lua_setfield(L, -2, "body");
    lua_pushinteger(L, (lua_Integer)out->res.new_connections);
    lua_setfield(L, -2, "new_connections");
    lua_pushnumber(L, (lua_Number)out->res.total_time);
    lua_setfield(L, -2, "time");
    http_response_free(&out->res);
    return 1;
}

static int session_discard(lua_State *L)
{
    session_handle *cs = luaL_checkudata(L, 1, SESSION_MT);
    char err[HTTP_ERRLEN];
    if (cs->s && http_session_discard(cs->s, err, sizeof err) != 0)
        return luaL_error(L, "session: %s", err);
    return 0;
}

static int session_tostring(lua_State *L)
{
    session_handle *cs = luaL_checkudata(L, 1, SESSION_MT);
    lua_pushfstring(L, "aws_connect.session (%s)", cs->s ? "open" : "closed");
    return 1;
}

static const luaL_Reg session_methods[] = {
    {"request", session_request},
    {"discard", session_discard},
    {"close", session_close},
    {NULL, NULL}
};

static const luaL_Reg session_meta[] = {
    {"__gc", session_close},
    {"__close", session_close},
    {"__tostring", session_tostring},
    {NULL, NULL}
};

static const luaL_Reg session_funcs[] = {
    {"session", session_new},
    {NULL, NULL}
};

AWSC_EXPORT int luaopen_aws_connect_curl(lua_State *L)
{
    if (luaL_newmetatable(L, SESSION_MT)) {
        luaL_setfuncs(L, session_meta, 0);
        luaL_newlib(L, session_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, session_funcs);
    return 1;
}
