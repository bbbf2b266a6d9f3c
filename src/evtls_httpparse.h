/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_httpparse.h - the HTTP/1.x response parser (internal, sans I/O).
 *
 * Bytes in, events out: wraps libhttp-parser, keeps the status line and the
 * headers in one bounded buffer, buffers or hands over the body, applies
 * the size limits and decides framing and reusability. No sockets, no
 * timers: the exchange glue (evtls_http.c) and the fuzz harness feed it. */
#ifndef EVTLS_HTTPPARSE_H
#define EVTLS_HTTPPARSE_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>
#include "evtls/http.h"

struct evtls_http_resp {
    int status;
    int minor;
    char *hbuf; /* reason\0name\0value\0name\0value\0... */
    size_t hlen, hcap;
    size_t *hoff; /* name offset, value offset, for each header, then each trailer */
    size_t nh, hoff_cap;
    size_t n_head;  /* of the nh, the headers (the rest: a chunked body's trailers) */
    int head_ended; /* n_head is known */
    evtls_http_framing framing;
    int buffer_body;
    uint8_t *body;
    size_t blen, bcap;
    uint64_t body_bytes;
    int keep_alive;
    int h2;            /* came over HTTP/2 */
    uint32_t h2_error; /* the RST_STREAM or GOAWAY code that ended it, 0 if none */
    uint64_t ttfb_us, total_us;
};

/* What the parser tells its user. Each returns 0 to go on, non-zero to stop
 * (evtls__httpp_feed then returns EVTLS_ERR_CANCELLED). */
typedef struct evtls__httpp_hooks {
    int (*on_head)(void *ctx);
    int (*on_body)(void *ctx, const uint8_t *data, size_t len); /* NULL: buffer */
    void *ctx;
} evtls__httpp_hooks;

typedef struct evtls__httpp {
    http_parser p;
    struct evtls_http_resp r;
    size_t max_header;
    uint64_t max_body;
    size_t header_bytes; /* counted while headers arrive */
    int head;            /* the request was HEAD: no body whatever the headers say */
    int in_value;        /* the last header piece was a value */
    int headers_done;
    int trailer_next; /* the next field name starts a trailer */
    int complete;
    int got_bytes;
    int err; /* an evtls_err set by a callback */
    const char *detail;
    evtls__httpp_hooks hooks;
} evtls__httpp;

#define EVTLS__HTTPP_MORE     0
#define EVTLS__HTTPP_COMPLETE 1

/* Prepares pp. max_header 0 means the default; hooks may be NULL. */
void evtls__httpp_init(evtls__httpp *pp, size_t max_header, uint64_t max_body, int head,
                       const evtls__httpp_hooks *hooks);

/* Feeds n bytes. Returns EVTLS__HTTPP_MORE (all used, want more),
 * EVTLS__HTTPP_COMPLETE (*used bytes made up the rest of the response; bytes
 * after them make the connection unusable, which the parser records), or
 * an evtls_err (pp->detail says why). Do not feed after an end. */
int evtls__httpp_feed(evtls__httpp *pp, const uint8_t *data, size_t n, size_t *used);

/* The stream ended; clean is 1 for close_notify, 0 for a bare TCP close.
 * Returns EVTLS__HTTPP_COMPLETE when that ends a close-delimited body
 * (clean only: a bare close could be a truncation attack), else
 * EVTLS_ERR_HTTP_TRUNCATED. */
int evtls__httpp_eof(evtls__httpp *pp, int clean);

/* Bytes of a Content-Length body still to come; 0 before the head, after
 * the body, and for other framings. */
uint64_t evtls__httpp_body_left(const evtls__httpp *pp);

/* A response that comes in HTTP/2 frames (evtls_h2.c parses them): the
 * final status, then each field of the header block, the end of the
 * block, body pieces (to the body hook or the buffer, under the same
 * limits) and trailer fields, then the end. Each returns 0 or an evtls
 * error (pp->detail says why). */
int evtls__httpp_h2_status(evtls__httpp *pp, int status);
int evtls__httpp_h2_field(evtls__httpp *pp, int trailer, const char *name, size_t nlen,
                          const char *value, size_t vlen);
void evtls__httpp_h2_end_head(evtls__httpp *pp);
int evtls__httpp_h2_body(evtls__httpp *pp, const uint8_t *data, size_t n);
void evtls__httpp_h2_complete(evtls__httpp *pp, int reusable);

/* Frees what pp holds (the response goes with it). */
void evtls__httpp_free(evtls__httpp *pp);

#endif
