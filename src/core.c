/*
 * core.c - aws_connect.core, the only C file that talks to Lua.
 *
 * Exposes: sign (the SigV4 contract in design.md), session (one libcurl
 * keep-alive handle per client), json_encode/json_decode/null, uuid4,
 * sha256_hex, sleep, now, monotonic. Ownership: every C resource is held
 * by a userdata with a __gc (anchored before it is allocated), so a Lua
 * error can never leak it; no C function raises while libcurl or OpenSSL
 * frames are on the stack.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "compat.h"
#include "http.h"
#include "json.h"
#include "sigv4.h"

#define CORE_SIGV4_MT   "aws_connect.sigv4_ctx"
#define CORE_RESULT_MT  "aws_connect.sigv4_result"
#define CORE_SESSION_MT "aws_connect.session"
#define CORE_RESP_MT    "aws_connect.http_response"

#ifndef AWSC_VERSION
#define AWSC_VERSION "0.1.0"
#endif

#define AWSC_EXPORT __attribute__((visibility("default")))

/* ---- small helpers ----------------------------------------------------- */

static const char *core_opt_string(lua_State *L, int t, const char *k, size_t *len)
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

static const char *core_req_string(lua_State *L, int t, const char *k, size_t *len)
{
    const char *s = core_opt_string(L, t, k, len);
    if (!s) luaL_error(L, "field '%s' is required (a string)", k);
    return s;
}

static double core_opt_number(lua_State *L, int t, const char *k, double def)
{
    double v = def;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TNUMBER) v = (double)lua_tonumber(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "field '%s' must be a number, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

static int core_opt_bool(lua_State *L, int t, const char *k, int def)
{
    int v = def;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TBOOLEAN) v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "field '%s' must be a boolean, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

static void core_set_metatable(lua_State *L, const char *name, lua_CFunction gc)
{
    if (luaL_newmetatable(L, name)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
}

/* ---- sign -------------------------------------------------------------- */

typedef struct { sigv4_ctx *ctx; } core_sigv4;
typedef struct { sigv4_result res; int live; } core_result;

static int core_sigv4_gc(lua_State *L)
{
    core_sigv4 *c = lua_touserdata(L, 1);
    if (c && c->ctx) { sigv4_ctx_free(c->ctx); c->ctx = NULL; }
    return 0;
}

static int core_result_gc(lua_State *L)
{
    core_result *r = lua_touserdata(L, 1);
    if (r && r->live) { sigv4_result_free(&r->res); r->live = 0; }
    return 0;
}

static void core_set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v ? v : "");
    lua_setfield(L, -2, k);
}

/* An HTTP field name (RFC 9110 token): visible ASCII except separators. */
static int core_header_name_ok(const char *s, size_t n)
{
    size_t i;
    if (n == 0) return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || strchr("\"(),/:;<=>?@[\\]{}", c)) return 0;
    }
    return 1;
}

