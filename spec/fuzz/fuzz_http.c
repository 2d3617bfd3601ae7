/*
 * fuzz_http.c - libFuzzer harness for the C side of reading a response
 * (src/http.c): the header callback (status lines, header lines, obsolete
 * folding, the Content-Length cap, the header-size cap) and the body
 * callback (the body cap), fed exactly as libcurl feeds them: one header
 * line per call, CRLF included, then the body in chunks. http.c is
 * included so its static callbacks can be driven without a network.
 *
 * Input: the header block up to the first empty line; then the body, cut
 * into chunks of 1..64 bytes by the input's own bytes. The cap is small
 * (4096) so that the limits are reached.
 */
#include "../../src/http.c"

#include <stdint.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_response r;
    size_t i = 0, line, n;
    int aborted = 0;

    memset(&r, 0, sizeof r);
    r.max_body = 4096;
    /* header lines, each passed with its line ending, like libcurl does */
    while (i < size && !aborted) {
        char buf[2048];
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        line = nl ? (size_t)(nl - (data + i)) + 1 : size - i;
        n = line < sizeof buf ? line : sizeof buf;
        memcpy(buf, data + i, n);
        i += line;
        if (http_header_cb(buf, 1, n, &r) != n) aborted = 1;
        if (n <= 2 && (n == 1 || buf[0] == '\r')) break;   /* end of the header block */
    }
    /* the body, in chunks */
    while (i < size && !aborted) {
        size_t chunk = (size_t)(data[i] % 64) + 1;
        if (chunk > size - i) chunk = size - i;
        if (http_write_cb((char *)data + i, 1, chunk, &r) != chunk) aborted = 1;
        i += chunk;
    }
    /* what a caller may rely on */
    CHECK(r.nheaders <= r.cap_headers);
    for (i = 0; i < r.nheaders; i++) {
        CHECK(r.headers[i].name != NULL && r.headers[i].value != NULL);
        CHECK(strlen(r.headers[i].name) <= HTTP_MAX_HEADER_BYTES);
    }
    CHECK(r.body_len <= r.max_body);
    if (r.body) CHECK(r.body[r.body_len] == '\0' && r.body_len < r.body_cap);
    if (aborted) CHECK(r.too_large || r.nomem);
    if (r.too_large == 2) CHECK(r.header_bytes > HTTP_MAX_HEADER_BYTES);
    http_response_free(&r);
    return 0;
}
