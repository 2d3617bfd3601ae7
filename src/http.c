/*
 * http.c - the libcurl session behind the blocking transport.
 *
 * Owns: one CURL easy handle per session (its connection cache gives
 * keep-alive), the response buffers while a transfer runs. Callbacks never
 * raise or longjmp: they record the problem in the response and return an
 * abort code; the caller learns of it from http_perform's return value.
 * Bodies over the cap are refused as soon as their size is known (from
 * Content-Length, or while they stream in), never buffered whole; header
 * blocks are capped too. Any failed exchange drops the connection, so a
 * half-read response can never be mistaken for the start of the next one.
 */
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_DEFAULT_MAX_BODY ((size_t)10 * 1024 * 1024)

struct http_session {
    CURL *easy;
};

static void http_seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

const char *http_error_name(http_error e)
{
    switch (e) {
    case HTTP_OK: return "ok";
    case HTTP_ERR_CONNECT: return "connect";
    case HTTP_ERR_TIMEOUT: return "timeout";
    case HTTP_ERR_TLS: return "tls";
    case HTTP_ERR_RECV: return "recv";
    case HTTP_ERR_PROTOCOL: return "protocol";
    case HTTP_ERR_TOO_LARGE: return "too_large";
    case HTTP_ERR_USAGE: return "usage";
    case HTTP_ERR_NOMEM: return "nomem";
    default: return "other";
    }
}

static CURL *http_new_easy(void)
{
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    return e;
}

http_session *http_session_new(char *err, size_t errlen)
{
    http_session *s = calloc(1, sizeof *s);
    if (!s) { http_seterr(err, errlen, "out of memory"); return NULL; }
    s->easy = http_new_easy();
    if (!s->easy) {
        free(s);
        http_seterr(err, errlen, "curl_easy_init failed");
        return NULL;
    }
    return s;
}

void http_session_free(http_session *s)
{
    if (!s) return;
    if (s->easy) curl_easy_cleanup(s->easy);
    free(s);
}

int http_session_discard(http_session *s, char *err, size_t errlen)
{
    CURL *e = http_new_easy();
    if (!e) { http_seterr(err, errlen, "curl_easy_init failed"); return -1; }
    if (s->easy) curl_easy_cleanup(s->easy);
    s->easy = e;
    return 0;
}

static void http_response_reset_headers(http_response *r)
{
    size_t i;
    for (i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->nheaders = 0;
    free(r->reason);
    r->reason = NULL;
}

void http_response_free(http_response *r)
{
    if (!r) return;
    http_response_reset_headers(r);
    free(r->headers);
    free(r->body);
    r->headers = NULL;
    r->body = NULL;
    r->cap_headers = r->body_len = r->body_cap = 0;
}

static char *http_strndup(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int http_is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Status line "HTTP/1.1 200 OK": start of a new header block (there may be
 * several, e.g. after 100 Continue or a proxy CONNECT); keep only the last. */
static size_t http_on_status_line(http_response *r, const char *p, size_t n)
{
    size_t i = 0, start;
    http_response_reset_headers(r);
    while (i < n && p[i] != ' ') i++;            /* protocol */
    while (i < n && p[i] == ' ') i++;
    while (i < n && p[i] >= '0' && p[i] <= '9') i++; /* code (curl parses it) */
    while (i < n && p[i] == ' ') i++;
    start = i;
    while (n > start && http_is_ws(p[n - 1])) n--;
    r->reason = http_strndup(p + start, n > start ? n - start : 0);
    if (!r->reason) { r->nomem = 1; return 0; }
    return 1;
}

static size_t http_header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    http_response *r = ud;
    size_t n = size * nitems, len = n, colon;
    const char *p = buf;
    r->header_bytes += n;
    if (r->header_bytes > HTTP_MAX_HEADER_BYTES) { r->too_large = 2; return 0; }
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        r->seen_status = 1;
        return http_on_status_line(r, p, n) ? n : 0;
    }
    while (len > 0 && http_is_ws(p[len - 1])) len--;
    if (len == 0) return n;                         /* end of block */
    if (http_is_ws(p[0]) && r->nheaders > 0) {
        /* obsolete line folding: append to the previous value */
        http_header *h = &r->headers[r->nheaders - 1];
        size_t old = strlen(h->value), skip = 0;
        char *v;
        while (skip < len && http_is_ws(p[skip])) skip++;
        v = realloc(h->value, old + 1 + (len - skip) + 1);
        if (!v) { r->nomem = 1; return 0; }
        v[old] = ' ';
        memcpy(v + old + 1, p + skip, len - skip);
        v[old + 1 + len - skip] = '\0';
        h->value = v;
        return n;
    }
    for (colon = 0; colon < len && p[colon] != ':'; colon++) {}
    if (colon == len) return n;                     /* not a header; ignore */
    if (r->nheaders == r->cap_headers) {
        size_t cap = r->cap_headers ? r->cap_headers * 2 : 16;
        http_header *nh = realloc(r->headers, cap * sizeof *nh);
        if (!nh) { r->nomem = 1; return 0; }
        r->headers = nh;
        r->cap_headers = cap;
    }
    {
        size_t vs = colon + 1, ne = colon;
        http_header *h = &r->headers[r->nheaders];
        while (ne > 0 && http_is_ws(p[ne - 1])) ne--;
        while (vs < len && (p[vs] == ' ' || p[vs] == '\t')) vs++;
        h->name = http_strndup(p, ne);
        h->value = http_strndup(p + vs, len - vs);
        if (!h->name || !h->value) {
            free(h->name); free(h->value);
            r->nomem = 1;
            return 0;
        }
        r->nheaders++;
        if (ne == 14 && strncasecmp(p, "content-length", 14) == 0) {
            /* refuse a declared body over the cap before reading it */
            const char *v = h->value;
            size_t digits = 0;
            unsigned long long cl = 0;
            while (*v >= '0' && *v <= '9' && digits < 20) {
                cl = cl * 10 + (unsigned long long)(*v - '0');
                v++; digits++;
            }
            if (digits >= 20 || cl > (unsigned long long)r->max_body) {
                r->too_large = 1;
                return 0;
            }
        }
    }
    return n;
}

