/*
 * json.c - Lua values <-> JSON through cJSON (see json.h for the rules).
 *
 * Ownership: every cJSON tree is anchored in a "box" userdata on the Lua
 * stack before it is filled, so an out-of-memory raise from the Lua API
 * frees it through __gc instead of leaking; the normal paths free it and
 * null the box themselves.
 */
#include "json.h"
#include "compat.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_BOX_MT "aws_connect.json_box"
#define JSON_ARRAY_MT "aws_connect.json_array"
#define JSON_ERRLEN 160

typedef struct { cJSON *root; } json_box;

static int json_box_gc(lua_State *L)
{
    json_box *b = lua_touserdata(L, 1);
    if (b && b->root) { cJSON_Delete(b->root); b->root = NULL; }
    return 0;
}

static json_box *json_push_box(lua_State *L)
{
    json_box *b = lua_newuserdata(L, sizeof *b);
    b->root = NULL;
    if (luaL_newmetatable(L, JSON_BOX_MT)) {
        lua_pushcfunction(L, json_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

int json_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= len || (s[i + 1] & 0xC0) != 0x80) return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            unsigned c1;
            if (i + 2 >= len) return 0;
            c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) return 0;
            if (c == 0xE0 && c1 < 0xA0) return 0;      /* overlong */
            if (c == 0xED && c1 >= 0xA0) return 0;     /* surrogate */
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            unsigned c1;
            if (i + 3 >= len) return 0;
            c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80) return 0;
            if (c == 0xF0 && c1 < 0x90) return 0;      /* overlong */
            if (c == 0xF4 && c1 >= 0x90) return 0;     /* > U+10FFFF */
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* ---- decode ------------------------------------------------------------ */

