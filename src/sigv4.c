/*
 * sigv4.c - AWS Signature Version 4 (header signing) over OpenSSL 3.
 *
 * Owns the sigv4_ctx: the SHA-256 EVP_MD and HMAC EVP_MAC (fetched once),
 * a reusable digest context, scratch buffers reused from call to call, and a
 * small LRU cache of derived signing keys keyed by (secret, date, region,
 * service). Each cache slot keeps an EVP_MAC_CTX keyed with its signing key,
 * so a cached signature costs one HMAC of the string to sign. The copy of the
 * secret in a slot is cleansed when the slot is evicted or the ctx freed;
 * intermediate keys are cleansed as soon as they have been used.
 *
 * A ctx is not thread-safe: use one per Lua state (or per thread).
 * No lua.h here; errors are a return code plus a message in err, which never
 * holds secret bytes.
 */
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define SIGV4_ALGORITHM   "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR  "aws4_request"
#define SIGV4_CACHE_SLOTS 4
/* Scratch buffers grown past this are released after the call. */
#define SIGV4_SCRATCH_KEEP ((size_t)256 * 1024)

/* Growable byte buffer with a sticky out-of-memory flag: appends after a
 * failure are no-ops, the caller checks oom once. cap always leaves room
 * for a terminating NUL once anything was reserved. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sigv4_buf;

/* A (key, value) pair to sort: a header (lower-cased name, raw value) or a
 * query parameter (encoded key, encoded value). */
typedef struct {
    const char *k; size_t klen;
    const char *v; size_t vlen;
} sigv4_ent;

typedef struct {
    int used;
    unsigned long long stamp;           /* LRU clock */
    unsigned char *secret; size_t secret_len;  /* cleansed on eviction */
    char *scope; size_t scope_len;      /* date/region/service/aws4_request */
    size_t region_len;                  /* disambiguates '/' inside names */
    EVP_MAC_CTX *mac;                   /* keyed with the signing key */
} sigv4_slot;

struct sigv4_ctx {
    EVP_MD *sha256;
    EVP_MAC *hmac;
    EVP_MD_CTX *md;
    EVP_MAC_CTX *mac;                   /* key derivation scratch */
    sigv4_slot cache[SIGV4_CACHE_SLOTS];
    unsigned long long clock;
    sigv4_buf cr;                       /* canonical request */
    sigv4_buf tmp;                      /* lowered names / encoded query */
    sigv4_buf sh;                       /* signed headers */
    sigv4_buf scope;                    /* credential scope of this call */
    sigv4_ent *ents; size_t ents_cap;   /* 2 * ents_cap entries allocated */
};

static const char sigv4_hex[] = "0123456789abcdef";
static const char sigv4_HEX[] = "0123456789ABCDEF";

/* A-Z a-z 0-9 - _ . ~ */
static const unsigned char sigv4_unreserved[256] = {
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,1,1,1,1,1,1,1,1,1,1,0,0,0,0,0,0,
    0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,0,0,0,1,
    0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,0,0,1,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
};

/* ---- errors ---------------------------------------------------------- */