static int core_sign(lua_State *L)
{
    core_sigv4 *c = lua_touserdata(L, lua_upvalueindex(1));
    sigv4_request req;
    sigv4_header *hdrs = NULL;
    core_result *out;
    char err[SIGV4_ERRLEN];
    size_t i, n;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!c->ctx) {
        c->ctx = sigv4_ctx_new(err, sizeof err);
        if (!c->ctx) return luaL_error(L, "sign: %s", err);
    }
    memset(&req, 0, sizeof req);
    req.method = core_req_string(L, 1, "method", NULL);
    req.path = core_opt_string(L, 1, "path", &req.path_len);
    if (!req.path) { req.path = "/"; req.path_len = 1; }
    req.query = core_opt_string(L, 1, "query", &req.query_len);
    if (!req.query) { req.query = ""; req.query_len = 0; }
    req.body = core_opt_string(L, 1, "body", &req.body_len);
    req.region = core_req_string(L, 1, "region", NULL);
    req.service = core_req_string(L, 1, "service", NULL);
    req.access_key_id = core_req_string(L, 1, "access_key_id", NULL);
    req.secret_access_key = core_req_string(L, 1, "secret_access_key", &req.secret_len);
    req.session_token = core_opt_string(L, 1, "session_token", &req.session_token_len);
    {
        double t = core_opt_number(L, 1, "time", -1);
        if (t != t || t > 253402300799.0)
            return luaL_error(L, "sign: time out of range");
        req.time = t < 0 ? (int64_t)time(NULL) : (int64_t)t;
    }

    lua_getfield(L, 1, "headers");
    if (!lua_isnil(L, -1)) {
        int ht = lua_gettop(L);
        luaL_argcheck(L, lua_type(L, ht) == LUA_TTABLE, 1, "headers must be a list of {name, value}");
        n = lua_rawlen(L, ht);
        if (n > 0) {
            hdrs = lua_newuserdata(L, n * sizeof *hdrs);  /* GC-owned scratch */
            for (i = 0; i < n; i++) {
                lua_rawgeti(L, ht, (int)i + 1);
                if (lua_type(L, -1) != LUA_TTABLE)
                    return luaL_error(L, "sign: headers[%d] must be a {name, value} pair", (int)i + 1);
                lua_rawgeti(L, -1, 1);
                lua_rawgeti(L, -2, 2);
                if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                    return luaL_error(L, "sign: headers[%d] must hold two strings", (int)i + 1);
                hdrs[i].name = lua_tolstring(L, -2, &hdrs[i].name_len);
                hdrs[i].value = lua_tolstring(L, -1, &hdrs[i].value_len);
                if (!core_header_name_ok(hdrs[i].name, hdrs[i].name_len))
                    return luaL_error(L, "sign: headers[%d] has an invalid header name", (int)i + 1);
                if (memchr(hdrs[i].value, 0, hdrs[i].value_len))
                    return luaL_error(L, "sign: headers[%d] contains a NUL byte", (int)i + 1);
                lua_pop(L, 3);  /* strings stay referenced by the header pair */
            }
            req.headers = hdrs;
            req.nheaders = n;
        }
    }

    out = lua_newuserdata(L, sizeof *out);
    memset(out, 0, sizeof *out);
    core_set_metatable(L, CORE_RESULT_MT, core_result_gc);
    if (sigv4_sign(c->ctx, &req, &out->res, err, sizeof err) != 0)
        return luaL_error(L, "sign: %s", err);
    out->live = 1;

    lua_createtable(L, 0, 6);
    core_set_str(L, "authorization", out->res.authorization);
    core_set_str(L, "amz_date", out->res.amz_date);
    core_set_str(L, "signature", out->res.signature);
    core_set_str(L, "signed_headers", out->res.signed_headers);
    core_set_str(L, "canonical_request", out->res.canonical_request);
    core_set_str(L, "string_to_sign", out->res.string_to_sign);
    sigv4_result_free(&out->res);
    out->live = 0;
    return 1;
}

/* core.authorize(method, path, query, host, content_type, body, region,
 *                service, access_key_id, secret, session_token, time)
 *   -> authorization, amz_date
 * The request loop's lean form of sign(): positional arguments and two
 * results, no tables; the same signer and rules. content_type and
 * session_token may be nil. */
static int core_authorize(lua_State *L)
{
    core_sigv4 *c = lua_touserdata(L, lua_upvalueindex(1));
    sigv4_request req;
    sigv4_header hdrs[2];
    core_result *out;
    char err[SIGV4_ERRLEN];
    double t;

    if (!c->ctx) {
        c->ctx = sigv4_ctx_new(err, sizeof err);
        if (!c->ctx) return luaL_error(L, "sign: %s", err);
    }
    memset(&req, 0, sizeof req);
    req.method = luaL_checkstring(L, 1);
    req.path = luaL_checklstring(L, 2, &req.path_len);
    req.query = luaL_checklstring(L, 3, &req.query_len);
    hdrs[0].name = "Host"; hdrs[0].name_len = 4;
    hdrs[0].value = luaL_checklstring(L, 4, &hdrs[0].value_len);
    req.headers = hdrs;
    req.nheaders = 1;
    if (!lua_isnoneornil(L, 5)) {
        hdrs[1].name = "Content-Type"; hdrs[1].name_len = 12;
        hdrs[1].value = luaL_checklstring(L, 5, &hdrs[1].value_len);
        req.nheaders = 2;
    }
    req.body = luaL_optlstring(L, 6, "", &req.body_len);
    req.region = luaL_checkstring(L, 7);
    req.service = luaL_checkstring(L, 8);
    req.access_key_id = luaL_checkstring(L, 9);
    req.secret_access_key = luaL_checklstring(L, 10, &req.secret_len);
    req.session_token = luaL_optlstring(L, 11, NULL, &req.session_token_len);
    t = (double)luaL_checknumber(L, 12);
    if (t != t || t < 0 || t > 253402300799.0) return luaL_error(L, "sign: time out of range");
    req.time = (int64_t)t;
    if (memchr(hdrs[0].value, 0, hdrs[0].value_len) ||
        (req.nheaders == 2 && memchr(hdrs[1].value, 0, hdrs[1].value_len)))
        return luaL_error(L, "sign: a header contains a NUL byte");

    out = lua_newuserdata(L, sizeof *out);
    memset(out, 0, sizeof *out);
    core_set_metatable(L, CORE_RESULT_MT, core_result_gc);
    if (sigv4_sign(c->ctx, &req, &out->res, err, sizeof err) != 0)
        return luaL_error(L, "sign: %s", err);
    out->live = 1;
    lua_pushstring(L, out->res.authorization);
    lua_pushstring(L, out->res.amz_date);
    sigv4_result_free(&out->res);
    out->live = 0;
    return 2;
}