static int json_push_item(lua_State *L, const cJSON *item, int depth,
                          char *err, size_t errlen)
{
    const cJSON *child;
    int n;
    if (depth > JSON_MAX_DEPTH) {
        snprintf(err, errlen, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
        return -1;
    }
    luaL_checkstack(L, 3, "JSON nesting");
    switch (item->type & 0xFF) {
    case cJSON_NULL:
        lua_pushlightuserdata(L, NULL);
        return 0;
    case cJSON_False:
        lua_pushboolean(L, 0);
        return 0;
    case cJSON_True:
        lua_pushboolean(L, 1);
        return 0;
    case cJSON_Number: {
        double d = item->valuedouble;
#if AWSC_HAS_INTEGERS
        if (d == floor(d) && fabs(d) <= 9007199254740992.0) {
            lua_pushinteger(L, (lua_Integer)d);
            return 0;
        }
#endif
        lua_pushnumber(L, (lua_Number)d);
        return 0;
    }
    case cJSON_String: {
        size_t len = strlen(item->valuestring);
        if (!json_utf8_valid(item->valuestring, len)) {
            snprintf(err, errlen, "JSON string is not valid UTF-8");
            return -1;
        }
        lua_pushlstring(L, item->valuestring, len);
        return 0;
    }
    case cJSON_Array:
        n = 0;
        for (child = item->child; child; child = child->next) n++;
        lua_createtable(L, n, 0);
        /* arrays carry the marker json_encode honours, so [] stays [] and
         * callers can tell an empty array from an empty object */
        if (luaL_newmetatable(L, JSON_ARRAY_MT)) {
            lua_pushliteral(L, "array");
            lua_setfield(L, -2, "__jsontype");
        }
        lua_setmetatable(L, -2);
        n = 0;
        for (child = item->child; child; child = child->next) {
            if (json_push_item(L, child, depth + 1, err, errlen)) return -1;
            lua_rawseti(L, -2, ++n);
        }
        return 0;
    case cJSON_Object:
        n = 0;
        for (child = item->child; child; child = child->next) n++;
        lua_createtable(L, 0, n);
        for (child = item->child; child; child = child->next) {
            size_t klen = strlen(child->string);
            if (!json_utf8_valid(child->string, klen)) {
                snprintf(err, errlen, "JSON object key is not valid UTF-8");
                return -1;
            }
            lua_pushlstring(L, child->string, klen);
            if (json_push_item(L, child, depth + 1, err, errlen)) return -1;
            lua_rawset(L, -3);
        }
        return 0;
    default:
        snprintf(err, errlen, "unsupported JSON value");
        return -1;
    }
}

/* 1 when the text holds the escape \u0000 (an odd run of backslashes
 * before "u0000"). */
static int json_has_nul_escape(const char *text, size_t len)
{
    size_t i;
    for (i = 0; i + 6 <= len; i++) {
        if (text[i] == 'u' && i > 0 && text[i - 1] == '\\' && memcmp(text + i, "u0000", 5) == 0) {
            size_t run = 0, j = i;
            while (j > 0 && text[j - 1] == '\\') { run++; j--; }
            if (run % 2 == 1) return 1;
        }
    }
    return 0;
}

int json_decode(lua_State *L, const char *text, size_t len)
{
    char err[JSON_ERRLEN];
    const char *end = NULL;
    json_box *box;
    int top = lua_gettop(L);
    size_t i;

    /* cJSON strings are NUL-terminated: a raw NUL byte (never valid JSON
     * outside a string, and a control character JSON forbids inside one)
     * would cut a string short in silence */
    if (memchr(text, 0, len)) {
        lua_pushnil(L);
        lua_pushstring(L, "JSON text holds a NUL byte");
        return 2;
    }
    /* ... and so would the escape \u0000 */
    if (json_has_nul_escape(text, len)) {
        lua_pushnil(L);
        lua_pushstring(L, "JSON string holds a NUL character (\\u0000), which is not supported");
        return 2;
    }
    box = json_push_box(L);
    box->root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!box->root) {
        size_t at = (end && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
        lua_settop(L, top);
        lua_pushnil(L);
        if (len == 0) lua_pushstring(L, "empty JSON text");
        else lua_pushfstring(L, "invalid JSON near byte %d", (int)at + 1);
        return 2;
    }
    for (i = (size_t)(end - text); i < len; i++) {
        char c = text[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            cJSON_Delete(box->root);
            box->root = NULL;
            lua_settop(L, top);
            lua_pushnil(L);
            lua_pushfstring(L, "trailing data after JSON value at byte %d", (int)i + 1);
            return 2;
        }
    }
    err[0] = '\0';
    if (json_push_item(L, box->root, 1, err, sizeof err)) {
        cJSON_Delete(box->root);
        box->root = NULL;
        lua_settop(L, top);
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    cJSON_Delete(box->root);
    box->root = NULL;
    lua_remove(L, -2);  /* the box */
    return 1;
}

/* ---- encode ------------------------------------------------------------ */

/* Ownership while encoding: every node is attached to its parent (the root
 * to the box) as soon as it is created, before its children are built, so
 * whatever raises mid-way (out of memory in the Lua API) leaves one tree
 * that the box's __gc frees. Metatables and fields are read raw, so no
 * metamethod runs (and none can raise, or free what C points at). */

typedef struct { const char *s; size_t len; } json_key;

static int json_key_cmp(const void *a, const void *b)
{
    const json_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c) return c;
    return x->len < y->len ? -1 : (x->len > y->len);
}

static int json_build(lua_State *L, int idx, int depth, json_box *box, cJSON *parent,
                      const char *key, char *err, size_t errlen);

/* Adds item to parent (an array when key is NULL) or makes it the box's
 * root; deletes it when that fails. */
static int json_attach(json_box *box, cJSON *parent, const char *key, cJSON *item,
                       char *err, size_t errlen)
{
    cJSON_bool ok;
    if (!item) { snprintf(err, errlen, "out of memory"); return -1; }
    if (!parent) { box->root = item; return 0; }
    ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
    if (!ok) {
        cJSON_Delete(item);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* 1: array of n items, 0: object. The metatable's __jsontype is read raw. */
static int json_table_is_array(lua_State *L, int idx, size_t *n_out)
{
    size_t n = 0, count = 0;
    int forced = 0;
    if (lua_getmetatable(L, idx)) {
        lua_pushliteral(L, "__jsontype");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "array") == 0)
            forced = 1;
        lua_pop(L, 2);
    }
    n = lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        lua_pop(L, 1);
    }
    *n_out = n;
    if (forced) return 1;
    if (n == 0 || count != n) return 0;
    return 1;
}

static int json_build_array(lua_State *L, int idx, size_t n, int depth, cJSON *arr,
                            json_box *box, char *err, size_t errlen)
{
    size_t i;
    for (i = 1; i <= n; i++) {
        int rc;
        lua_rawgeti(L, idx, (int)i);
        rc = json_build(L, lua_gettop(L), depth + 1, box, arr, NULL, err, errlen);
        lua_pop(L, 1);
        if (rc) return -1;
    }
    return 0;
}

static int json_build_object(lua_State *L, int idx, int depth, cJSON *obj,
                             json_box *box, char *err, size_t errlen)
{
    json_key *keys;
    size_t count = 0, i;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            snprintf(err, errlen, "cannot encode a table with %s keys as a JSON object",
                     luaL_typename(L, -1));
            lua_pop(L, 1);
            return -1;
        }
        count++;
    }
    if (count == 0) return 0;
    /* the keys are strings of the table, which is on the stack and only
     * read raw; the values are fetched raw again below */
    keys = lua_newuserdata(L, count * sizeof *keys);
    i = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (i < count) {
            keys[i].s = lua_tolstring(L, -1, &keys[i].len);
            i++;
        }
    }
    count = i;
    qsort(keys, count, sizeof *keys, json_key_cmp);
    for (i = 0; i < count; i++) {
        int rc;
        if (!json_utf8_valid(keys[i].s, keys[i].len) || memchr(keys[i].s, 0, keys[i].len)) {
            snprintf(err, errlen, "object key is not valid UTF-8 text");
            lua_pop(L, 1);
            return -1;
        }
        lua_pushlstring(L, keys[i].s, keys[i].len);
        lua_rawget(L, idx);
        /* no embedded NUL (checked above), so the Lua string is a C string */
        rc = json_build(L, lua_gettop(L), depth + 1, box, obj, keys[i].s, err, errlen);
        lua_pop(L, 1);
        if (rc) { lua_pop(L, 1); return -1; }
    }
    lua_pop(L, 1);  /* keys */
    return 0;
}

