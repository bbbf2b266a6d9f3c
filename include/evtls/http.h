/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls/http.h - HTTP/1.1 exchanges over evtls connections.
 *
 * One request, one response, on a connected evtls_conn (one-off or pooled).
 * The response is parsed with libhttp-parser: Content-Length, chunked and
 * close-delimited bodies, HEAD and bodiless statuses. Limits on header size,
 * body size and time to first byte end in distinct errors (EVTLS_ERR_HTTP_*).
 * When the exchange ends with evtls_http_resp_get_keep_alive() true, the
 * connection is left connected and idle, ready for the next request or for
 * evtls_pool_checkin(). URLs are parsed here too (evtls_url_parse). */
#ifndef EVTLS_HTTP_H
#define EVTLS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/conn.h"
#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- URLs */

#define EVTLS_URL_HOST_MAX   256
#define EVTLS_URL_TARGET_MAX 2048

/* A parsed https URL. host has no brackets (an IPv6 literal is bare);
 * authority is host[:port] as written in the URL (the Host header);
 * target is the path and query ("/" when the URL has no path). */
typedef struct evtls_url {
    char host[EVTLS_URL_HOST_MAX];
    uint16_t port;  /* 443 (80 for http://) unless the URL names one */
    int host_is_ip; /* 4 or 6 for an address literal, 0 for a name */
    char authority[EVTLS_URL_HOST_MAX + 8];
    char target[EVTLS_URL_TARGET_MAX];
    const char *error;    /* after a failure: what is wrong, in words (static, or error_text) */
    int plain;            /* 1 for an http:// URL: plain TCP (evtls_cfg_set_plain_tcp) */
    char error_text[160]; /* the words of an error that names a part of the URL */
} evtls_url;

/* Parses text as an https or http URL ("https://host[:port][/path][?query]";
 * a fragment is dropped; http:// sets plain). With allow_bare set,
 * "host:port" and "host" are also accepted as https (target "/"). Other
 * schemes, user info, an empty host or port, a
 * port out of range, control characters or spaces, and parts longer than
 * the limits above are refused. A host with non-ASCII characters is turned
 * into A-labels (IDNA 2008 with UTS #46 mapping: "bücher.example" is
 * "xn--bcher-kva.example" in host and authority), and one that is not a
 * valid international name is refused, named. Returns 0, or
 * EVTLS_ERR_BAD_URL with u->error set. */
EVTLS_API EVTLS_MUST_CHECK int evtls_url_parse(const char *text, int allow_bare, evtls_url *u);

/* ---- requests */

typedef struct evtls_http_req evtls_http_req;

/* Creates a request: method (GET, HEAD, POST, PUT, DELETE, OPTIONS or
 * PATCH), authority for the Host header (e.g. url.authority) and target
 * (e.g. url.target). User-Agent and Accept headers are added unless set.
 * Returns NULL on a bad argument (a method or value with spaces or control
 * characters) or out of memory. */
EVTLS_API evtls_http_req *evtls_http_req_new(const char *method, const char *authority,
                                             const char *target);

/* Adds a header (or replaces User-Agent/Accept/Host/Connection if given).
 * Content-Length and Transfer-Encoding are managed by evtls_http_req_set_body.
 * Returns 0 or EVTLS_ERR_INVALID_ARG for a name or value that could split
 * the request (CR, LF, NUL, a colon or space in the name). */
EVTLS_API int evtls_http_req_add_header(evtls_http_req *r, const char *name, const char *value);

/* Sets the body (copied) and its Content-Length. A POST, PUT or PATCH
 * without a body is sent with Content-Length: 0. A request with a body
 * producer takes no body (EVTLS_ERR_INVALID_ARG), and the other way round. */
EVTLS_API int evtls_http_req_set_body(evtls_http_req *r, const void *data, size_t len);

/* A streamed request body: called as the connection can take more, it
 * fills buf (cap bytes) and returns how many it wrote, 0 at the end, a
 * negative evtls error that ends the exchange with it, or
 * EVTLS_HTTP_BODY_PAUSE when it has nothing yet (an upload from a source
 * that is not ready, as libcurl's CURL_READFUNC_PAUSE): it is not called
 * again until evtls_http_exchange_resume (evtls_fetch_resume for a fetch).
 * The exchange's timeouts keep running while it is paused. */