static int core_sha256_hex(lua_State *L)
{
    core_sigv4 *c = lua_touserdata(L, lua_upvalueindex(1));
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char err[SIGV4_ERRLEN], hex[65];
    if (!c->ctx) {
        c->ctx = sigv4_ctx_new(err, sizeof err);
        if (!c->ctx) return luaL_error(L, "sha256: %s", err);
    }
    if (sigv4_sha256_hex(c->ctx, s, len, hex) != 0)
        return luaL_error(L, "sha256 failed");
    lua_pushlstring(L, hex, 64);
    return 1;
}

/* ---- HTTP session ------------------------------------------------------- */

typedef struct { http_session *s; } core_session;
typedef struct { http_response res; } core_resp;

static int core_session_close(lua_State *L)
{
    core_session *cs = luaL_checkudata(L, 1, CORE_SESSION_MT);
    if (cs->s) { http_session_free(cs->s); cs->s = NULL; }
    return 0;
}

static int core_resp_gc(lua_State *L)
{
    core_resp *r = lua_touserdata(L, 1);
    if (r) http_response_free(&r->res);
    return 0;
}

static int core_session_new(lua_State *L)
{
    char err[HTTP_ERRLEN];
    core_session *cs = lua_newuserdata(L, sizeof *cs);
    cs->s = NULL;
    luaL_setmetatable(L, CORE_SESSION_MT);   /* anchored before allocating */
    cs->s = http_session_new(err, sizeof err);
    if (!cs->s) return luaL_error(L, "session: %s", err);
    return 1;
}

static int core_has_crlf(const char *s, size_t n)
{
    return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL || memchr(s, '\0', n) != NULL;
}

/* session:request{ method, url, headers = {{n,v},...}, body, connect_timeout,
 *                  timeout, verify_tls, ca_file, proxy, max_body }
 * -> { status, reason, headers = {{n,v},...}, body, new_connections, time }
 * or nil, kind, message   (kind: connect|timeout|tls|recv|protocol|too_large|usage|nomem|other) */
static int core_session_request(lua_State *L)
{
    core_session *cs = luaL_checkudata(L, 1, CORE_SESSION_MT);
    http_request req;
    const char **lines = NULL;
    core_resp *out;
    char err[HTTP_ERRLEN];
    http_error kind;
    size_t i, n = 0, url_len;
    double ct, to, mb;

    luaL_checktype(L, 2, LUA_TTABLE);
    if (!cs->s) return luaL_error(L, "session is closed");
    memset(&req, 0, sizeof req);
    req.method = core_req_string(L, 2, "method", NULL);
    req.url = core_req_string(L, 2, "url", &url_len);
    if (core_has_crlf(req.url, url_len))
        return luaL_error(L, "url contains a control character");
    req.body = core_opt_string(L, 2, "body", &req.body_len);
    ct = core_opt_number(L, 2, "connect_timeout", 0);
    to = core_opt_number(L, 2, "timeout", 0);
    mb = core_opt_number(L, 2, "max_body", 0);
    req.connect_timeout_ms = ct > 0 ? (long)(ct * 1000.0 + 0.5) : 0;
    req.timeout_ms = to > 0 ? (long)(to * 1000.0 + 0.5) : 0;
    if (ct > 0 && req.connect_timeout_ms == 0) req.connect_timeout_ms = 1;
    if (to > 0 && req.timeout_ms == 0) req.timeout_ms = 1;
    if (mb != mb || mb > 2147483648.0) mb = 2147483648.0;   /* no UB on huge values */
    req.max_body = mb > 0 ? (size_t)mb : 0;
    req.verify_tls = core_opt_bool(L, 2, "verify_tls", 1);
    req.ca_file = core_opt_string(L, 2, "ca_file", NULL);
    req.proxy = core_opt_string(L, 2, "proxy", NULL);

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
            if (nl == 0 || core_has_crlf(nm, nl) || core_has_crlf(v, vl) || memchr(nm, ':', nl))
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
    core_set_metatable(L, CORE_RESP_MT, core_resp_gc);
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

static int core_session_discard(lua_State *L)
{
    core_session *cs = luaL_checkudata(L, 1, CORE_SESSION_MT);
    char err[HTTP_ERRLEN];
    if (cs->s && http_session_discard(cs->s, err, sizeof err) != 0)
        return luaL_error(L, "session: %s", err);
    return 0;
}

static int core_session_tostring(lua_State *L)
{
    core_session *cs = luaL_checkudata(L, 1, CORE_SESSION_MT);
    lua_pushfstring(L, "aws_connect.session (%s)", cs->s ? "open" : "closed");
    return 1;
}

static const luaL_Reg core_session_methods[] = {
    {"request", core_session_request},
    {"discard", core_session_discard},
    {"close", core_session_close},
    {NULL, NULL}
};

static const luaL_Reg core_session_meta[] = {
    {"__gc", core_session_close},
    {"__close", core_session_close},
    {"__tostring", core_session_tostring},
    {NULL, NULL}
};

/* ---- JSON, UUID, time -------------------------------------------------- */

static int core_json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    return json_encode(L, 1);
}

