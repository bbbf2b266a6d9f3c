/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls/client.h - one call to fetch a URL: an HTTPS (or plain HTTP)
 * client over a pool, a configuration and a session cache. Connection
 * reuse, limits and waiting come from the pool; the keep-alive race (a
 * server closing an idle connection just as a request arrives on it) is
 * handled as Go's http.Transport and libcurl handle it: the request is
 * sent again once on a new connection when that is safe
 * (evtls_http_retry_safe). */
#ifndef EVTLS_CLIENT_H
#define EVTLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "evtls/cfg.h"
#include "evtls/http.h"
#include "evtls/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct evtls_client evtls_client;
typedef struct evtls_fetch evtls_fetch; /* one request in flight */

typedef struct evtls_client_opts {
    const evtls_pool_opts *pool; /* the client's pool (NULL: the defaults); copied */
    const evtls_http_opts *http; /* each exchange's limits: body size, TTFB, idle (NULL:
                                    the defaults); copied */
    unsigned deadline_ms;        /* each request's deadline, waiting and retry included (0: none) */
    int no_retry;                /* 1: never send a request again (exposes the keep-alive race) */
    /* HTTP/2 (an evtls_http2_mode): AUTO uses h2 where the server offers
     * it, REQUIRE fails where it does not, PRIOR_KNOWLEDGE speaks it to
     * http:// URLs too; OFF (the default) leaves the configuration's own
     * setting (evtls_cfg_set_http2). It is set on the configuration the
     * client is given, which must not be built yet (else the client is not
     * made). Requests to one origin then share its connections' streams;
     * a stream the server never processed (REFUSED_STREAM, or above a
     * GOAWAY's last stream id) is sent again on another, up to 5 times,
     * whatever its method, unless its body came from a producer. */
    int http2;
} evtls_client_opts;

/* Fills o with the defaults. */
EVTLS_API void evtls_client_opts_default_sized(evtls_client_opts *o, size_t size);
static inline void evtls_client_opts_default(evtls_client_opts *o)
{
    evtls_client_opts_default_sized(o, sizeof(evtls_client_opts));
}

/* Creates a client on base. https:// URLs use cfg (a reference is taken;
 * it is built here, and NULL means a default one: the system's trust
 * store); http:// URLs use a plain-TCP configuration of the client's own.
 * opts may be NULL. Returns NULL when cfg does not build or out of memory. */
EVTLS_API evtls_client *evtls_client_new_sized(struct event_base *base, evtls_cfg *cfg,
                                               const evtls_client_opts *opts, size_t opts_size,
                                               size_t pool_opts_size, size_t http_opts_size);
static inline evtls_client *evtls_client_new(struct event_base *base, evtls_cfg *cfg,
                                             const evtls_client_opts *opts)
{
    return evtls_client_new_sized(base, cfg, opts, sizeof(evtls_client_opts),
                                  sizeof(evtls_pool_opts), sizeof(evtls_http_opts));
}

/* Frees the client, its pool and its connections. Requests still in flight
 * are dropped: their callbacks are not called. Before event_base_free of
 * its base (see evtls/evtls.h). */
EVTLS_API void evtls_client_free(evtls_client *cl);

/* The client's pool (for its stats, a resolver or the session cache). */
EVTLS_API evtls_pool *evtls_client_get_pool(evtls_client *cl);

/* One request. Only url is required. */
typedef struct evtls_request {
    const char *method;         /* NULL: GET, or POST when there is a body */
    const char *url;            /* https://host[:port]/path?query or http:// */
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const void *body;           /* request body, or NULL */
    size_t body_len;
    /* ... or a streamed body, never both (EVTLS_ERR_INVALID_ARG): an
     * evtls_http_body_producer, called with the fetch's arg as the
     * connection takes more: produce_len bytes, or
     * EVTLS_HTTP_LENGTH_UNKNOWN for chunks. Such a request is never sent
     * again after the keep-alive race (its bytes cannot be replayed). */
    evtls_http_body_producer produce;
    uint64_t produce_len;
    unsigned deadline_ms; /* 0: the client's */
    /* The response body piece by piece; NULL buffers it in the response
     * (up to opts.http.max_body_bytes). Return non-zero to stop the
     * request (the callback then gets EVTLS_ERR_CANCELLED). */
    int (*on_body)(const uint8_t *data, size_t len, void *arg);
    /* The status line and headers, once they are in and before any of the
     * body (libcurl's header callback, whole): r is valid during the call.
     * Return non-zero to stop the request (EVTLS_ERR_CANCELLED). */
    int (*on_headers)(const evtls_http_resp *r, void *arg);
    /* Redirects (301, 302, 303, 307, 308 with a Location) followed, at
     * most this many (0: none, the 3xx is the response; libcurl's
     * FOLLOWLOCATION and MAXREDIRS). Location is resolved against the
     * request's URL; a 303, and a 301 or 302 to a POST, go on as GET
     * without the body; 307 and 308 keep the method and body (a produced
     * body cannot be sent twice: its 307/308 is the response). To another
     * origin (scheme, host or port) the Authorization, Proxy-Authorization
     * and Cookie headers stay behind. One more redirect than allowed ends
     * the fetch with EVTLS_ERR_HTTP_TOO_MANY_REDIRECTS (and that 3xx);
     * each hop's callbacks (on_headers, on_body) see only the final
     * response; the deadline covers them all. */
    unsigned follow_redirects;
    /* With produce: the producer starts its body again from the first byte
     * (called with the fetch's arg; 0, or an error), so that a request
     * HTTP/2 says the server never processed is sent again
     * (evtls_http_req_set_body_rewind). */
    evtls_http_body_rewind rewind;
    /* 1: when the client dials a connection for this request, the request
     * goes as TLS 1.3 early data with a resumed handshake's ClientHello
     * (evtls_cfg_set_early_data on the client's configuration; GET, HEAD,
     * OPTIONS and TRACE only: others are sent after the handshake, RFC
     * 8470). A 425 (Too Early) answer is sent again once on a connection
     * of its own without early data; evtls_fetch_info says what became of
     * it. An idle connection, when there is one, serves it as usual. */
    int early_data;
} evtls_request;

