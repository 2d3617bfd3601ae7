/*
 * json.h - Lua values <-> JSON text through cJSON.
 *
 * Decoding refuses invalid UTF-8, trailing garbage, NUL bytes (raw or as
 * \u0000: cJSON strings would be cut there) and nesting deeper than
 * JSON_MAX_DEPTH; encoding refuses NaN/inf, invalid UTF-8, non-string keys,
 * cycles (via the depth limit) and functions/userdata. A Lua table is an
 * array when its keys are exactly 1..n (n >= 1), or when it carries a
 * metatable with __jsontype = "array"; otherwise an object, so an empty
 * table encodes as {}. JSON null decodes to the json_null sentinel
 * (a light userdata) which also encodes back to null. Decoded arrays
 * carry a metatable with __jsontype = "array".
 */
#ifndef AWSC_JSON_H
#define AWSC_JSON_H

#include <stddef.h>
#include <lua.h>

#define JSON_MAX_DEPTH 64

/* Pushes the decoded value; on failure pushes nil and an error message
 * and returns 2, else returns 1. Never raises except on out-of-memory. */
int json_decode(lua_State *L, const char *text, size_t len);

/* Encodes the value at idx and pushes the string (returns 1), or pushes
 * nil and a message (returns 2). */
int json_encode(lua_State *L, int idx);

/* 1 when s[0..len) is well-formed UTF-8 (no surrogates, no overlongs). */
int json_utf8_valid(const char *s, size_t len);

#endif
