/*
 * e2e_floor.c - the end-to-end floor of make bench: what sending one
 * CreateInstance costs with no client around it. Replays the request that
 * bench/e2e.lua captured from the real client (the identical bytes: method,
 * URL, headers, body) N times with libcurl on one reused easy handle, every
 * option set once, the response body copied into one reused buffer.
 *
 *   e2e_floor CAPTURE_FILE N
 * prints "floor_e2e CALLS_PER_S connections OPENED".
 *
 * Capture file: method, URL, header count, that many "Name: value" lines,
 * the body length, then the body bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

typedef struct { char buf[4096]; size_t len; } sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t len = size * n;
    if (len > sizeof s->buf - s->len) return 0;
    memcpy(s->buf + s->len, p, len);
    s->len += len;
    return len;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "e2e_floor: %s\n", what);
    exit(1);
}

static char *read_line(FILE *f)
{
    static char line[8192];
    size_t n;
    if (!fgets(line, sizeof line, f)) die("capture file cut short");
    n = strlen(line);
    if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
    return strdup(line);
}

int main(int argc, char **argv)
{
    FILE *f;
    char *method, *url, *body;
    struct curl_slist *headers = NULL;
    long nheaders, body_len, i, n, status = 0, conns, opened = 0;
    CURL *e;
    CURLcode rc;
    sink out;
    double t0 = now_s(), dt;

    if (argc != 3 || (n = atol(argv[2])) < 1) {
        fprintf(stderr, "usage: e2e_floor CAPTURE_FILE N\n");
        return 2;
    }
    if (!(f = fopen(argv[1], "rb"))) die("cannot open the capture file");
    method = read_line(f);
    url = read_line(f);
    nheaders = atol(read_line(f));
    for (i = 0; i < nheaders; i++) headers = curl_slist_append(headers, read_line(f));
    /* the client tells libcurl to send no Expect and no Accept of its own */
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Accept:");
    body_len = atol(read_line(f));
    if (!(body = malloc((size_t)body_len + 1)) || fread(body, 1, (size_t)body_len, f) != (size_t)body_len)
        die("capture body cut short");
    fclose(f);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(e = curl_easy_init())) die("curl_easy_init failed");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &out);

    for (i = -n / 10; i < n; i++) {      /* the first n/10 calls warm up */
        if (i == 0) t0 = now_s();
        out.len = 0;
        rc = curl_easy_perform(e);
        if (rc != CURLE_OK) die(curl_easy_strerror(rc));
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200 || out.len == 0 || out.buf[0] != '{') die("unexpected response");
        conns = 0;
        curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
        opened += conns;
    }
    dt = now_s() - t0;
    printf("floor_e2e %.2f connections %ld\n", (double)n / dt, opened);

    curl_easy_cleanup(e);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    free(body);
    return 0;
}