static void sigv4_seterr(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* what + ": " + each queued OpenSSL error; always empties the queue. */
static void sigv4_sslerr(char *err, size_t errlen, const char *what)
{
    unsigned long e;
    size_t off;

    if (err == NULL || errlen == 0) {
        ERR_clear_error();
        return;
    }
    snprintf(err, errlen, "%s", what);
    off = strlen(err);
    while ((e = ERR_get_error()) != 0) {
        if (errlen - off > 3) {
            err[off++] = ':';
            err[off++] = ' ';
            ERR_error_string_n(e, err + off, errlen - off);
            off += strlen(err + off);
        }
    }
    ERR_clear_error();
}

/* ---- buffers --------------------------------------------------------- */

static int sigv4_buf_reserve(sigv4_buf *b, size_t extra)
{
    size_t need, ncap;
    char *np;

    if (b->oom)
        return -1;
    if (b->cap > b->len && extra < b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - 1 - b->len) {
        b->oom = 1;
        return -1;
    }
    need = b->len + extra + 1;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    np = realloc(b->p, ncap);
    if (np == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = ncap;
    return 0;
}

static void sigv4_buf_add(sigv4_buf *b, const void *s, size_t n)
{
    if (n == 0 || sigv4_buf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sigv4_buf_addc(sigv4_buf *b, char c)
{
    if (sigv4_buf_reserve(b, 1) != 0)
        return;
    b->p[b->len++] = c;
}

static void sigv4_buf_adds(sigv4_buf *b, const char *s)
{
    sigv4_buf_add(b, s, strlen(s));
}

/* NUL-terminates; returns -1 if any append failed. */
static int sigv4_buf_finish(sigv4_buf *b)
{
    if (sigv4_buf_reserve(b, 0) != 0)
        return -1;
    b->p[b->len] = '\0';
    return 0;
}

/* Empties a scratch buffer for reuse; gives back memory past the limit. */
static void sigv4_buf_reset(sigv4_buf *b)
{
    if (b->cap > SIGV4_SCRATCH_KEEP) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
    b->len = 0;
    b->oom = 0;
}

static void sigv4_buf_clear_free(sigv4_buf *b)
{
    if (b->p != NULL)
        OPENSSL_clear_free(b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

static char *sigv4_strndup(const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX || (p = malloc(n + 1)) == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- encoding -------------------------------------------------------- */

static int sigv4_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Percent-encodes s into dst (room for 3 * n bytes). With decode set, each
 * valid %XX escape is decoded first; '+' and invalid escapes stay literal. */
static size_t sigv4_encode(char *dst, const unsigned char *s, size_t n, int decode)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (decode && c == '%' && n - i >= 3) {
            int hi = sigv4_hexval(s[i + 1]), lo = sigv4_hexval(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi << 4 | lo);
                i += 2;
            }
        }
        if (sigv4_unreserved[c]) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = sigv4_HEX[c >> 4];
            dst[o++] = sigv4_HEX[c & 15];
        }
    }
    return o;
}

static void sigv4_tohex(char *out, const unsigned char *d, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = sigv4_hex[d[i] >> 4];
        out[2 * i + 1] = sigv4_hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- sorting --------------------------------------------------------- */

static int sigv4_bytecmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl;
}

static int sigv4_entcmp(const sigv4_ent *a, const sigv4_ent *b, int by_value)
{
    int c = sigv4_bytecmp(a->k, a->klen, b->k, b->klen);

    if (c != 0 || !by_value)
        return c;
    return sigv4_bytecmp(a->v, a->vlen, b->v, b->vlen);
}

/* Stable merge sort of a[0..n) using tmp[0..n/2] as merge space. */
static void sigv4_sort(sigv4_ent *a, sigv4_ent *tmp, size_t n, int by_value)
{
    size_t h, i, j, k;

    if (n <= 8) {
        for (i = 1; i < n; i++) {
            sigv4_ent x = a[i];
            for (j = i; j > 0 && sigv4_entcmp(&a[j - 1], &x, by_value) > 0; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
        return;
    }
    h = n / 2;
    sigv4_sort(a, tmp, h, by_value);
    sigv4_sort(a + h, tmp, n - h, by_value);
    if (sigv4_entcmp(&a[h - 1], &a[h], by_value) <= 0)
        return;
    memcpy(tmp, a, h * sizeof *a);
    i = 0; j = h; k = 0;
    while (i < h && j < n) {
        if (sigv4_entcmp(&a[j], &tmp[i], by_value) < 0)
            a[k++] = a[j++];
        else
            a[k++] = tmp[i++];
    }
    while (i < h)
        a[k++] = tmp[i++];
}

/* Ensures room for n entries plus as many for merging. */
static int sigv4_ents_reserve(sigv4_ent **ents, size_t *cap, size_t n)
{
    sigv4_ent *p;

    if (n <= *cap)
        return 0;
    if (n > SIZE_MAX / 2 / sizeof **ents)
        return -1;
    p = malloc(2 * n * sizeof **ents);
    if (p == NULL)
        return -1;
    free(*ents);
    *ents = p;
    *cap = n;
    return 0;
}

/* ---- canonical path and query ---------------------------------------- */

/* Appends the canonical URI: '.' and empty segments dropped, '..' pops the
 * previous segment (as aws-c-auth and botocore do), a trailing '/' kept,
 * and each segment percent-encoded once more. */
static void sigv4_path_append(sigv4_buf *b, const char *p, size_t n)
{
    size_t i = 0, nseg = 0, base;

    if (n > (SIZE_MAX - 2) / 3) {
        b->oom = 1;
        return;
    }
    if (sigv4_buf_reserve(b, 3 * n + 2) != 0)
        return;
    base = b->len;
    b->p[b->len++] = '/';
    while (i < n) {
        const char *s = p + i;
        const char *slash = memchr(s, '/', n - i);
        size_t sl = slash ? (size_t)(slash - s) : n - i;

        i += sl + 1;
        if (sl == 0 || (sl == 1 && s[0] == '.'))
            continue;
        if (sl == 2 && s[0] == '.' && s[1] == '.') {
            if (nseg > 0) {
                size_t l = b->len;
                while (l > base + 1 && b->p[l - 1] != '/')
                    l--;
                if (l > base + 1)
                    l--;                /* the separator before it */
                b->len = l;
                nseg--;
            }
            continue;
        }
        if (nseg > 0)
            b->p[b->len++] = '/';
        b->len += sigv4_encode(b->p + b->len, (const unsigned char *)s, sl, 0);
        nseg++;
    }
    if (nseg > 0 && p[n - 1] == '/')
        b->p[b->len++] = '/';
}

/* Appends the canonical query string. tmp and the entry array are scratch. */
static void sigv4_query_append(sigv4_buf *out, sigv4_buf *tmp, sigv4_ent **ents,
                               size_t *ents_cap, const char *q, size_t n)
{
    const char *end, *s;
    size_t count = 1, m = 0, i, total = 0;
    sigv4_ent *e;

    if (n == 0)
        return;
    end = q + n;
    for (s = q; (s = memchr(s, '&', (size_t)(end - s))) != NULL; s++)
        count++;
    if (n > (SIZE_MAX - 1) / 3 || sigv4_ents_reserve(ents, ents_cap, count) != 0) {
        out->oom = 1;
        return;
    }
    tmp->len = 0;
    if (sigv4_buf_reserve(tmp, 3 * n) != 0) {
        out->oom = 1;
        return;
    }
    e = *ents;
    /* All writes fit in the reserved space, so the pointers stay valid. */
    for (s = q; s < end; ) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        const char *ke = eq ? eq : pe;
        const char *vs = eq ? eq + 1 : pe;

        if (pe > s) {
            e[m].k = tmp->p + tmp->len;
            e[m].klen = sigv4_encode(tmp->p + tmp->len, (const unsigned char *)s,
                                     (size_t)(ke - s), 1);
            tmp->len += e[m].klen;
            e[m].v = tmp->p + tmp->len;
            e[m].vlen = sigv4_encode(tmp->p + tmp->len, (const unsigned char *)vs,
                                     (size_t)(pe - vs), 1);
            tmp->len += e[m].vlen;
            total += e[m].klen + e[m].vlen + 2;
            m++;
        }
        s = pe + 1;
    }
    sigv4_sort(e, e + *ents_cap, m, 1);
    if (sigv4_buf_reserve(out, total) != 0)
        return;
    for (i = 0; i < m; i++) {
        if (i > 0)
            out->p[out->len++] = '&';
        if (e[i].klen)
            memcpy(out->p + out->len, e[i].k, e[i].klen);
        out->len += e[i].klen;
        out->p[out->len++] = '=';
        if (e[i].vlen)
            memcpy(out->p + out->len, e[i].v, e[i].vlen);
        out->len += e[i].vlen;
    }
}

char *sigv4_canonical_path(const char *path, size_t len, size_t *out_len)
{
    sigv4_buf b = {0};

    if (path == NULL && len > 0)
        return NULL;
    sigv4_path_append(&b, path, len);
    if (sigv4_buf_finish(&b) != 0) {
        free(b.p);
        return NULL;
    }
    if (out_len != NULL)
        *out_len = b.len;
    return b.p;
}

char *sigv4_canonical_query(const char *query, size_t len, size_t *out_len)
{
    sigv4_buf b = {0}, tmp = {0};
    sigv4_ent *ents = NULL;
    size_t cap = 0;

    if (query == NULL && len > 0)
        return NULL;
    sigv4_query_append(&b, &tmp, &ents, &cap, query, len);
    free(tmp.p);
    free(ents);
    if (sigv4_buf_finish(&b) != 0) {
        free(b.p);
        return NULL;
    }
    if (out_len != NULL)
        *out_len = b.len;
    return b.p;
}

/* ---- headers --------------------------------------------------------- */

/* HT LF VT FF CR and space. */
static const unsigned char sigv4_space[256] = {
    0,0,0,0,0,0,0,0,0,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    1,
};

/* Appends v trimmed, with each run of whitespace (folded lines too) as one
 * space. Output is never longer than the input. */
static void sigv4_value_append(sigv4_buf *b, const char *v, size_t n)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t i = 0, start;
    char *d;

    if (n == 0 || sigv4_buf_reserve(b, n) != 0)
        return;
    d = b->p + b->len;
    while (i < n && sigv4_space[s[i]])
        i++;
    while (i < n) {
        start = i;
        /* Skip 8 bytes at a time while none is <= 0x20 (all whitespace is). */
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (((w - UINT64_C(0x2121212121212121)) & ~w & UINT64_C(0x8080808080808080)) != 0)
                break;
            i += 8;
        }
        while (i < n && !sigv4_space[s[i]])
            i++;
        memcpy(d, s + start, i - start);
        d += i - start;
        while (i < n && sigv4_space[s[i]])
            i++;
        if (i < n)
            *d++ = ' ';
    }
    b->len = (size_t)(d - b->p);
}

static int sigv4_name_is(const char *lower, size_t n, const char *lit, size_t litlen)
{
    return n == litlen && memcmp(lower, lit, n) == 0;
}

/* Appends the canonical header lines to ctx->cr and the signed header list
 * to ctx->sh. The caller's x-amz-date / x-amz-security-token are dropped;
 * ours are added. */
static int sigv4_headers_append(sigv4_ctx *ctx, const sigv4_request *req,
                                const char *amz_date, int with_token)
{
    size_t names = 0, i, m = 0;
    sigv4_ent *e;

    for (i = 0; i < req->nheaders; i++) {
        if (req->headers[i].name_len > SIZE_MAX - names)
            return -1;
        names += req->headers[i].name_len;
    }
    if (req->nheaders > SIZE_MAX / 2 - 2
        || sigv4_ents_reserve(&ctx->ents, &ctx->ents_cap, req->nheaders + 2) != 0)
        return -1;
    sigv4_buf_reset(&ctx->tmp);
    if (sigv4_buf_reserve(&ctx->tmp, names) != 0)
        return -1;
    e = ctx->ents;
    /* All writes fit in the reserved space, so the pointers stay valid. */
    for (i = 0; i < req->nheaders; i++) {
        const sigv4_header *h = &req->headers[i];
        char *lower = ctx->tmp.p + ctx->tmp.len;
        size_t j;

        for (j = 0; j < h->name_len; j++) {
            unsigned char c = (unsigned char)h->name[j];
            lower[j] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        if (sigv4_name_is(lower, h->name_len, "x-amz-date", 10)
            || sigv4_name_is(lower, h->name_len, "x-amz-security-token", 20))
            continue;
        ctx->tmp.len += h->name_len;
        e[m].k = lower; e[m].klen = h->name_len;
        e[m].v = h->value; e[m].vlen = h->value_len;
        m++;
    }
    e[m].k = "x-amz-date"; e[m].klen = 10;
    e[m].v = amz_date; e[m].vlen = 16;
    m++;
    if (with_token) {
        e[m].k = "x-amz-security-token"; e[m].klen = 20;
        e[m].v = req->session_token; e[m].vlen = req->session_token_len;
        m++;
    }
    sigv4_sort(e, e + ctx->ents_cap, m, 0);

    for (i = 0; i < m; ) {
        size_t j;
        if (i > 0)
            sigv4_buf_addc(&ctx->sh, ';');
        sigv4_buf_add(&ctx->sh, e[i].k, e[i].klen);
        sigv4_buf_add(&ctx->cr, e[i].k, e[i].klen);
        sigv4_buf_addc(&ctx->cr, ':');
        sigv4_value_append(&ctx->cr, e[i].v, e[i].vlen);
        for (j = i + 1; j < m && sigv4_bytecmp(e[j].k, e[j].klen, e[i].k, e[i].klen) == 0; j++) {
            sigv4_buf_addc(&ctx->cr, ',');
            sigv4_value_append(&ctx->cr, e[j].v, e[j].vlen);
        }
        sigv4_buf_addc(&ctx->cr, '\n');
        i = j;
    }
    return 0;
}

/* ---- time ------------------------------------------------------------ */

static void sigv4_digits(char *out, int64_t v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* YYYYMMDDTHHMMSSZ for years 0000-9999 (proleptic Gregorian, UTC). */
static int sigv4_format_time(int64_t t, char out[17])
{
    int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

    if (t < INT64_C(-62167219200) || t > INT64_C(253402300799))
        return -1;
    days = t / 86400;
    secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    sigv4_digits(out, y, 4);
    sigv4_digits(out + 4, m, 2);
    sigv4_digits(out + 6, d, 2);
    out[8] = 'T';
    sigv4_digits(out + 9, secs / 3600, 2);
    sigv4_digits(out + 11, secs / 60 % 60, 2);
    sigv4_digits(out + 13, secs % 60, 2);
    out[15] = 'Z';
    out[16] = '\0';
    return 0;
}

/* ---- crypto ---------------------------------------------------------- */

static int sigv4_mac_set_digest(EVP_MAC_CTX *mac)
{
    OSSL_PARAM params[2];

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(mac, params) == 1 ? 0 : -1;
}

static int sigv4_sha256(sigv4_ctx *ctx, const void *data, size_t len, unsigned char out[32])
{
    unsigned int outl = 0;

    if (data == NULL)
        data = "";
    if (EVP_DigestInit_ex2(ctx->md, ctx->sha256, NULL) != 1
        || EVP_DigestUpdate(ctx->md, data, len) != 1
        || EVP_DigestFinal_ex(ctx->md, out, &outl) != 1 || outl != 32)
        return -1;
    return 0;
}

int sigv4_sha256_hex(sigv4_ctx *ctx, const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    unsigned int outl = 0;

    if (out == NULL)
        return -1;
    if (ctx != NULL) {
        if (sigv4_sha256(ctx, data, len, d) != 0) {
            ERR_clear_error();
            return -1;
        }
    } else if (EVP_Digest(data ? data : "", len, d, &outl, EVP_sha256(), NULL) != 1
               || outl != 32) {
        ERR_clear_error();
        return -1;
    }
    sigv4_tohex(out, d, 32);
    return 0;
}

static int sigv4_hmac(EVP_MAC_CTX *mac, const unsigned char *key, size_t keylen,
                      const void *data, size_t len, unsigned char out[32])
{
    size_t outl = 0;

    if (EVP_MAC_init(mac, key, keylen, NULL) != 1
        || EVP_MAC_update(mac, data, len) != 1
        || EVP_MAC_final(mac, out, &outl, 32) != 1 || outl != 32)
        return -1;
    return 0;
}

static void sigv4_slot_clear(sigv4_slot *s)
{
    if (s->secret != NULL)
        OPENSSL_clear_free(s->secret, s->secret_len);
    free(s->scope);
    s->secret = NULL;
    s->secret_len = 0;
    s->scope = NULL;
    s->scope_len = 0;
    s->region_len = 0;
    s->used = 0;
}

/* Returns the cache slot for (secret, scope), deriving the key on a miss:
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"). */
static sigv4_slot *sigv4_signing_key(sigv4_ctx *ctx, const sigv4_request *req,
                                     size_t region_len, char *err, size_t errlen)
{
    const char *scope = ctx->scope.p;
    size_t scope_len = ctx->scope.len, i, ksecret_len;
    sigv4_slot *s = NULL;
    unsigned char *ksecret, k1[32], k2[32];
    static const unsigned char zero[32];
    int rc;

    for (i = 0; i < SIGV4_CACHE_SLOTS; i++) {
        sigv4_slot *c = &ctx->cache[i];
        if (c->used && c->secret_len == req->secret_len && c->scope_len == scope_len
            && c->region_len == region_len && memcmp(c->scope, scope, scope_len) == 0
            && (req->secret_len == 0
                || CRYPTO_memcmp(c->secret, req->secret_access_key, req->secret_len) == 0)) {
            c->stamp = ++ctx->clock;
            return c;
        }
    }

    if (req->secret_len > SIZE_MAX - 4 || (ksecret = malloc(req->secret_len + 4)) == NULL) {
        sigv4_seterr(err, errlen, "sigv4: out of memory");
        return NULL;
    }
    ksecret_len = req->secret_len + 4;
    memcpy(ksecret, "AWS4", 4);
    if (req->secret_len > 0)
        memcpy(ksecret + 4, req->secret_access_key, req->secret_len);
    rc = sigv4_hmac(ctx->mac, ksecret, ksecret_len, scope, 8, k1);
    OPENSSL_clear_free(ksecret, ksecret_len);
    rc = rc || sigv4_hmac(ctx->mac, k1, 32, req->region, region_len, k2);
    rc = rc || sigv4_hmac(ctx->mac, k2, 32, req->service, strlen(req->service), k1);
    rc = rc || sigv4_hmac(ctx->mac, k1, 32, SIGV4_TERMINATOR, 12, k2);
    /* Leave no key schedule of ours behind in the scratch context. */
    if (EVP_MAC_init(ctx->mac, zero, sizeof zero, NULL) != 1)
        rc = 1;
    OPENSSL_cleanse(k1, sizeof k1);
    if (rc) {
        OPENSSL_cleanse(k2, sizeof k2);
        sigv4_sslerr(err, errlen, "sigv4: HMAC-SHA256 failed");
        return NULL;
    }

    for (i = 0; i < SIGV4_CACHE_SLOTS; i++) {
        sigv4_slot *c = &ctx->cache[i];
        if (!c->used) {
            s = c;
            break;
        }
        if (s == NULL || c->stamp < s->stamp)
            s = c;
    }
    sigv4_slot_clear(s);
    s->scope = sigv4_strndup(scope, scope_len);
    s->secret = malloc(req->secret_len ? req->secret_len : 1);
    if (s->scope == NULL || s->secret == NULL) {
        OPENSSL_cleanse(k2, sizeof k2);
        sigv4_slot_clear(s);
        sigv4_seterr(err, errlen, "sigv4: out of memory");
        return NULL;
    }
    if (req->secret_len > 0)
        memcpy(s->secret, req->secret_access_key, req->secret_len);
    s->secret_len = req->secret_len;
    s->scope_len = scope_len;
    s->region_len = region_len;
    if (s->mac == NULL) {
        s->mac = EVP_MAC_CTX_new(ctx->hmac);
        if (s->mac != NULL && sigv4_mac_set_digest(s->mac) != 0) {
            EVP_MAC_CTX_free(s->mac);
            s->mac = NULL;
        }
    }
    rc = s->mac == NULL || EVP_MAC_init(s->mac, k2, sizeof k2, NULL) != 1;
    OPENSSL_cleanse(k2, sizeof k2);
    if (rc) {
        sigv4_slot_clear(s);
        sigv4_sslerr(err, errlen, "sigv4: HMAC-SHA256 key setup failed");
        return NULL;
    }
    s->used = 1;
    s->stamp = ++ctx->clock;
    return s;
}

/* ---- context --------------------------------------------------------- */

sigv4_ctx *sigv4_ctx_new(char *err, size_t errlen)
{
    sigv4_ctx *ctx = calloc(1, sizeof *ctx);

    if (ctx == NULL) {
        sigv4_seterr(err, errlen, "sigv4: out of memory");
        return NULL;
    }
    ctx->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    ctx->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (ctx->sha256 == NULL || ctx->hmac == NULL) {
        sigv4_sslerr(err, errlen, "sigv4: cannot fetch SHA256/HMAC");
        sigv4_ctx_free(ctx);
        return NULL;
    }
    ctx->md = EVP_MD_CTX_new();
    ctx->mac = EVP_MAC_CTX_new(ctx->hmac);
    if (ctx->md == NULL || ctx->mac == NULL || sigv4_mac_set_digest(ctx->mac) != 0) {
        sigv4_sslerr(err, errlen, "sigv4: cannot create digest/MAC context");
        sigv4_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void sigv4_ctx_free(sigv4_ctx *ctx)
{
    size_t i;

    if (ctx == NULL)
        return;
    for (i = 0; i < SIGV4_CACHE_SLOTS; i++) {
        sigv4_slot_clear(&ctx->cache[i]);
        EVP_MAC_CTX_free(ctx->cache[i].mac);
    }
    EVP_MAC_CTX_free(ctx->mac);
    EVP_MD_CTX_free(ctx->md);
    EVP_MAC_free(ctx->hmac);
    EVP_MD_free(ctx->sha256);
    sigv4_buf_clear_free(&ctx->cr);
    sigv4_buf_clear_free(&ctx->tmp);
    sigv4_buf_clear_free(&ctx->sh);
    sigv4_buf_clear_free(&ctx->scope);
    free(ctx->ents);
    free(ctx);
}

void sigv4_result_free(sigv4_result *res)
{
    if (res == NULL)
        return;
    free(res->signed_headers);
    free(res->canonical_request);
    free(res->string_to_sign);
    free(res->authorization);
    memset(res, 0, sizeof *res);
}

/* ---- signing --------------------------------------------------------- */

static const char *sigv4_check(const sigv4_request *req)
{
    size_t i;

    if (req->method == NULL || req->region == NULL || req->service == NULL
        || req->access_key_id == NULL)
        return "sigv4: method, region, service and access_key_id are required";
    if ((req->path == NULL && req->path_len > 0) || (req->query == NULL && req->query_len > 0)
        || (req->body == NULL && req->body_len > 0)
        || (req->secret_access_key == NULL && req->secret_len > 0)
        || (req->session_token == NULL && req->session_token_len > 0)
        || (req->headers == NULL && req->nheaders > 0))
        return "sigv4: NULL data with a non-zero length";
    for (i = 0; i < req->nheaders; i++) {
        const sigv4_header *h = &req->headers[i];
        if ((h->name == NULL && h->name_len > 0) || (h->value == NULL && h->value_len > 0))
            return "sigv4: NULL header data with a non-zero length";
    }
    return NULL;
}

static int sigv4_sign_impl(sigv4_ctx *ctx, const sigv4_request *req, sigv4_result *res,
                           char *err, size_t errlen)
{
    unsigned char digest[32], sig[32];
    char hexhash[65];
    const char *msg;
    size_t region_len, akid_len, sts_len, authz_len, outl = 0;
    int with_token;
    sigv4_slot *slot;
    char *p;

    if (res == NULL) {
        sigv4_seterr(err, errlen, "sigv4: no result");
        return -1;
    }
    memset(res, 0, sizeof *res);
    if (ctx == NULL || req == NULL) {
        sigv4_seterr(err, errlen, "sigv4: no context or request");
        return -1;
    }
    if ((msg = sigv4_check(req)) != NULL) {
        sigv4_seterr(err, errlen, msg);
        return -1;
    }
    if (sigv4_format_time(req->time, res->amz_date) != 0) {
        sigv4_seterr(err, errlen, "sigv4: time out of range (years 0000-9999)");
        return -1;
    }
    with_token = req->session_token != NULL && req->session_token_len > 0;

    if (sigv4_sha256(ctx, req->body, req->body_len, digest) != 0) {
        sigv4_sslerr(err, errlen, "sigv4: SHA-256 failed");
        goto fail;
    }
    sigv4_tohex(hexhash, digest, 32);

    /* Canonical request. */
    sigv4_buf_reset(&ctx->cr);
    sigv4_buf_reset(&ctx->sh);
    sigv4_buf_adds(&ctx->cr, req->method);
    sigv4_buf_addc(&ctx->cr, '\n');
    sigv4_path_append(&ctx->cr, req->path, req->path_len);
    sigv4_buf_addc(&ctx->cr, '\n');
    sigv4_buf_reset(&ctx->tmp);
    sigv4_query_append(&ctx->cr, &ctx->tmp, &ctx->ents, &ctx->ents_cap,
                       req->query, req->query_len);
    sigv4_buf_addc(&ctx->cr, '\n');
    if (sigv4_headers_append(ctx, req, res->amz_date, with_token) != 0)
        ctx->cr.oom = 1;
    sigv4_buf_addc(&ctx->cr, '\n');
    sigv4_buf_add(&ctx->cr, ctx->sh.p, ctx->sh.len);
    sigv4_buf_addc(&ctx->cr, '\n');
    sigv4_buf_add(&ctx->cr, hexhash, 64);
    if (sigv4_buf_finish(&ctx->cr) != 0 || sigv4_buf_finish(&ctx->sh) != 0)
        goto oom;

    if (sigv4_sha256(ctx, ctx->cr.p, ctx->cr.len, digest) != 0) {
        sigv4_sslerr(err, errlen, "sigv4: SHA-256 failed");
        goto fail;
    }
    sigv4_tohex(hexhash, digest, 32);

    /* Credential scope, then the signing key. */
    region_len = strlen(req->region);
    sigv4_buf_reset(&ctx->scope);
    sigv4_buf_add(&ctx->scope, res->amz_date, 8);
    sigv4_buf_addc(&ctx->scope, '/');
    sigv4_buf_add(&ctx->scope, req->region, region_len);
    sigv4_buf_addc(&ctx->scope, '/');
    sigv4_buf_adds(&ctx->scope, req->service);
    sigv4_buf_adds(&ctx->scope, "/" SIGV4_TERMINATOR);
    if (sigv4_buf_finish(&ctx->scope) != 0)
        goto oom;
    if ((slot = sigv4_signing_key(ctx, req, region_len, err, errlen)) == NULL)
        goto fail;

    /* String to sign: algorithm, date, scope, hash of the canonical request. */
    if (ctx->scope.len > SIZE_MAX / 2)
        goto oom;
    sts_len = sizeof SIGV4_ALGORITHM + 17 + ctx->scope.len + 1 + 64;
    if ((res->string_to_sign = p = malloc(sts_len + 1)) == NULL)
        goto oom;
    memcpy(p, SIGV4_ALGORITHM "\n", sizeof SIGV4_ALGORITHM);
    p += sizeof SIGV4_ALGORITHM;
    memcpy(p, res->amz_date, 16);
    p[16] = '\n';
    p += 17;
    memcpy(p, ctx->scope.p, ctx->scope.len);
    p += ctx->scope.len;
    *p++ = '\n';
    memcpy(p, hexhash, 65);

    if (EVP_MAC_init(slot->mac, NULL, 0, NULL) != 1
        || EVP_MAC_update(slot->mac, (const unsigned char *)res->string_to_sign, sts_len) != 1
        || EVP_MAC_final(slot->mac, sig, &outl, sizeof sig) != 1 || outl != 32) {
        sigv4_sslerr(err, errlen, "sigv4: HMAC-SHA256 failed");
        goto fail;
    }
    sigv4_tohex(res->signature, sig, 32);

    /* Authorization: ALG Credential=AKID/scope, SignedHeaders=..., Signature=... */
    akid_len = strlen(req->access_key_id);
    if (akid_len > SIZE_MAX / 4 || ctx->sh.len > SIZE_MAX / 4)
        goto oom;
    authz_len = sizeof SIGV4_ALGORITHM + 11 + akid_len + 1 + ctx->scope.len
                + 16 + ctx->sh.len + 12 + 64;
    if ((res->authorization = p = malloc(authz_len + 1)) == NULL)
        goto oom;
    memcpy(p, SIGV4_ALGORITHM " Credential=", sizeof SIGV4_ALGORITHM + 11);
    p += sizeof SIGV4_ALGORITHM + 11;
    memcpy(p, req->access_key_id, akid_len);
    p += akid_len;
    *p++ = '/';
    memcpy(p, ctx->scope.p, ctx->scope.len);
    p += ctx->scope.len;
    memcpy(p, ", SignedHeaders=", 16);
    p += 16;
    memcpy(p, ctx->sh.p, ctx->sh.len);
    p += ctx->sh.len;
    memcpy(p, ", Signature=", 12);
    p += 12;
    memcpy(p, res->signature, 65);

    res->signed_headers = sigv4_strndup(ctx->sh.p, ctx->sh.len);
    res->canonical_request = sigv4_strndup(ctx->cr.p, ctx->cr.len);
    if (res->signed_headers == NULL || res->canonical_request == NULL)
        goto oom;
    return 0;

oom:
    sigv4_seterr(err, errlen, "sigv4: out of memory");
fail:
    sigv4_result_free(res);
    return -1;
}

int sigv4_sign(sigv4_ctx *ctx, const sigv4_request *req, sigv4_result *res,
               char *err, size_t errlen)
{
    int rc = sigv4_sign_impl(ctx, req, res, err, errlen);

    if (ctx != NULL) {
        /* Keep scratch memory for the next call unless a huge request grew it. */
        sigv4_buf_reset(&ctx->cr);
        sigv4_buf_reset(&ctx->tmp);
        sigv4_buf_reset(&ctx->sh);
        sigv4_buf_reset(&ctx->scope);
        if (ctx->ents_cap > SIGV4_SCRATCH_KEEP / sizeof *ctx->ents) {
            free(ctx->ents);
            ctx->ents = NULL;
            ctx->ents_cap = 0;
        }
    }
    return rc;
}