/* A string holding NUL bytes, as a raw JSON literal (cJSON strings are
 * NUL-terminated; the byte is kept by escaping it). */
static cJSON *json_raw_string(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    size_t i;
    cJSON *item;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { luaL_addchar(&b, '\\'); luaL_addchar(&b, (char)c); }
        else if (c == '\n') luaL_addstring(&b, "\\n");
        else if (c == '\r') luaL_addstring(&b, "\\r");
        else if (c == '\t') luaL_addstring(&b, "\\t");
        else if (c == '\b') luaL_addstring(&b, "\\b");
        else if (c == '\f') luaL_addstring(&b, "\\f");
        else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            luaL_addstring(&b, esc);
        } else luaL_addchar(&b, (char)c);
    }
    luaL_addchar(&b, '"');
    luaL_pushresult(&b);
    item = cJSON_CreateRaw(lua_tostring(L, -1));
    lua_pop(L, 1);
    return item;
}

/* Builds the value at idx and attaches it under parent/key (or as the
 * box's root). 0 on success, -1 with err filled. */
static int json_build(lua_State *L, int idx, int depth, json_box *box, cJSON *parent,
                      const char *key, char *err, size_t errlen)
{
    cJSON *item = NULL;
    if (depth > JSON_MAX_DEPTH) {
        snprintf(err, errlen, "value nested deeper than %d levels (a cycle?)", JSON_MAX_DEPTH);
        return -1;
    }
    luaL_checkstack(L, 6, "JSON nesting");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        item = cJSON_CreateNull();
        break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) != NULL) {
            snprintf(err, errlen, "cannot encode a light userdata");
            return -1;
        }
        item = cJSON_CreateNull();
        break;
    case LUA_TBOOLEAN:
        item = cJSON_CreateBool(lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER: {
#if AWSC_HAS_INTEGERS
        if (lua_isinteger(L, idx)) {
            lua_Integer v = lua_tointeger(L, idx);
            if (v > 9007199254740992LL || v < -9007199254740992LL) {
                char buf[32];
                snprintf(buf, sizeof buf, LUA_INTEGER_FMT, v);
                item = cJSON_CreateRaw(buf);
            } else {
                item = cJSON_CreateNumber((double)v);
            }
            break;
        }
#endif
        {
            double d = (double)lua_tonumber(L, idx);
            if (isnan(d) || isinf(d)) {
                snprintf(err, errlen, "cannot encode %s as JSON", isnan(d) ? "NaN" : "an infinite number");
                return -1;
            }
            item = cJSON_CreateNumber(d);
        }
        break;
    }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (!json_utf8_valid(s, len)) {
            snprintf(err, errlen, "string is not valid UTF-8");
            return -1;
        }
        item = memchr(s, 0, len) ? json_raw_string(L, s, len) : cJSON_CreateString(s);
        break;
    }
    case LUA_TTABLE: {
        size_t n;
        int t = lua_absindex(L, idx);
        int array = json_table_is_array(L, t, &n);
        item = array ? cJSON_CreateArray() : cJSON_CreateObject();
        if (json_attach(box, parent, key, item, err, errlen)) return -1;
        if (array) return json_build_array(L, t, n, depth, item, box, err, errlen);
        return json_build_object(L, t, depth, item, box, err, errlen);
    }
    default:
        snprintf(err, errlen, "cannot encode a %s as JSON", luaL_typename(L, idx));
        return -1;
    }
    return json_attach(box, parent, key, item, err, errlen);
}

int json_encode(lua_State *L, int idx)
{
    char err[JSON_ERRLEN];
    json_box *box;
    char *text;
    idx = lua_absindex(L, idx);
    box = json_push_box(L);
    err[0] = '\0';
    if (json_build(L, idx, 1, box, NULL, NULL, err, sizeof err)) {
        cJSON_Delete(box->root);
        box->root = NULL;
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_pushstring(L, err[0] ? err : "cannot encode value");
        return 2;
    }
    text = cJSON_PrintUnformatted(box->root);
    cJSON_Delete(box->root);
    box->root = NULL;
    lua_pop(L, 1);
    if (!text) return luaL_error(L, "out of memory encoding JSON");
    lua_pushstring(L, text);
    cJSON_free(text);
    return 1;
}