typedef long (*evtls_http_body_producer)(uint8_t *buf, size_t cap, void *arg);
#define EVTLS_HTTP_BODY_PAUSE     (-1000L)   /* not an error code: "nothing yet" */
#define EVTLS_HTTP_LENGTH_UNKNOWN UINT64_MAX /* chunked transfer coding */

/* Streams the body from produce instead of a buffer: with a known length
 * it is sent with Content-Length (a producer that gives more or less ends
 * the exchange with EVTLS_ERR_INVALID_ARG), with EVTLS_HTTP_LENGTH_UNKNOWN
 * in chunks (Transfer-Encoding: chunked). A produced body cannot be sent
 * twice: evtls_http_retry_safe says no to such a request. The request may
 * serve one exchange at a time. */
/* The producer can give its body again from the first byte: rewind is
 * called with the producer's arg before it is asked again, and returns 0
 * (or an error: then the body is not sent again). With it, a request that
 * HTTP/2 says the server never processed (EVTLS_ERR_H2_REFUSED: a
 * REFUSED_STREAM, or above a GOAWAY's last stream id) is sent again by the
 * client and by evtls-load, as a buffered one is; nothing else sends a
 * produced body twice. Set it after the producer. */
typedef int (*evtls_http_body_rewind)(void *arg);
EVTLS_API int evtls_http_req_set_body_rewind(evtls_http_req *r, evtls_http_body_rewind rewind);

EVTLS_API int evtls_http_req_set_body_producer(evtls_http_req *r, uint64_t len,
                                               evtls_http_body_producer produce, void *arg);

/* The request's bytes as they go on the wire (head and body), valid until
 * the request is changed or freed. */
EVTLS_API const uint8_t *evtls_http_req_get_bytes(evtls_http_req *r, size_t *len);

/* Gives r's bytes to c, before it connects, as TLS 1.3 early data
 * (evtls_conn_set_early_data, for HTTP/1.1). Only GET, HEAD, OPTIONS and
 * TRACE without a produced body may go early: an attacker can replay early
 * data, and other methods must not be sent twice (RFC 8470 section 4);
 * others get EVTLS_ERR_INVALID_ARG. Start the exchange with the same
 * request once c is connected: it does not write the bytes the server
 * accepted early, and writes them when they were not sent or were
 * rejected. A 425 (Too Early) answer means the server would not act on
 * them early: send the request again on another connection without early
 * data (the client does, once). The client never adds Early-Data: 1 (it
 * is for intermediaries). */
EVTLS_API int evtls_http_req_send_early(evtls_http_req *r, evtls_conn *c);

/* 1 when method may go as early data (GET, HEAD, OPTIONS, TRACE: safe to
 * replay, RFC 8470 section 4), else 0 (NULL too): what
 * evtls_http_req_send_early and the client allow, for a program that
 * checks before it has a request. */
EVTLS_API int evtls_http_method_early_safe(const char *method);

/* Frees r. A request may be freed while an exchange that uses it runs
 * (the exchange holds its own copy of the bytes it still has to send). */
EVTLS_API void evtls_http_req_free(evtls_http_req *r);

/* ---- responses */

typedef struct evtls_http_resp evtls_http_resp;

/* How the response body was delimited. */
typedef enum evtls_http_framing {
    EVTLS_HTTP_NO_BODY = 0,     /* HEAD, 1xx, 204, 304 */
    EVTLS_HTTP_CONTENT_LENGTH,  /* Content-Length */
    EVTLS_HTTP_CHUNKED,         /* Transfer-Encoding: chunked */
    EVTLS_HTTP_CLOSE_DELIMITED, /* until the server closed (with close_notify) */
    EVTLS_HTTP_STREAM_END       /* HTTP/2: until the stream's END_STREAM */
} evtls_http_framing;

EVTLS_API int evtls_http_resp_get_status(const evtls_http_resp *r);
/* The reason phrase ("OK"), "" when the server sent none. */
EVTLS_API const char *evtls_http_resp_get_reason(const evtls_http_resp *r);
/* 0 for HTTP/1.0, 1 for HTTP/1.1 (and 0 for HTTP/2). */
EVTLS_API int evtls_http_resp_get_minor_version(const evtls_http_resp *r);