/* How a request went. The connection's fields describe the one the (last)
 * try ran on; they are empty (0, "" or NULL) when none was had. */
typedef struct evtls_fetch_info {
    int retried;       /* sent again on a new connection after the keep-alive race */
    int reused;        /* the (last) connection was reused from the pool */
    uint64_t wait_us;  /* waiting for a connection (the last try) */
    uint64_t total_us; /* from evtls_client_fetch to the callback */
    /* A failed connect's whole record (wolfSSL code, certificate flags,
     * detail); NULL otherwise. Valid during the callback only. */
    const evtls_last_error *error;
    /* The connection: the address and port connected to, 4 or 6 */
    char peer_addr[48];
    uint16_t port;
    int family;
    /* TLS: version, cipher and key-exchange group (static strings; NULL
     * over plain TCP), and whether the handshake resumed a session */
    const char *tls_version, *cipher, *group;
    int resumed;
    /* A new connection's phases (0 for a reused one): DNS, TCP connect,
     * TLS handshake, and the whole connect */
    uint64_t dns_us, tcp_us, tls_us, connect_us;
    /* From the request on the wire to the first byte of the response */
    uint64_t ttfb_us;
    /* Redirects followed, and the URL of the last request as it was sent:
     * scheme, authority and target (valid during the callback) */
    unsigned redirects;
    const char *url;
    /* "HTTP/2" or "HTTP/1.1" ("" when no response came), and the times a
     * stream the server never processed was sent again */
    const char *protocol;
    unsigned refused_retries;
    /* TLS 1.3 early data (evtls_request.early_data): the fate of the
     * request's bytes on the connection that answered (NOT_SENT when it
     * did not go early), and whether a 425 sent it again without */
    evtls_early_data early_data;
    int too_early;
} evtls_fetch_info;

/* Called once per request, from the loop: err 0 with the whole response
 * (any status: a 404 is a response), or an error with the response so far
 * (r may be NULL). r and info are valid during the call only. */
typedef void (*evtls_fetch_cb)(int err, const evtls_http_resp *r, const evtls_fetch_info *info,
                               void *arg);

/* Starts a request. Returns 0 (cb will be called exactly once, never from
 * inside this call) and sets *out (may be NULL) to a handle for
 * evtls_fetch_cancel; or an error and calls nothing: EVTLS_ERR_BAD_URL,
 * EVTLS_ERR_INVALID_ARG (a method, header or body evtls does not send). */
EVTLS_API EVTLS_MUST_CHECK int evtls_client_fetch_sized(evtls_client *cl, const evtls_request *rq,
                                                        size_t rq_size, evtls_fetch_cb cb,
                                                        void *arg, evtls_fetch **out);
EVTLS_MUST_CHECK static inline int evtls_client_fetch(evtls_client *cl, const evtls_request *rq,
                                                      evtls_fetch_cb cb, void *arg,
                                                      evtls_fetch **out)
{
    return evtls_client_fetch_sized(cl, rq, sizeof(evtls_request), cb, arg, out);
}

/* Cancels a request in flight: its callback is not called; a connection it
 * was using is closed (its position in the stream is unknown). Once the
 * callback started, or after a cancel or evtls_client_free, this does
 * nothing: the handle is a number with a generation, never the address of
 * a freed request, so a spent handle cannot name a newer request. */
EVTLS_API void evtls_fetch_cancel(evtls_fetch *f);

/* The request's body producer has data again after it returned
 * EVTLS_HTTP_BODY_PAUSE (see evtls/http.h): it is called from the loop.
 * Returns 0; EVTLS_ERR_STATE when it is not paused; EVTLS_ERR_INVALID_ARG
 * for a spent handle. */
EVTLS_API int evtls_fetch_resume(evtls_fetch *f);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_CLIENT_H */
