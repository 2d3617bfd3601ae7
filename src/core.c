/*
 * core.c - aws_connect.core, the only C file that talks to Lua.
 *
 * Exposes: sign (the SigV4 contract in design.md; with lean = true it
 * returns only authorization and amz_date, for the request loop),
 * json_encode/json_decode/null, uuid4, sha256_hex, sha1_hex,
 * write_private/mkdir_private/read_bounded (fs.c), sleep, now, monotonic. The libcurl session is the separate
 * module aws_connect.curl (session.c), so that requiring the core does not
 * map libcurl and the thirty libraries it links. Ownership: every C resource is held
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
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "compat.h"
#include "fields.h"
#include "fs.h"
#include "json.h"
#include "sigv4.h"

#define CORE_SIGV4_MT   "aws_connect.sigv4_ctx"
#define CORE_RESULT_MT  "aws_connect.sigv4_result"

#ifndef AWSC_VERSION
#define AWSC_VERSION "0.1.0"
#endif

#define AWSC_EXPORT __attribute__((visibility("default")))

/* ---- small helpers ----------------------------------------------------- */

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

/* The state's signing context (upvalue 1), created on first use. */
static sigv4_ctx *core_ctx(lua_State *L)
{
    core_sigv4 *c = lua_touserdata(L, lua_upvalueindex(1));
    char err[SIGV4_ERRLEN];
    if (!c->ctx) {
        c->ctx = sigv4_ctx_new(err, sizeof err);
        if (!c->ctx) luaL_error(L, "sign: %s", err);
    }
    return c->ctx;
}

/* Signs req into a result box pushed on the stack (its __gc frees the
 * strings if a later push raises); raises on failure. */
static core_result *core_sign_boxed(lua_State *L, sigv4_ctx *ctx, const sigv4_request *req)
{
    char err[SIGV4_ERRLEN];
    core_result *out = lua_newuserdata(L, sizeof *out);
    memset(out, 0, sizeof *out);
    field_set_metatable(L, CORE_RESULT_MT, core_result_gc);
    if (sigv4_sign(ctx, req, &out->res, err, sizeof err) != 0)
        luaL_error(L, "sign: %s", err);
    out->live = 1;
    return out;
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
    sigv4_ctx *ctx;
    sigv4_request req;
    sigv4_header *hdrs = NULL;
    core_result *out;
    size_t i, n;
    int lean;

    luaL_checktype(L, 1, LUA_TTABLE);
    ctx = core_ctx(L);
    memset(&req, 0, sizeof req);
    lean = field_opt_bool(L, 1, "lean", 0);
    req.method = field_req_string(L, 1, "method", NULL);
    req.path = field_opt_string(L, 1, "path", &req.path_len);
    if (!req.path) { req.path = "/"; req.path_len = 1; }
    req.query = field_opt_string(L, 1, "query", &req.query_len);
    if (!req.query) { req.query = ""; req.query_len = 0; }
    req.body = field_opt_string(L, 1, "body", &req.body_len);
    req.region = field_req_string(L, 1, "region", NULL);
    req.service = field_req_string(L, 1, "service", NULL);
    req.access_key_id = field_req_string(L, 1, "access_key_id", NULL);
    req.secret_access_key = field_req_string(L, 1, "secret_access_key", &req.secret_len);
    req.session_token = field_opt_string(L, 1, "session_token", &req.session_token_len);
    {
        /* absent: now; otherwise 0 .. 9999-12-31T23:59:59Z (the cast is
         * only reached inside that range) */
        int given;
        double t;
        lua_getfield(L, 1, "time");
        given = !lua_isnil(L, -1);
        lua_pop(L, 1);
        t = field_opt_number(L, 1, "time", -1);
        if (!given) req.time = (int64_t)time(NULL);
        else if (!(t >= 0 && t <= 253402300799.0))
            return luaL_error(L, "sign: time out of range (0 to 253402300799 epoch seconds)");
        else req.time = (int64_t)t;
    }

    lua_getfield(L, 1, "headers");
    if (!lua_isnil(L, -1)) {
        int ht = lua_gettop(L);
        luaL_argcheck(L, lua_type(L, ht) == LUA_TTABLE, 1, "headers must be a list of {name, value}");
        n = lua_rawlen(L, ht);
        if (n > 0) {
            int anchor;
            if (n > 100000) return luaL_error(L, "sign: more than 100000 headers");
            hdrs = lua_newuserdata(L, n * sizeof *hdrs);  /* GC-owned scratch */
            /* every name and value is anchored here while C holds its
             * pointer: a finalizer running during a later allocation could
             * otherwise change the caller's tables and free them */
            lua_createtable(L, (int)(2 * n), 0);
            anchor = lua_gettop(L);
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
                lua_rawseti(L, anchor, (int)(2 * i + 2));
                lua_rawseti(L, anchor, (int)(2 * i + 1));
                lua_pop(L, 1);  /* the pair */
            }
            req.headers = hdrs;
            req.nheaders = n;
        }
    }

    out = core_sign_boxed(L, ctx, &req);
    if (lean) {
        /* the request loop's form: two strings, no result table */
        lua_pushstring(L, out->res.authorization);
        lua_pushstring(L, out->res.amz_date);
        sigv4_result_free(&out->res);
        out->live = 0;
        return 2;
    }
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

