/*
 * fuzz_sigv4.c - libFuzzer harness for the SigV4 canonicalisation
 * (src/sigv4.h): canonical path, canonical query, and whole signatures
 * with fuzzed headers. Besides memory safety it checks the invariants the
 * signer promises (design.md "Rules of sign"): canonical paths start with
 * '/', hold no empty, "." or ".." segments and only unreserved characters,
 * '/' and upper-case %XX; canonical queries are sorted k=v pairs in that
 * alphabet; nothing that becomes a header holds a control character.
 *
 * Input: byte 0 picks the target; the rest is the path, the query, or
 * NUL-separated fields: path, query, body, then header name/value pairs.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static int upper_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Each byte is unreserved, in extra, or starts an upper-case %XX. */
static void check_alphabet(const char *s, size_t n, const char *extra)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            CHECK(i + 2 < n);
            CHECK(upper_hex((unsigned char)s[i + 1]) && upper_hex((unsigned char)s[i + 2]));
            i += 2;
        } else {
            CHECK(unreserved(c) || (c && strchr(extra, c)));
        }
    }
}

static int bytecmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static void check_path(const char *in, size_t n)
{
    size_t len = 0, i, seg = 1;
    char *out = sigv4_canonical_path(in, n, &len);
    CHECK(out != NULL);
    CHECK(strlen(out) == len);
    CHECK(len >= 1 && out[0] == '/');
    check_alphabet(out, len, "/");
    /* "/" seg ("/" seg)* ["/"]: no empty, "." or ".." segment */
    for (i = 1; i <= len; i++) {
        if (i == len || out[i] == '/') {
            size_t sl = i - seg;
            if (i < len) CHECK(sl > 0);
            CHECK(!(sl == 1 && out[seg] == '.'));
            CHECK(!(sl == 2 && out[seg] == '.' && out[seg + 1] == '.'));
            seg = i + 1;
        }
    }
    free(out);
}

static void check_query(const char *in, size_t n)
{
    size_t len = 0, i, start = 0, pk_len = 0, pv_len = 0;
    const char *pk = NULL, *pv = NULL;
    char *out = sigv4_canonical_query(in, n, &len);
    CHECK(out != NULL);
    CHECK(strlen(out) == len);
    check_alphabet(out, len, "=&");
    for (i = 0; len > 0 && i <= len; i++) {
        if (i == len || out[i] == '&') {
            const char *pair = out + start, *eq;
            size_t pl = i - start, kl, vl;
            CHECK(pl > 0);
            eq = memchr(pair, '=', pl);
            CHECK(eq != NULL);                          /* a key without '=' gets one */
            kl = (size_t)(eq - pair);
            vl = pl - kl - 1;
            CHECK(memchr(eq + 1, '=', vl) == NULL);     /* a '=' in a value is encoded */
            if (pk) {
                int c = bytecmp(pk, pk_len, pair, kl);  /* sorted by key, then value */
                CHECK(c < 0 || (c == 0 && bytecmp(pv, pv_len, eq + 1, vl) <= 0));
            }
            pk = pair; pk_len = kl; pv = eq + 1; pv_len = vl;
            start = i + 1;
        }
    }
    free(out);
}

static sigv4_ctx *ctx;

static int names_are_tokens(const sigv4_header *h, size_t n)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        if (h[i].name_len == 0) return 0;
        for (j = 0; j < h[i].name_len; j++) {
            unsigned char c = (unsigned char)h[i].name[j];
            if (!(unreserved(c) || (c && strchr("!#$%&'*+^`|", c)))) return 0;
        }
    }
    return 1;
}

static void check_sign(const uint8_t *data, size_t size)
{
    const char *f[64];
    size_t fl[64], nf = 0, i, start = 0;
    sigv4_header hdrs[30];
    sigv4_request req;
    sigv4_result res;
    char err[SIGV4_ERRLEN];

    for (i = 0; i <= size && nf < 64; i++) {
        if (i == size || data[i] == 0) {
            f[nf] = (const char *)data + start;
            fl[nf] = i - start;
            nf++;
            start = i + 1;
        }
    }
    memset(&req, 0, sizeof req);
    req.method = "PUT";
    req.path = nf > 0 ? f[0] : "/";
    req.path_len = nf > 0 ? fl[0] : 1;
    req.query = nf > 1 ? f[1] : "";
    req.query_len = nf > 1 ? fl[1] : 0;
    req.body = nf > 2 ? f[2] : NULL;
    req.body_len = nf > 2 ? fl[2] : 0;
    for (i = 3; i + 1 < nf && req.nheaders < 30; i += 2) {
        hdrs[req.nheaders].name = f[i];
        hdrs[req.nheaders].name_len = fl[i];
        hdrs[req.nheaders].value = f[i + 1];
        hdrs[req.nheaders].value_len = fl[i + 1];
        req.nheaders++;
    }
    req.headers = hdrs;
    req.region = "us-east-1";
    req.service = "connect";
    req.access_key_id = "AKIDEXAMPLE";
    req.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    req.secret_len = strlen(req.secret_access_key);
    if (size & 1) {
        req.session_token = "session+token/value==";
        req.session_token_len = strlen(req.session_token);
    }
    req.time = 1440938160 + (int64_t)(size * 7919);
    memset(&res, 0, sizeof res);
    if (sigv4_sign(ctx, &req, &res, err, sizeof err) != 0) {
        CHECK(strlen(err) < sizeof err);
        CHECK(strstr(err, req.secret_access_key) == NULL);
        return;
    }
    CHECK(strlen(res.signature) == 64);
    CHECK(res.authorization && strncmp(res.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40) == 0);
    for (i = 0; res.signed_headers[i]; i++)
        CHECK(!(res.signed_headers[i] >= 'A' && res.signed_headers[i] <= 'Z'));
    /* The signer signs whatever names it is given (the caller decides); with
     * valid names (RFC 9110 tokens), what becomes a header stays clean. */
    if (names_are_tokens(hdrs, req.nheaders)) {
        for (i = 0; res.authorization[i]; i++) {
            unsigned char c = (unsigned char)res.authorization[i];
            CHECK(c >= 0x20 && c != 0x7f);
        }
    }
    if (!memmem(data, size, "wJalrXUtnFEMI", 13))   /* the secret is never copied out */
        CHECK(strstr(res.canonical_request, "wJalrXUtnFEMI") == NULL &&
              strstr(res.authorization, "wJalrXUtnFEMI") == NULL);
    CHECK(strstr(res.string_to_sign, "AWS4-HMAC-SHA256\n") == res.string_to_sign);
    sigv4_result_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SIGV4_ERRLEN];
    if (!ctx) {
        ctx = sigv4_ctx_new(err, sizeof err);
        CHECK(ctx != NULL);
    }
    if (size == 0) return 0;
    switch (data[0] % 3) {
    case 0: check_path((const char *)data + 1, size - 1); break;
    case 1: check_query((const char *)data + 1, size - 1); break;
    default: check_sign(data + 1, size - 1); break;
    }
    return 0;
}
