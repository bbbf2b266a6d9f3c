/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_http_int.h - what the client needs of a request beyond http.h. */
#ifndef EVTLS_HTTP_INT_H
#define EVTLS_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "evtls/http.h"

/* A request, as its two wire forms (HTTP/1.1 bytes, HTTP/2 fields) read it. */
struct req_header {
    char *name;
    char *value;
};

struct evtls_http_req {
    char method[8];
    char *authority;
    char *target;
    struct req_header *h;
    size_t nh, cap;
    uint8_t *body;
    size_t body_len;
    int has_body;
    evtls_http_body_producer produce; /* a streamed body, or NULL */
    void *produce_arg;
    uint64_t produce_len;          /* EVTLS_HTTP_LENGTH_UNKNOWN: chunked */
    evtls_http_body_rewind rewind; /* the producer starts again, or NULL */
    uint8_t *wire;
    size_t wire_len;
};

/* The request a redirect makes of r: its headers (but Host, and the
 * credentials when drop_credentials: Authorization, Proxy-Authorization,
 * Cookie) to authority and target with method; the body goes along only
 * when the method is kept (307, 308) and r has a buffered one. NULL when
 * out of memory or r streams its body from a producer (its bytes cannot be
 * sent twice). */
evtls_http_req *evtls__http_req_redirected(const evtls_http_req *r, const char *method,
                                           const char *authority, const char *target,
                                           int drop_credentials);

/* 1 when r may go as early data: GET, HEAD, OPTIONS or TRACE without a
 * produced body (RFC 8470 section 4). */
int evtls__http_req_early_safe(const evtls_http_req *r);

/* A request that may go again whole: none, a buffered body, or a
 * produced one rewound now (its rewind returned 0). */
int evtls__http_req_replay(evtls_http_req *r);

/* The method of r. */
const char *evtls__http_req_method(const evtls_http_req *r);

#endif
