/*
 * http.h - one HTTP/1.1 session over a libcurl easy handle, pure C, no lua.h.
 *
 * A session owns one easy handle and so one keep-alive connection cache.
 * It never raises: failures come back as an http_error kind plus a message.
 * The response buffers belong to the http_response and are released with
 * http_response_free.
 */
#ifndef AWSC_HTTP_H
#define AWSC_HTTP_H

#include <stddef.h>

#define HTTP_ERRLEN 256
#define HTTP_MAX_BODY_LIMIT ((size_t)1 << 31)      /* largest body cap honoured */
#define HTTP_MAX_HEADER_BYTES ((size_t)256 * 1024) /* all header lines of a response */

typedef enum {
    HTTP_OK = 0,
    HTTP_ERR_CONNECT,     /* refused, unreachable, DNS failure, TLS handshake broken off */
    HTTP_ERR_TIMEOUT,     /* connect or total timeout (a trickling server included) */
    HTTP_ERR_TLS,         /* certificate verification failure (never worth a retry) */
    HTTP_ERR_RECV,        /* reset or closed before any response arrived */
    HTTP_ERR_PROTOCOL,    /* not HTTP, malformed, or cut short after the status line */
    HTTP_ERR_TOO_LARGE,   /* body or headers over the size cap (not buffered) */
    HTTP_ERR_USAGE,       /* bad option (URL, unreadable CA file, ...) */
    HTTP_ERR_NOMEM,
    HTTP_ERR_OTHER
} http_error;

typedef struct {
    const char *method;              /* "GET", "PUT", ... */
    const char *url;
    const char *const *headers;      /* "Name: value" lines */
    size_t nheaders;
    const char *body; size_t body_len;   /* body may be NULL */
    long connect_timeout_ms;         /* 0: libcurl default */
    long timeout_ms;                 /* total, 0: none */
    int verify_tls;
    const char *ca_file;             /* NULL: system store */
    const char *proxy;               /* NULL: libcurl's environment rules; "" disables */
    size_t max_body;                 /* 0: 10 MiB; clamped to HTTP_MAX_BODY_LIMIT */
} http_request;

typedef struct {
    char *name; char *value;
} http_header;

typedef struct {
    long status;
    char *reason;                    /* reason phrase (may be "") */
    http_header *headers; size_t nheaders, cap_headers;
    char *body; size_t body_len, body_cap;
    long new_connections;            /* connections opened for this request */
    double total_time;               /* seconds */
    /* internal */
    size_t max_body;
    size_t header_bytes;
    int seen_status;                 /* a status line arrived */
    int too_large;                   /* 1: body over the cap, 2: headers over the cap */
    int nomem;
} http_response;

typedef struct http_session http_session;

http_session *http_session_new(char *err, size_t errlen);
void http_session_free(http_session *s);
/* Drop the cached connection (after a broken or unreadable response). */
int http_session_discard(http_session *s, char *err, size_t errlen);

/* Performs one request. Returns HTTP_OK with res filled (any status), or
 * an error kind with err filled; res is always safe to free afterwards. */
http_error http_perform(http_session *s, const http_request *req,
                        http_response *res, char *err, size_t errlen);
void http_response_free(http_response *res);

const char *http_error_name(http_error e);

#endif