/* The protocol the response came in: "HTTP/2", "HTTP/1.1" or "HTTP/1.0"
 * ("" for NULL). */
EVTLS_API const char *evtls_http_resp_get_protocol(const evtls_http_resp *r);

/* HTTP/2: the error code of the RST_STREAM or GOAWAY that ended the
 * exchange (RFC 9113 section 7, e.g. 7 REFUSED_STREAM, 8 CANCEL), 0 when
 * none did; and its name ("NO_ERROR" for 0). */
EVTLS_API uint32_t evtls_http_resp_get_h2_error(const evtls_http_resp *r);
EVTLS_API const char *evtls_http_h2_error_name(uint32_t code);
EVTLS_API size_t evtls_http_resp_get_header_count(const evtls_http_resp *r);
/* The i-th header as received (0-based); returns 0, or -1 when i is out of range. */
EVTLS_API int evtls_http_resp_get_header(const evtls_http_resp *r, size_t i, const char **name,
                                         const char **value);
/* The value of the first header called name (any case), or NULL. */
EVTLS_API const char *evtls_http_resp_get_header_value(const evtls_http_resp *r, const char *name);
/* The trailer fields of a chunked response (RFC 9112 section 7.1.2), as
 * the headers: they are in the response given to on_done (and to a fetch's
 * callback) once the last chunk is in; none before. */
EVTLS_API size_t evtls_http_resp_get_trailer_count(const evtls_http_resp *r);
EVTLS_API int evtls_http_resp_get_trailer(const evtls_http_resp *r, size_t i, const char **name,
                                          const char **value);
EVTLS_API const char *evtls_http_resp_get_trailer_value(const evtls_http_resp *r, const char *name);
EVTLS_API evtls_http_framing evtls_http_resp_get_framing(const evtls_http_resp *r);
/* The body when it was buffered (no body callback), else NULL with *len 0. */
EVTLS_API const uint8_t *evtls_http_resp_get_body(const evtls_http_resp *r, size_t *len);
/* Body bytes received (after de-chunking), buffered or not. */
EVTLS_API uint64_t evtls_http_resp_get_body_bytes(const evtls_http_resp *r);
/* 1 when the connection can carry another request: HTTP/1.1 without
 * "Connection: close" (or 1.0 with keep-alive), a delimited body, and no
 * byte after the response. */
EVTLS_API int evtls_http_resp_get_keep_alive(const evtls_http_resp *r);
/* Microseconds from the start of the exchange to the first response byte
 * (over HTTP/2 from the moment the stream's HEADERS went out: a stream over
 * the server's limit waits before, as h2load counts), and from the start to
 * the end of the response. */
EVTLS_API uint64_t evtls_http_resp_get_ttfb_us(const evtls_http_resp *r);
EVTLS_API uint64_t evtls_http_resp_get_total_us(const evtls_http_resp *r);

/* ---- exchanges */

typedef struct evtls_http_exchange evtls_http_exchange;

/* Limits and timeouts of one exchange (0 = no limit, except header bytes). */
typedef struct evtls_http_opts {
    size_t max_header_bytes;   /* status line + headers; default 64 KiB (at most 80 KiB) */
    uint64_t max_body_bytes;   /* default 16 MiB */
    unsigned ttfb_timeout_ms;  /* request start to first response byte; default 30 s */
    unsigned idle_timeout_ms;  /* longest silence inside the response; default 30 s */
    unsigned total_timeout_ms; /* the whole exchange; default 0 (none) */
} evtls_http_opts;

/* Fills o with the defaults above. */
EVTLS_API void evtls_http_opts_default_sized(evtls_http_opts *o, size_t size);
static inline void evtls_http_opts_default(evtls_http_opts *o)
{
    evtls_http_opts_default_sized(o, sizeof(evtls_http_opts));
}

/* Status line and headers are complete. Return 0 to go on, non-zero to
 * abort the exchange (done_cb then gets EVTLS_ERR_CANCELLED). */
typedef int (*evtls_http_head_cb)(evtls_http_exchange *x, const evtls_http_resp *r, void *arg);
/* A piece of the body (de-chunked). Same return convention. */
typedef int (*evtls_http_body_cb)(evtls_http_exchange *x, const uint8_t *data, size_t len,
                                  void *arg);