static size_t http_write_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
    http_response *r = ud;
    size_t n = size * nmemb;
    if (n > r->max_body - r->body_len) { r->too_large = 1; return 0; }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        char *nb;
        while (cap < r->body_len + n + 1) cap *= 2;
        if (cap > r->max_body + 1) cap = r->max_body + 1;
        nb = realloc(r->body, cap);
        if (!nb) { r->nomem = 1; return 0; }
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, buf, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

/* Which failures are worth a retry is decided in Lua from these kinds:
 * TLS means the peer's certificate was refused (a retry cannot help); a
 * handshake that broke off is a connection failure like any other. */
static http_error http_classify(CURLcode rc, int seen_status)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        return HTTP_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTP_ERR_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        return HTTP_ERR_TLS;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_URL_MALFORMAT:
        return HTTP_ERR_USAGE;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        /* once a status line arrived, the response was cut short */
        return seen_status ? HTTP_ERR_PROTOCOL : HTTP_ERR_RECV;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL:   /* URLs are http(s) here: "Received HTTP/0.9" */
        return HTTP_ERR_PROTOCOL;
    case CURLE_FILESIZE_EXCEEDED:
        return HTTP_ERR_TOO_LARGE;
    case CURLE_OUT_OF_MEMORY:
        return HTTP_ERR_NOMEM;
    default:
        return HTTP_ERR_OTHER;
    }
}

static int http_scheme_ok(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* Forget every pointer into the caller's memory the handle may still hold. */
static void http_unhook(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
}

#define HTTP_SET(opt, val) \
    do { if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK) goto setopt_failed; } while (0)