/* core.sha1_hex(s) -> 40 lower-case hex digits (the AWS CLI's cache file
 * names are SHA-1 of a JSON text; not used for anything secret). */
static int core_sha1_hex(lua_State *L)
{
    size_t len, i;
    const char *s = luaL_checklstring(L, 1, &len);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    static const char digits[] = "0123456789abcdef";
    if (EVP_Digest(s, len, d, &dl, EVP_sha1(), NULL) != 1 || dl != 20) {
        ERR_clear_error();
        return luaL_error(L, "sha1 failed");
    }
    for (i = 0; i < dl; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    lua_pushlstring(L, hex, 2 * (size_t)dl);
    return 1;
}

/* ---- private files for the credential caches (fs.c) ------------------- */

static int core_fs_fail(lua_State *L, const char *kind, const char *msg)
{
    lua_pushnil(L);
    lua_pushstring(L, kind);
    lua_pushstring(L, msg);
    return 3;
}

static const char *core_fs_path(lua_State *L, int idx)
{
    size_t len;
    const char *p = luaL_checklstring(L, idx, &len);
    return (len == 0 || strlen(p) != len) ? NULL : p;   /* no NUL inside */
}

/* core.write_private(path, data) -> true | nil, "error", message: mode 0600,
 * atomically (temporary file in the same folder, then rename). */
static int core_write_private(lua_State *L)
{
    size_t dlen;
    const char *path = core_fs_path(L, 1);
    const char *data = luaL_checklstring(L, 2, &dlen);
    char err[256];
    if (!path) return core_fs_fail(L, "error", "bad path");
    if (fs_write_private(path, data, dlen, err, sizeof err) != FS_OK) return core_fs_fail(L, "error", err);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.mkdir_private(path) -> true | nil, "error", message (mode 0700,
 * parents too). */
static int core_mkdir_private(lua_State *L)
{
    const char *path = core_fs_path(L, 1);
    char err[256];
    if (!path) return core_fs_fail(L, "error", "bad path");
    if (fs_mkdir_private(path, err, sizeof err) != FS_OK) return core_fs_fail(L, "error", err);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.read_bounded(path, max) -> data | nil, kind, message; kind is
 * "missing", "too_large", "not_file" (folder, FIFO, device) or "error". */
static int core_read_bounded(lua_State *L)
{
    const char *path = core_fs_path(L, 1);
    lua_Integer max = luaL_checkinteger(L, 2);
    char err[256], *buf;
    size_t len = 0;
    int rc;
    if (!path) return core_fs_fail(L, "error", "bad path");
    if (max < 0 || max > 16 * 1024 * 1024) return luaL_argerror(L, 2, "from 0 to 16 MiB");
    buf = lua_newuserdata(L, (size_t)max + 1);   /* collected with the state: nothing to free */
    rc = fs_read_bounded(path, buf, (size_t)max, &len, err, sizeof err);
    if (rc == FS_OK) {
        lua_pushlstring(L, buf, len);
        return 1;
    }
    return core_fs_fail(L, rc == FS_MISSING ? "missing" : rc == FS_TOO_LARGE ? "too_large"
                        : rc == FS_NOT_FILE ? "not_file" : "error", err);
}

static int core_sha256_hex(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[65];
    sigv4_ctx *ctx = core_ctx(L);
    if (sigv4_sha256_hex(ctx, s, len, hex) != 0)
        return luaL_error(L, "sha256 failed");
    lua_pushlstring(L, hex, 64);
    return 1;
}

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
    {"json_encode", core_json_encode},
    {"json_decode", core_json_decode},
    {"utf8_valid", core_utf8_valid},
    {"random_bytes", core_random_bytes},
    {"sha1_hex", core_sha1_hex},
    {"write_private", core_write_private},
    {"mkdir_private", core_mkdir_private},
    {"read_bounded", core_read_bounded},
    {"sleep", core_sleep},
    {"now", core_now},
    {"monotonic", core_monotonic},
    {NULL, NULL}
};

static const luaL_Reg core_sigv4_funcs[] = {
    {"sign", core_sign},
    {"sha256_hex", core_sha256_hex},
    {NULL, NULL}
};

AWSC_EXPORT int luaopen_aws_connect_core(lua_State *L)
{
    core_sigv4 *c;

    luaL_newlib(L, core_funcs);

    /* one lazily created signing context per Lua state, shared by upvalue */
    c = lua_newuserdata(L, sizeof *c);
    c->ctx = NULL;
    field_set_metatable(L, CORE_SIGV4_MT, core_sigv4_gc);
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
