/*
 * sign_bench.c - the C rows of the signing benchmark (make bench).
 *
 * Signs bench/request.json with src/sigv4.c (linked in directly) and runs
 * the floor: the crypto a SigV4 signature cannot avoid - SHA-256 of the
 * body, SHA-256 of a buffer the size of the canonical request, one
 * HMAC-SHA256 of the string to sign with a cached key - with OpenSSL used
 * at its best (algorithms fetched once, digest context reused, the HMAC key
 * schedule kept in an EVP_MAC_CTX and reused). The two are timed in
 * alternating blocks so that noise hits both alike.
 *
 *   sign_bench FIXTURE ITERATIONS
 * prints one line:
 *   c_signer US floor US floor_dup US signature HEX creq_len N sts_len N
 * (US = mean microseconds per operation; floor_dup = the HMAC step done with
 * EVP_MAC_CTX_dup of a keyed template instead of re-initialising one
 * context; the floor row uses the faster of the two).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sigv4.h"

#define BLOCKS 10

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *field(cJSON *doc, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k);
    if (!cJSON_IsString(v)) {
        fprintf(stderr, "sign_bench: fixture has no string field %s\n", k);
        exit(2);
    }
    return v->valuestring;
}

static void die(const char *what)
{
    fprintf(stderr, "sign_bench: %s\n", what);
    exit(1);
}

/* ---- the floor ----------------------------------------------------------- */

typedef struct {
    EVP_MD *sha256;
    EVP_MD_CTX *md;
    EVP_MAC *hmac;
    EVP_MAC_CTX *keyed;       /* keyed once with the signing key */
    const unsigned char *body; size_t body_len;
    const unsigned char *creq; size_t creq_len;
    const unsigned char *sts; size_t sts_len;
} floor_ctx;

static void floor_digest(floor_ctx *f, const unsigned char *p, size_t n, unsigned char out[32])
{
    unsigned int outl = 0;
    if (EVP_DigestInit_ex2(f->md, f->sha256, NULL) != 1 || EVP_DigestUpdate(f->md, p, n) != 1
        || EVP_DigestFinal_ex(f->md, out, &outl) != 1)
        die("floor: SHA-256 failed");
}

/* HMAC by re-initialising the keyed context (NULL key keeps the schedule). */
static void floor_once(floor_ctx *f, unsigned char out[32])
{
    unsigned char d1[32], d2[32];
    size_t outl = 0;
    floor_digest(f, f->body, f->body_len, d1);
    floor_digest(f, f->creq, f->creq_len, d2);
    if (EVP_MAC_init(f->keyed, NULL, 0, NULL) != 1 || EVP_MAC_update(f->keyed, f->sts, f->sts_len) != 1
        || EVP_MAC_final(f->keyed, out, &outl, 32) != 1)
        die("floor: HMAC failed");
    out[0] ^= d1[0] ^ d2[0];
}

/* HMAC through a duplicate of the keyed template. */
static void floor_once_dup(floor_ctx *f, unsigned char out[32])
{
    unsigned char d1[32], d2[32];
    size_t outl = 0;
    EVP_MAC_CTX *m;
    floor_digest(f, f->body, f->body_len, d1);
    floor_digest(f, f->creq, f->creq_len, d2);
    m = EVP_MAC_CTX_dup(f->keyed);
    if (!m || EVP_MAC_update(m, f->sts, f->sts_len) != 1 || EVP_MAC_final(m, out, &outl, 32) != 1)
        die("floor: HMAC (dup) failed");
    EVP_MAC_CTX_free(m);
    out[0] ^= d1[0] ^ d2[0];
}