http_error http_perform(http_session *s, const http_request *req,
                        http_response *res, char *err, size_t errlen)
{
    CURL *e = s->easy;
    struct curl_slist *list = NULL, *tmp;
    char curlerr[CURL_ERROR_SIZE];
    CURLcode rc;
    http_error kind = HTTP_OK;
    size_t i;
    long status = 0, nconn = 0;
    double total = 0;

    memset(res, 0, sizeof *res);
    res->max_body = req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY;
    if (res->max_body > HTTP_MAX_BODY_LIMIT) res->max_body = HTTP_MAX_BODY_LIMIT;
    curlerr[0] = '\0';
    if (!e) { http_seterr(err, errlen, "session is closed"); return HTTP_ERR_USAGE; }
    if (!req->url || !req->method || !http_scheme_ok(req->url)) {
        http_seterr(err, errlen, "the URL must start with http:// or https://");
        return HTTP_ERR_USAGE;
    }

    for (i = 0; i < req->nheaders; i++) {
        tmp = curl_slist_append(list, req->headers[i]);
        if (!tmp) goto nomem;
        list = tmp;
    }
    /* libcurl must not add headers of its own that we did not ask for */
    if (!(tmp = curl_slist_append(list, "Expect:"))) goto nomem;
    list = tmp;
    if (!(tmp = curl_slist_append(list, "Accept:"))) goto nomem;
    list = tmp;

    HTTP_SET(CURLOPT_URL, req->url);
    /* the path goes out as signed: libcurl must not squash "." and ".."
     * segments (the signer already canonicalised what it was given) */
    HTTP_SET(CURLOPT_PATH_AS_IS, 1L);
    if (req->body) {
        HTTP_SET(CURLOPT_POST, 1L);
        HTTP_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        HTTP_SET(CURLOPT_POSTFIELDS, req->body);
    } else {
        HTTP_SET(CURLOPT_HTTPGET, 1L);
    }
    HTTP_SET(CURLOPT_CUSTOMREQUEST, req->method);
    HTTP_SET(CURLOPT_NOBODY, strcmp(req->method, "HEAD") == 0 ? 1L : 0L);
    HTTP_SET(CURLOPT_HTTPHEADER, list);
    HTTP_SET(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    HTTP_SET(CURLOPT_TIMEOUT_MS, req->timeout_ms);
    HTTP_SET(CURLOPT_SSL_VERIFYPEER, req->verify_tls ? 1L : 0L);
    HTTP_SET(CURLOPT_SSL_VERIFYHOST, req->verify_tls ? 2L : 0L);
    if (req->ca_file) HTTP_SET(CURLOPT_CAINFO, req->ca_file);
    HTTP_SET(CURLOPT_PROXY, req->proxy);
    HTTP_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)res->max_body);
    HTTP_SET(CURLOPT_HEADERFUNCTION, http_header_cb);
    HTTP_SET(CURLOPT_HEADERDATA, res);
    HTTP_SET(CURLOPT_WRITEFUNCTION, http_write_cb);
    HTTP_SET(CURLOPT_WRITEDATA, res);
    HTTP_SET(CURLOPT_ERRORBUFFER, curlerr);

    rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &total);
    /* do not leave pointers into the caller's memory behind */
    http_unhook(e);
    curl_slist_free_all(list);
    list = NULL;
    res->status = status;
    res->new_connections = nconn;
    res->total_time = total;

    if (res->nomem) {
        http_session_discard(s, NULL, 0);
        goto nomem;
    }
    if (res->too_large == 2) {
        snprintf(err, errlen, "response headers exceed the %zu byte limit", HTTP_MAX_HEADER_BYTES);
        kind = HTTP_ERR_TOO_LARGE;
    } else if (rc == CURLE_OUT_OF_MEMORY && res->seen_status && !res->nomem) {
        /* libcurl refuses one header line over CURL_MAX_HTTP_HEADER (100 KiB)
         * with CURLE_OUT_OF_MEMORY before our callback sees it: the peer sent
         * too much, we did not run out of memory (not worth a retry) */
        snprintf(err, errlen, "a response header line exceeds libcurl's %d byte limit", (int)CURL_MAX_HTTP_HEADER);
        kind = HTTP_ERR_TOO_LARGE;
    } else if (res->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "response body exceeds the %zu byte limit", res->max_body);
        kind = HTTP_ERR_TOO_LARGE;
    } else if (rc != CURLE_OK) {
        const char *what = curlerr[0] ? curlerr : curl_easy_strerror(rc);
        kind = http_classify(rc, res->seen_status);
        if (kind == HTTP_ERR_PROTOCOL && res->seen_status && rc != CURLE_WEIRD_SERVER_REPLY)
            snprintf(err, errlen, "response cut short: %s", what);
        else if (rc == CURLE_SSL_CONNECT_ERROR)
            snprintf(err, errlen, "TLS handshake failed: %s", what);
        else
            snprintf(err, errlen, "%s", what);
    } else if (status < 100) {
        snprintf(err, errlen, "no HTTP status in the response");
        kind = HTTP_ERR_PROTOCOL;
    }
    if (kind != HTTP_OK) {
        size_t n = strlen(err);
        while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == '\r')) err[--n] = '\0';
        /* a broken exchange leaves the connection in an unknown state */
        http_session_discard(s, NULL, 0);
    }
    return kind;

setopt_failed:
    http_unhook(e);
    curl_slist_free_all(list);
    snprintf(err, errlen, "%s", curl_easy_strerror(rc));
    return rc == CURLE_OUT_OF_MEMORY ? HTTP_ERR_NOMEM : HTTP_ERR_USAGE;
nomem:
    curl_slist_free_all(list);
    http_seterr(err, errlen, "out of memory");
    return HTTP_ERR_NOMEM;
}