/* The exchange ended: err 0 with the complete response, or an error (the
 * response so far is still given, status 0 if none arrived). The exchange
 * and the response are freed when this returns. On success the connection
 * is connected and not reading; on an error it is failed or must be
 * closed (evtls_http_resp_get_keep_alive is then 0). */
typedef void (*evtls_http_done_cb)(evtls_http_exchange *x, int err, const evtls_http_resp *r,
                                   void *arg);

typedef struct evtls_http_cbs {
    evtls_http_head_cb on_head; /* may be NULL */
    evtls_http_body_cb on_body; /* NULL: the body is buffered in the response */
    evtls_http_done_cb on_done; /* required */
} evtls_http_cbs;

/* Sends req on the connected connection c and reads the response. Over
 * HTTP/1.1, c must be connected, not reading, and not used by another
 * exchange; the exchange takes over its read and drain callbacks until it
 * ends. When ALPN chose h2 (or a plain connection's configuration asks
 * for HTTP/2 with prior knowledge, evtls_cfg_set_http2), the exchange is
 * a stream: many run at once on c (those over the server's
 * MAX_CONCURRENT_STREAMS wait their turn), an HTTP/2 session reads and
 * writes c for good from the first exchange on, and a cancelled exchange
 * resets its stream alone, leaving c usable. opts may be NULL
 * (defaults). On success returns 0 and sets *out (may be NULL) to the
 * exchange; cbs->on_done is then called exactly once, never from inside
 * this call. On failure returns an error and calls nothing:
 * EVTLS_ERR_HTTP_ALPN when the server chose an ALPN protocol other than
 * HTTP/1.x and h2 (nothing is sent), EVTLS_ERR_STATE when c is not connected. If
 * c was checked out of a pool that is freed (or whose shutdown times out)
 * during the exchange, on_done gets EVTLS_ERR_POOL_FREED (or
 * EVTLS_ERR_POOL_CLOSED). */
EVTLS_API EVTLS_MUST_CHECK int
evtls_http_exchange_start_sized(evtls_conn *c, evtls_http_req *req, const evtls_http_opts *opts,
                                size_t opts_size, const evtls_http_cbs *cbs, size_t cbs_size,
                                void *arg, evtls_http_exchange **out);
EVTLS_MUST_CHECK static inline int evtls_http_exchange_start(evtls_conn *c, evtls_http_req *req,
                                                             const evtls_http_opts *opts,
                                                             const evtls_http_cbs *cbs, void *arg,
                                                             evtls_http_exchange **out)
{
    return evtls_http_exchange_start_sized(c, req, opts, sizeof(evtls_http_opts), cbs,
                                           sizeof(evtls_http_cbs), arg, out);
}

/* Stops an exchange without calling on_done and frees it. The connection
 * is left in an unknown position in the stream: close or abort it. */
EVTLS_API void evtls_http_exchange_cancel(evtls_http_exchange *x);

/* The body producer of x has data again after it returned
 * EVTLS_HTTP_BODY_PAUSE: it is called from the loop (never inside this
 * call). Returns 0; EVTLS_ERR_STATE when x is not paused (nothing done). */
EVTLS_API int evtls_http_exchange_resume(evtls_http_exchange *x);

/* The connection the exchange runs on. */
EVTLS_API evtls_conn *evtls_http_exchange_get_conn(const evtls_http_exchange *x);

/* The keep-alive race, as Go's http.Transport and libcurl handle it: a
 * server closes an idle connection just as a request arrives on it. Returns
 * 1 when an exchange that ended with err (r: its response so far, may be
 * NULL) may be sent again, once, on a new connection: no response byte
 * came, the connection had carried an earlier request (conn_reused), the
 * connection was closed or reset under it (PEER_CLOSED, PEER_RESET, EOF,
 * or a response truncated before its first byte), and the request is
 * idempotent (GET, HEAD, OPTIONS, PUT, DELETE, or it carries an
 * Idempotency-Key header). Never a POST or PATCH without that header. */
EVTLS_API int evtls_http_retry_safe(const evtls_http_req *req, int err, const evtls_http_resp *r,
                                    int conn_reused);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_HTTP_H */
