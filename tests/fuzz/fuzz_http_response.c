/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_http_response.c - libFuzzer harness for the HTTP/1.1 response path
 * (evtls_httpparse over http-parser): the bytes a server sends, cut into
 * reads of a size the input chooses, one response after another as on a
 * keep-alive connection, then the end of the stream, clean or not.
 *
 * Input: byte 0 = flags (bit 0: HEAD request, bit 1: stream the body,
 * bit 2: clean EOF, bits 3-7: read size - 1), the rest = the stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evtls_httpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_head(void *ctx)
{
    (void)ctx;
    return 0;
}

static int on_body(void *ctx, const uint8_t *d, size_t n)
{
    size_t *seen = ctx;
    if (n > 0 && d == NULL)
        abort();
    *seen += n;
    return 0;
}

/* What the accessors say must hold together. */
static void check(const evtls_http_resp *r, size_t max_header, uint64_t max_body)
{
    int status = evtls_http_resp_get_status(r);
    if (status < 100 || status > 999)
        abort();
    size_t nh = evtls_http_resp_get_header_count(r);
    for (size_t i = 0; i < nh; i++) {
        const char *name, *value;
        if (evtls_http_resp_get_header(r, i, &name, &value) != 0 || !name || !value)
            abort();
        if (strlen(name) + strlen(value) > max_header)
            abort();
    }
    size_t len;
    const uint8_t *body = evtls_http_resp_get_body(r, &len);
    if (len > max_body || (len > 0 && body == NULL))
        abort();
    (void)evtls_http_resp_get_reason(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    size_t step = (size_t)(flags >> 3) + 1;
    data++;
    size--;
    const size_t max_header = 2048;
    const uint64_t max_body = 4096;
    size_t streamed = 0;
    evtls__httpp_hooks hooks = {on_head, (flags & 2) ? on_body : NULL, &streamed};
    evtls__httpp pp;
    evtls__httpp_init(&pp, max_header, max_body, flags & 1, &hooks);
    size_t off = 0;
    int rc = EVTLS__HTTPP_MORE;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        size_t used = 0;
        rc = evtls__httpp_feed(&pp, data + off, n, &used);
        if (used > n)
            abort();
        off += used;
        if (rc == EVTLS__HTTPP_COMPLETE) {
            check(&pp.r, max_header, max_body);
            if (!pp.r.keep_alive)
                break;
            /* The next response on the same connection. */
            evtls__httpp_free(&pp);
            evtls__httpp_init(&pp, max_header, max_body, flags & 1, &hooks);
            rc = EVTLS__HTTPP_MORE;
            continue;
        }
        if (rc != EVTLS__HTTPP_MORE)
            break; /* an error: the connection would be closed */
        if (used == 0 && n > 0)
            abort(); /* no progress without an error */
    }
    if (rc == EVTLS__HTTPP_MORE) {
        rc = evtls__httpp_eof(&pp, flags & 4);
        if (rc == EVTLS__HTTPP_COMPLETE)
            check(&pp.r, max_header, max_body);
        else if (rc >= 0)
            abort();
    }
    if (rc < 0 && evtls_err_get_class(rc) != EVTLS_CLASS_HTTP)
        abort(); /* every failure is an HTTP error */
    evtls__httpp_free(&pp);
    return 0;
}