static int core_json_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    return json_decode(L, s, len);
}

static int core_utf8_valid(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_pushboolean(L, json_utf8_valid(s, len));
    return 1;
}

/* Random bytes for UUIDs are drawn from OpenSSL in blocks: one RAND_bytes
 * call per 32 UUIDs instead of one each. The block is tagged with the pid
 * so a process forked after filling it (nginx workers) never reuses it. */
typedef struct {
    pid_t pid;
    size_t pos;
    unsigned char buf[512];
} core_rand_pool;

static int core_pool_take(core_rand_pool *pool, unsigned char *out, size_t n)
{
    pid_t pid = getpid();
    if (pool->pid != pid || pool->pos + n > sizeof pool->buf) {
        if (RAND_bytes(pool->buf, (int)sizeof pool->buf) != 1) {
            ERR_clear_error();
            pool->pos = sizeof pool->buf;
            return -1;
        }
        pool->pid = pid;
        pool->pos = 0;
    }
    memcpy(out, pool->buf + pool->pos, n);
    OPENSSL_cleanse(pool->buf + pool->pos, n);
    pool->pos += n;
    return 0;
}

static int core_uuid4(lua_State *L)
{
    core_rand_pool *pool = lua_touserdata(L, lua_upvalueindex(1));
    unsigned char b[16];
    char out[37];
    static const char hex[] = "0123456789abcdef";
    int i, o = 0;
    if (core_pool_take(pool, b, sizeof b) != 0)
        return luaL_error(L, "uuid4: RAND_bytes failed");
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    lua_pushlstring(L, out, 36);
    return 1;
}

static int core_random_bytes(lua_State *L)
{
    unsigned char buf[256];
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= (lua_Integer)sizeof buf, 1, "0..256 bytes");
    if (RAND_bytes(buf, (int)n) != 1) {
        ERR_clear_error();
        return luaL_error(L, "RAND_bytes failed");
    }
    lua_pushlstring(L, (const char *)buf, (size_t)n);
    return 1;
}

static int core_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    struct timespec req, rem;
    if (!(s > 0)) return 0;
    if (s > 86400.0 * 365) s = 86400.0 * 365;
    req.tv_sec = (time_t)s;
    req.tv_nsec = (long)((s - (double)req.tv_sec) * 1e9);
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
    return 0;
}

static int core_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static int core_monotonic(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static const luaL_Reg core_funcs[] = {
    {"session", core_session_new},
    {"json_encode", core_json_encode},
    {"json_decode", core_json_decode},
    {"utf8_valid", core_utf8_valid},
    {"random_bytes", core_random_bytes},
    {"sleep", core_sleep},
    {"now", core_now},
    {"monotonic", core_monotonic},
    {NULL, NULL}
};

static const luaL_Reg core_sigv4_funcs[] = {
    {"sign", core_sign},
    {"authorize", core_authorize},
    {"sha256_hex", core_sha256_hex},
    {NULL, NULL}
};

AWSC_EXPORT int luaopen_aws_connect_core(lua_State *L)
{
    core_sigv4 *c;

    if (luaL_newmetatable(L, CORE_SESSION_MT)) {
        luaL_setfuncs(L, core_session_meta, 0);
        luaL_newlib(L, core_session_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);

    luaL_newlib(L, core_funcs);

    /* one lazily created signing context per Lua state, shared by upvalue */
    c = lua_newuserdata(L, sizeof *c);
    c->ctx = NULL;
    core_set_metatable(L, CORE_SIGV4_MT, core_sigv4_gc);
    luaL_setfuncs(L, core_sigv4_funcs, 1);

    {
        core_rand_pool *pool = lua_newuserdata(L, sizeof *pool);
        memset(pool, 0, sizeof *pool);
        pool->pos = sizeof pool->buf;   /* empty: filled on first use */
        lua_pushcclosure(L, core_uuid4, 1);
        lua_setfield(L, -2, "uuid4");
    }

    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_pushliteral(L, AWSC_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}