int main(int argc, char **argv)
{
    char *text, err[SIGV4_ERRLEN];
    cJSON *doc;
    sigv4_ctx *ctx;
    sigv4_request req;
    sigv4_header hdrs[2];
    sigv4_result res;
    floor_ctx fl;
    OSSL_PARAM params[2];
    unsigned char key[32], out[32];
    unsigned sink = 0;
    long iters, per, b, i;
    double t0, t_sign = 0, t_floor = 0, t_dup = 0;
    char sig[65];
    size_t creq_len, sts_len;

    if (argc != 3 || (iters = atol(argv[2])) < BLOCKS) {
        fprintf(stderr, "usage: sign_bench FIXTURE ITERATIONS(>=%d)\n", BLOCKS);
        return 2;
    }
    if (!(text = slurp(argv[1])) || !(doc = cJSON_Parse(text))) die("cannot read the fixture");

    memset(&req, 0, sizeof req);
    hdrs[0].name = "Host"; hdrs[0].name_len = 4;
    hdrs[0].value = field(doc, "host"); hdrs[0].value_len = strlen(hdrs[0].value);
    hdrs[1].name = "Content-Type"; hdrs[1].name_len = 12;
    hdrs[1].value = field(doc, "content_type"); hdrs[1].value_len = strlen(hdrs[1].value);
    req.method = field(doc, "method");
    req.path = field(doc, "path"); req.path_len = strlen(req.path);
    req.query = field(doc, "query"); req.query_len = strlen(req.query);
    req.headers = hdrs; req.nheaders = 2;
    req.body = field(doc, "body"); req.body_len = strlen(req.body);
    req.region = field(doc, "region");
    req.service = field(doc, "service");
    req.access_key_id = field(doc, "access_key_id");
    req.secret_access_key = field(doc, "secret_access_key");
    req.secret_len = strlen(req.secret_access_key);
    req.session_token = field(doc, "session_token");
    req.session_token_len = strlen(req.session_token);
    req.time = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "time"));

    if (!(ctx = sigv4_ctx_new(err, sizeof err))) die(err);
    if (sigv4_sign(ctx, &req, &res, err, sizeof err) != 0) die(err);
    memcpy(sig, res.signature, sizeof sig);
    creq_len = strlen(res.canonical_request);
    sts_len = strlen(res.string_to_sign);

    /* The floor works on buffers of the same sizes; the key is any 32 bytes
     * (deriving it is what a cache avoids). */
    memset(&fl, 0, sizeof fl);
    fl.body = (const unsigned char *)req.body; fl.body_len = req.body_len;
    fl.creq = (const unsigned char *)strdup(res.canonical_request); fl.creq_len = creq_len;
    fl.sts = (const unsigned char *)strdup(res.string_to_sign); fl.sts_len = sts_len;
    sigv4_result_free(&res);
    memset(key, 0x5a, sizeof key);
    fl.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    fl.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    fl.md = EVP_MD_CTX_new();
    if (!fl.sha256 || !fl.hmac || !fl.md || !(fl.keyed = EVP_MAC_CTX_new(fl.hmac))) die("floor setup failed");
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(fl.keyed, key, sizeof key, params) != 1) die("floor key setup failed");

    /* warm up every path (caches, branch predictors, lazy OpenSSL init) */
    per = iters / BLOCKS;
    for (i = 0; i < per; i++) {
        if (sigv4_sign(ctx, &req, &res, err, sizeof err) != 0) die(err);
        sink += (unsigned char)res.signature[0];
        sigv4_result_free(&res);
        floor_once(&fl, out); sink += out[0];
        floor_once_dup(&fl, out); sink += out[0];
    }

    for (b = 0; b < BLOCKS; b++) {
        t0 = now_us();
        for (i = 0; i < per; i++) {
            if (sigv4_sign(ctx, &req, &res, err, sizeof err) != 0) die(err);
            sink += (unsigned char)res.signature[0];
            sigv4_result_free(&res);
        }
        t_sign += now_us() - t0;
        t0 = now_us();
        for (i = 0; i < per; i++) { floor_once(&fl, out); sink += out[0]; }
        t_floor += now_us() - t0;
        t0 = now_us();
        for (i = 0; i < per; i++) { floor_once_dup(&fl, out); sink += out[0]; }
        t_dup += now_us() - t0;
    }

    printf("c_signer %.4f floor %.4f floor_dup %.4f signature %s creq_len %zu sts_len %zu sink %u\n",
           t_sign / (double)(per * BLOCKS), t_floor / (double)(per * BLOCKS),
           t_dup / (double)(per * BLOCKS), sig, creq_len, sts_len, sink & 1u);

    EVP_MAC_CTX_free(fl.keyed);
    EVP_MD_CTX_free(fl.md);
    EVP_MAC_free(fl.hmac);
    EVP_MD_free(fl.sha256);
    free((void *)fl.creq);
    free((void *)fl.sts);
    sigv4_ctx_free(ctx);
    cJSON_Delete(doc);
    free(text);
    return 0;
}
