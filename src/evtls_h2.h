/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_h2.h - HTTP/2 on a connection (internal): one nghttp2 session per
 * connection, driven through nghttp2's memory interface over the
 * connection's byte stream, and the streams the exchanges run on.
 *
 * The session lives in the connection's protocol slot and goes with it.
 * It is the connection's reader for good (frames that come while no
 * stream is open, SETTINGS, PING, GOAWAY, go to nghttp2) and its writer:
 * what nghttp2 has to send is queued from the session's own event, as far
 * as the connection's write buffer takes it, and resumed on drain.
 *
 * A stream tells its exchange what happens through a sink. Status, fields
 * and a buffered body's bytes are given while a frame is parsed (no user
 * code may run there);
 * the head, the body's pieces and the end are given after nghttp2 returns,
 * from the connection's read callback or the session's event, never inside
 * nghttp2 and never inside an API call. */
#ifndef EVTLS_H2_H
#define EVTLS_H2_H

#include <stddef.h>
#include <stdint.h>

#include "evtls/http.h"

typedef struct evtls__h2 evtls__h2;
typedef struct evtls__h2_stream evtls__h2_stream;

typedef struct evtls__h2_sink {
    /* while nghttp2 runs: no user code. sent: the request's HEADERS went
     * out (a stream over the server's limit waits in nghttp2 before) */
    void (*sent)(void *ctx);
    int (*status)(void *ctx, int status);
    int (*field)(void *ctx, int trailer, const char *name, size_t nlen, const char *value,
                 size_t vlen);
    /* after nghttp2 returned: user code may run; non-zero stops the
     * stream (it is reset and nothing more is given) */
    int (*head)(void *ctx);
    int (*data)(void *ctx, const uint8_t *data, size_t len);
    /* NULL, or a body that is only buffered: taken while nghttp2 parses
     * (no user code); returns 0 or an error that resets the stream */
    int (*data_now)(void *ctx, const uint8_t *data, size_t len);
    /* the end: err 0 for a complete response; h2_code the peer's or our
     * RST_STREAM / GOAWAY code; reusable: the session takes new streams;
     * conn_gone: the connection was freed under the stream. The stream is
     * gone when it is called. */
    void (*done)(void *ctx, int err, uint32_t h2_code, const char *detail, int reusable,
                 int conn_gone);
    /* the request body's next piece (a producer): bytes, 0 at the end,
     * EVTLS_HTTP_BODY_PAUSE, or an error */
    long (*produce)(void *ctx, uint8_t *buf, size_t cap);
} evtls__h2_sink;

/* 1 when exchanges on c speak HTTP/2: ALPN chose h2, or a plain
 * connection whose configuration asks for prior knowledge. */
int evtls__h2_wanted(evtls_conn *c);

/* The session on c, made (and its preface and SETTINGS queued) when c has
 * none. NULL when out of memory. */
evtls__h2 *evtls__h2_get(evtls_conn *c);

/* The session on c if it has one. */
evtls__h2 *evtls__h2_of(const evtls_conn *c);

/* min(the peer's MAX_CONCURRENT_STREAMS, the client's cap): how many
 * streams may be open at once; 0 once the session takes no new stream. */
unsigned evtls__h2_limit(const evtls__h2 *h);

/* 1 once the session takes no new stream ever (GOAWAY, an error, the
 * connection gone, stream ids used up). */
int evtls__h2_closed(const evtls__h2 *h);

/* Opens a stream for req. body/body_len: a buffered body (copied by the
 * request; it must outlive the stream) or, with sink->produce, a produced
 * one of produce_len bytes (EVTLS_HTTP_LENGTH_UNKNOWN: until 0). Returns 0
 * or an error; nothing is sent inside this call. */
int evtls__h2_submit(evtls__h2 *h, const evtls_http_req *req, const evtls__h2_sink *sink, void *ctx,
                     int has_producer, evtls__h2_stream **out);

/* The stream is no longer wanted: reset with CANCEL if still open; the
 * sink is never called again. */
void evtls__h2_stream_cancel(evtls__h2_stream *s);

/* The producer has data again after EVTLS_HTTP_BODY_PAUSE. */
void evtls__h2_stream_resume(evtls__h2_stream *s);

/* Counters of the session, for the pool and the tools. */
typedef struct evtls__h2_counts {
    uint64_t streams, refused, reset, goaways;
    uint64_t pings_lost; /* liveness PINGs not answered in time */
    uint32_t peer_max_streams;
} evtls__h2_counts;
void evtls__h2_get_counts(const evtls__h2 *h, evtls__h2_counts *out);

#endif
