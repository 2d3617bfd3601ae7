/*
 * sigv4.h - AWS Signature Version 4 (header signing), pure C, no lua.h.
 *
 * A sigv4_ctx owns the OpenSSL algorithm handles (fetched once) and a small
 * cache of derived signing keys keyed by (secret, date, region, service).
 * Secrets held by the cache are cleansed when evicted or freed.
 * Every function reports failure through its return value plus a message
 * written into the caller's err buffer (never containing secret bytes).
 */
#ifndef AWSC_SIGV4_H
#define AWSC_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#define SIGV4_ERRLEN 256

typedef struct sigv4_ctx sigv4_ctx;

typedef struct {
    const char *name;  size_t name_len;
    const char *value; size_t value_len;
} sigv4_header;

typedef struct {
    const char *method;                     /* "PUT", ... */
    const char *path;  size_t path_len;     /* as on the wire, already percent-encoded */
    const char *query; size_t query_len;    /* as on the wire, without '?'; may be empty */
    const sigv4_header *headers; size_t nheaders; /* duplicates allowed, any case */
    const char *body;  size_t body_len;     /* may be NULL when body_len == 0 */
    const char *region;
    const char *service;
    const char *access_key_id;
    const char *secret_access_key; size_t secret_len;
    const char *session_token;              /* NULL when none */
    size_t session_token_len;
    int64_t time;                           /* epoch seconds, UTC */
} sigv4_request;

typedef struct {
    char amz_date[17];           /* YYYYMMDDTHHMMSSZ */
    char signature[65];          /* lower-case hex */
    char *signed_headers;        /* "host;x-amz-date" (malloc'd) */
    char *canonical_request;     /* malloc'd */
    char *string_to_sign;        /* malloc'd */
    char *authorization;         /* full Authorization header value (malloc'd) */
} sigv4_result;

/* Returns NULL and fills err on failure. */
sigv4_ctx *sigv4_ctx_new(char *err, size_t errlen);
/* Cleanses cached keys and frees; NULL is accepted. */
void sigv4_ctx_free(sigv4_ctx *ctx);

/* Returns 0 on success, -1 on failure (err filled, res left empty).
 * On success the caller owns res and releases it with sigv4_result_free. */
int sigv4_sign(sigv4_ctx *ctx, const sigv4_request *req, sigv4_result *res,
               char *err, size_t errlen);
void sigv4_result_free(sigv4_result *res);

/* Canonicalisation steps, exposed for the fuzzers and tests. Each returns a
 * malloc'd NUL-terminated string (length in *out_len when non-NULL) or NULL
 * on allocation failure. */
char *sigv4_canonical_path(const char *path, size_t len, size_t *out_len);
char *sigv4_canonical_query(const char *query, size_t len, size_t *out_len);

/* Lower-case hex SHA-256 of data into out[65]. Returns 0 or -1. */
int sigv4_sha256_hex(sigv4_ctx *ctx, const void *data, size_t len, char out[65]);

#endif
