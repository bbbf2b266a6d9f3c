/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_client.c - one call to fetch a URL, over a pool (see
 * evtls/client.h). A request goes: checkout -> exchange -> checkin (or
 * release) -> callback; an exchange that meets the keep-alive race is
 * started again once on a new connection, when evtls_http_retry_safe says
 * so. The request owns its deadline timer; its callback always runs from
 * the loop (the pool's and the exchange's callbacks). */
#include <event2/event.h>
#include <event2/event_struct.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "evtls/client.h"
#include "evtls_error_int.h"
#include "evtls_h2.h"
#include "evtls_handle.h"
#include "evtls_http_int.h"
#include "evtls_log_int.h"
#include "evtls_pool_int.h"
#include "evtls_redirect.h"
#include "evtls_sized.h"
#include "evtls_time.h"

#define REFUSED_RETRIES 5 /* a stream the server never processed, sent again */

/* Room for a URL as evtls_url holds it: scheme, authority, target. */
#define URL_MAX (EVTLS_URL_HOST_MAX + EVTLS_URL_TARGET_MAX + 24)

struct evtls_fetch {
    TAILQ_ENTRY(evtls_fetch) link;
    evtls_client *cl;
    evtls_url url;
    evtls_cfg *cfg; /* the client's TLS or plain configuration */
    evtls_http_req *req;
    int (*on_body)(const uint8_t *data, size_t len, void *arg);
    int (*on_headers)(const evtls_http_resp *r, void *arg);
    unsigned follow; /* redirects to follow at most */
    int hop;         /* the response coming is a redirect to follow: not the user's */
    evtls_fetch_cb cb;
    void *arg;
    evtls_checkout *co;     /* waiting for a connection */
    evtls_conn *conn;       /* checked out */
    evtls_http_exchange *x; /* running on conn */
    struct event deadline;
    uint64_t t0_us;
    evtls_fetch_info info;
    evtls_last_error rec; /* a failed connect's record (info.error points here) */
    evtls__handle h;      /* the application's handle (0: none asked for) */
    int early;            /* the request may go as early data (evtls_request.early_data) */
};

/* The client's options, its own copies (the application's pointed-to
 * structs need not outlive evtls_client_new). */
struct client_opts {
    evtls_pool_opts pool;
    evtls_http_opts http;
    unsigned deadline_ms;
    int no_retry;
    int http2;
};

struct evtls_client {
    struct event_base *base;
    evtls_cfg *tls, *plain;
    evtls_pool *pool;
    struct client_opts o;
    TAILQ_HEAD(, evtls_fetch) live;
};

void evtls_client_opts_default_sized(evtls_client_opts *o, size_t size)
{
    if (o == NULL)
        return;
    evtls_client_opts d;
    memset(&d, 0, sizeof d); /* NULL pool and http options: the defaults */
    EVTLS__COPY_OUT(o, size, &d);
}

evtls_client *evtls_client_new_sized(struct event_base *base, evtls_cfg *cfg,
                                     const evtls_client_opts *opts, size_t opts_size,
                                     size_t pool_opts_size, size_t http_opts_size)
{
    if (base == NULL)
        return NULL;
    evtls_client *cl = calloc(1, sizeof *cl);
    if (cl == NULL)
        return NULL;
    cl->base = base;
    TAILQ_INIT(&cl->live);
    evtls_client_opts co;
    evtls_client_opts_default(&co);
    if (opts)
        EVTLS__COPY_IN(&co, opts, opts_size);
    evtls_pool_opts_default(&cl->o.pool);
    if (co.pool)
        EVTLS__COPY_IN(&cl->o.pool, co.pool, pool_opts_size);
    evtls_http_opts_default(&cl->o.http);
    if (co.http)
        EVTLS__COPY_IN(&cl->o.http, co.http, http_opts_size);
    cl->o.deadline_ms = co.deadline_ms;
    cl->o.no_retry = co.no_retry;
    cl->o.http2 = co.http2;
    cl->tls = cfg ? evtls_cfg_ref(cfg) : evtls_cfg_new();
    cl->plain = evtls_cfg_new();
    if (cl->tls && co.http2 != EVTLS_HTTP2_OFF &&
        evtls_cfg_set_http2(cl->tls, (evtls_http2_mode)co.http2, 0) != 0) {
        LOGW("client: http2 %d cannot be set on the configuration: %s", co.http2,
             evtls_cfg_get_last_error(cl->tls)->detail);
        evtls_client_free(cl);
        return NULL;
    }
    if (cl->plain && co.http2 == EVTLS_HTTP2_PRIOR_KNOWLEDGE &&
        evtls_cfg_set_http2(cl->plain, EVTLS_HTTP2_PRIOR_KNOWLEDGE, 0) != 0) {
        evtls_client_free(cl);
        return NULL;
    }
    if (cl->tls == NULL || cl->plain == NULL || evtls_cfg_build(cl->tls) != 0 ||
        evtls_cfg_set_plain_tcp(cl->plain, 1) != 0 || evtls_cfg_build(cl->plain) != 0 ||
        (cl->pool = evtls_pool_new(base, &cl->o.pool)) == NULL) {
        evtls_client_free(cl);
        return NULL;
    }
    return cl;
}

evtls_pool *evtls_client_get_pool(evtls_client *cl)
{
    return cl ? cl->pool : NULL;
}

/* Lets go of whatever the request holds, without its callback. */
/* Lets go of the checkout, exchange and connection the request holds. */
static void let_go(evtls_fetch *f)
{
    if (f->co)
        evtls_pool_cancel(f->co);
    if (f->x)
        evtls_http_exchange_cancel(f->x); /* the stream is now mid-response */
    if (f->conn && evtls__h2_of(f->conn) && f->x)
        evtls_pool_checkin(f->cl->pool, f->conn); /* only its stream was reset */
    else if (f->conn)
        evtls_pool_release(f->cl->pool, f->conn);
    f->co = NULL;
    f->x = NULL;
    f->conn = NULL;
}

/* Ends the request without its callback. */
static void fetch_drop(evtls_fetch *f)
{
    evtls__handle_drop(f->h);
    let_go(f);
    TAILQ_REMOVE(&f->cl->live, f, link);
    event_del(&f->deadline);
    evtls_http_req_free(f->req);
    free(f);
}

/* Ends the request: its callback, then it is freed. Nothing of f or its
 * client is touched after the callback (which may free the client). */
static void finish(evtls_fetch *f, int err, const evtls_http_resp *r)
{
    evtls_client *cl = f->cl;
    evtls__handle_drop(f->h); /* a cancel from now on is a no-op */
    TAILQ_REMOVE(&cl->live, f, link);
    event_del(&f->deadline);
    f->info.total_us = evtls__now_us() - f->t0_us;
    evtls_fetch_cb cb = f->cb;
    void *arg = f->arg;
    evtls_fetch_info info = f->info;
    evtls_last_error rec = f->rec;
    if (info.error)
        info.error = &rec;
    char url[URL_MAX]; /* the last request's, from what it was sent with */
    snprintf(url, sizeof url, "%s://%s%s", f->url.plain ? "http" : "https", f->url.authority,
             f->url.target);
    info.url = url;
    evtls_http_req_free(f->req);
    free(f);
    cb(err, r, &info, arg);
}

static void start_checkout(evtls_fetch *f);

/* A redirect: a 3xx to follow, with a Location. */
static int is_redirect(const evtls_http_resp *r)
{
    return evtls__redirect_status(evtls_http_resp_get_status(r)) &&
           evtls_http_resp_get_header_value(r, "Location") != NULL;
}

static int on_body(evtls_http_exchange *x, const uint8_t *data, size_t len, void *arg)
{
    (void)x;
    evtls_fetch *f = arg;
    return f->hop || f->on_body == NULL ? 0 : f->on_body(data, len, f->arg);
}

static int on_head(evtls_http_exchange *x, const evtls_http_resp *r, void *arg)
{
    (void)x;
    evtls_fetch *f = arg;
    f->hop = f->info.redirects < f->follow && is_redirect(r); /* hops left */
    return f->hop || f->on_headers == NULL ? 0 : f->on_headers(r, f->arg);
}

/* Follows the redirect r: the next request on its way (0), or an error to
 * end the fetch with; 1 when it cannot be followed (a produced body to
 * send again): r is the response. */
static int follow(evtls_fetch *f, const evtls_http_resp *r)
{
    int status = evtls_http_resp_get_status(r);
    const char *loc = evtls_http_resp_get_header_value(r, "Location");
    char next[URL_MAX];
    evtls_url nu;
    if (evtls__redirect_resolve(&f->url, loc, next, sizeof next) != 0 ||
        evtls_url_parse(next, 0, &nu) != 0) {
        LOGW("client: %s%s: redirect to an unusable Location '%.200s'", f->url.authority,
             f->url.target, loc);
        return EVTLS_ERR_BAD_URL;
    }
    const char *method = evtls__redirect_method(status, evtls__http_req_method(f->req));
    int cross = evtls__redirect_cross_origin(&f->url, &nu);
    evtls_http_req *req =
        evtls__http_req_redirected(f->req, method, nu.authority, nu.target, cross);
    if (req == NULL)
        return 1; /* a produced body: its bytes are gone */
    LOGD("client: %d from %s%s: %s %s%s", status, f->url.authority, f->url.target, method,
         nu.authority, nu.target);
    evtls_http_req_free(f->req);
    f->req = req;
    f->url = nu;
    f->cfg = nu.plain ? f->cl->plain : f->cl->tls;
    f->info.redirects++;
    start_checkout(f);
    return 0;
}

/* What the fetch tells about the connection it got. */
static void note_conn(evtls_fetch *f, evtls_conn *c)
{
    const evtls_conn_info *ci = evtls_conn_get_info(c);
    evtls_fetch_info *in = &f->info;
    snprintf(in->peer_addr, sizeof in->peer_addr, "%s", ci->peer_addr);
    in->port = ci->port;
    in->family = ci->family;
    in->tls_version = ci->tls_version;
    in->cipher = ci->cipher;
    in->group = ci->group;
    in->resumed = ci->resumed;
    /* a reused connection's early data was another request's */
    in->early_data = in->reused ? EVTLS_EARLY_DATA_NOT_SENT : ci->early_data;
    if (in->reused) {
        in->dns_us = in->tcp_us = in->tls_us = in->connect_us = 0;
    } else {
        in->dns_us = ci->dns_us;
        in->tcp_us = ci->tcp_us;
        in->tls_us = ci->tls_us;
        in->connect_us = ci->total_us;
    }
}

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    evtls_fetch *f = arg;
    evtls_client *cl = f->cl;
    evtls_conn *c = f->conn;
    f->x = NULL;
    f->conn = NULL;
    f->info.ttfb_us = r ? evtls_http_resp_get_ttfb_us(r) : 0;
    f->info.protocol = r && evtls_http_resp_get_status(r) ? evtls_http_resp_get_protocol(r) : "";
    int h2 = evtls__h2_of(c) != NULL;
    /* HTTP/2: the server never processed the stream, whatever its method:
     * sent again (on another connection when this one is going away),
     * unless its body came from a producer */
    if (err == EVTLS_ERR_H2_REFUSED && !cl->o.no_retry &&
        f->info.refused_retries < REFUSED_RETRIES && evtls__http_req_replay(f->req)) {
        LOGD("client: %s%s: stream refused by the server: sent again", f->url.authority,
             f->url.target);
        evtls_pool_checkin(cl->pool, c);
        f->info.refused_retries++;
        start_checkout(f);
        return;
    }
    if (err && !h2 && !cl->o.no_retry && !f->info.retried &&
        evtls_http_retry_safe(f->req, err, r, f->info.reused)) {
        LOGI("client: %s%s met the keep-alive race (%s before any answer on a reused "
             "connection): sent again on a new connection",
             f->url.authority, f->url.target, evtls_err_name(err));
        evtls_pool_release(cl->pool, c);
        /* The origin's other idle connections are as old: not trusted. */
        evtls__pool_drop_idle(cl->pool, f->cfg, f->url.host, f->url.port);
        f->info.retried = 1;
        start_checkout(f);
        return;
    }
    /* 425 Too Early (RFC 8470 section 5.2): the server would not act on
     * the request in early data: once more, after a handshake */
    if (err == 0 && evtls_http_resp_get_status(r) == 425 &&
        f->info.early_data == EVTLS_EARLY_DATA_ACCEPTED && !f->info.too_early) {
        LOGD("client: %s%s: 425 Too Early: sent again without early data", f->url.authority,
             f->url.target);
        evtls_pool_release(cl->pool, c);
        f->info.too_early = 1;
        start_checkout(f);
        return;
    }
    /* an HTTP/2 stream's error leaves its connection usable: the session says */
    if ((err == 0 || h2) && r && evtls_http_resp_get_keep_alive(r))
        evtls_pool_checkin(cl->pool, c);
    else
        evtls_pool_release(cl->pool, c);
    if (err == 0 && f->follow && is_redirect(r)) {
        if (f->info.redirects == f->follow) {
            err = EVTLS_ERR_HTTP_TOO_MANY_REDIRECTS;
        } else {
            int rc = follow(f, r);
            if (rc == 0)
                return;
            if (rc < 0)
                err = rc;
        }
    }
    finish(f, err, r);
}

static void on_checkout(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *ci,
                        void *arg)
{
    (void)p;
    evtls_fetch *f = arg;
    f->co = NULL;
    f->info.reused = ci ? ci->reused : 0;
    f->info.wait_us = ci ? ci->wait_us : 0;
    if (err) {
        if (ci && ci->error) {
            f->rec = *ci->error;
            f->info.error = &f->rec;
        }
        finish(f, err, NULL);
        return;
    }
    f->conn = c;
    note_conn(f, c);
    f->hop = 0;
    evtls_http_cbs cbs = {f->on_headers || f->follow ? on_head : NULL, f->on_body ? on_body : NULL,
                          on_done};
    int rc = evtls_http_exchange_start(c, f->req, &f->cl->o.http, &cbs, f, &f->x);
    if ((rc == EVTLS_ERR_H2_REFUSED || (rc == EVTLS_ERR_STATE && evtls__h2_of(c))) &&
        f->info.refused_retries < REFUSED_RETRIES) {
        /* the HTTP/2 connection went away (a GOAWAY, its end) between the
         * checkout and now: nothing was sent */
        f->conn = NULL;
        evtls_pool_release(f->cl->pool, c);
        f->info.refused_retries++;
        start_checkout(f);
    } else if (rc != 0) {
        f->conn = NULL;
        evtls_pool_release(f->cl->pool, c);
        finish(f, rc, NULL);
    }
}

/* The checkout of f's request: with its bytes for early data when it may
 * go early (the first try of the first hop, before any 425). */
static int checkout(evtls_fetch *f)
{
    size_t len = 0;
    const uint8_t *early = NULL;
    if (f->early && !f->info.too_early && !f->info.retried && !f->info.redirects &&
        !f->info.refused_retries && !f->url.plain)
        early = evtls_http_req_get_bytes(f->req, &len);
    return evtls__pool_checkout_early(f->cl->pool, f->cfg, f->url.host, f->url.port, early,
                                      early ? len : 0, on_checkout, f, &f->co);
}

/* From the loop (a retry): a checkout that fails at once ends the request. */
static void start_checkout(evtls_fetch *f)
{
    int rc = checkout(f);
    if (rc != 0) {
        f->co = NULL;
        finish(f, rc, NULL);
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_fetch *f = arg;
    let_go(f);
    finish(f, EVTLS_ERR_TIMEOUT, NULL);
}

/* The request's bytes: method, target, Host, headers, body. */
static int build_request(evtls_fetch *f, const evtls_request *rq)
{
    const char *method = rq->method ? rq->method : rq->body || rq->produce ? "POST" : "GET";
    f->req = evtls_http_req_new(method, f->url.authority, f->url.target);
    if (f->req == NULL)
        return EVTLS_ERR_INVALID_ARG;
    for (const char *const *h = rq->headers; h && *h; h++) {
        const char *colon = strchr(*h, ':');
        char name[128];
        if (colon == NULL || colon == *h || (size_t)(colon - *h) >= sizeof name)
            return EVTLS_ERR_INVALID_ARG;
        memcpy(name, *h, (size_t)(colon - *h));
        name[colon - *h] = '\0';
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        int rc = evtls_http_req_add_header(f->req, name, value);
        if (rc != 0)
            return rc;
    }
    if (rq->body && evtls_http_req_set_body(f->req, rq->body, rq->body_len) != 0)
        return EVTLS_ERR_INVALID_ARG;
    if (rq->produce &&
        evtls_http_req_set_body_producer(f->req, rq->produce_len, rq->produce, f->arg) != 0)
        return EVTLS_ERR_INVALID_ARG;
    if (rq->rewind && (rq->produce == NULL || evtls_http_req_set_body_rewind(f->req, rq->rewind)))
        return EVTLS_ERR_INVALID_ARG;
    return 0;
}

int evtls_client_fetch_sized(evtls_client *cl, const evtls_request *request, size_t rq_size,
                             evtls_fetch_cb cb, void *arg, evtls_fetch **out)
{
    /* The program's request over a zeroed one of the library's size: the
     * fields it does not know are off. */
    evtls_request whole;
    memset(&whole, 0, sizeof whole);
    if (request)
        EVTLS__COPY_IN(&whole, request, rq_size);
    const evtls_request *rq = request ? &whole : NULL;
    if (out)
        *out = NULL;
    if (evtls__log_in_handler())
        return EVTLS_ERR_STATE;
    if (cl == NULL || rq == NULL || rq->url == NULL || cb == NULL ||
        (rq->produce && (rq->body || rq->body_len))) /* a body and a producer: which one? */
        return EVTLS_ERR_INVALID_ARG;
    evtls_fetch *f = calloc(1, sizeof *f);
    if (f == NULL)
        return EVTLS_ERR_NOMEM;
    f->cl = cl;
    f->cb = cb;
    f->arg = arg;
    f->on_body = rq->on_body;
    f->on_headers = rq->on_headers;
    f->info.protocol = "";
    f->follow = rq->follow_redirects;
    f->t0_us = evtls__now_us();
    int rc = evtls_url_parse(rq->url, 0, &f->url);
    if (rc == 0)
        rc = build_request(f, rq);
    if (rc != 0) {
        evtls_http_req_free(f->req);
        free(f);
        return rc;
    }
    f->cfg = f->url.plain ? cl->plain : cl->tls;
    TAILQ_INSERT_TAIL(&cl->live, f, link);
    evtimer_assign(&f->deadline, cl->base, on_deadline, f);
    unsigned ms = rq->deadline_ms ? rq->deadline_ms : cl->o.deadline_ms;
    if (ms) {
        struct timeval tv = evtls__tv_ms(ms);
        evtimer_add(&f->deadline, &tv);
    }
    if (out && (f->h = evtls__handle_new(f)) == 0)
        rc = EVTLS_ERR_NOMEM;
    f->early = rq->early_data && evtls__http_req_early_safe(f->req);
    if (rc == 0)
        rc = checkout(f);
    if (rc != 0) { /* nothing was called: the error is the caller's */
        f->co = NULL;
        fetch_drop(f);
        return rc;
    }
    if (out)
        *out = (evtls_fetch *)f->h;
    return 0;
}

int evtls_fetch_resume(evtls_fetch *handle)
{
    evtls_fetch *f = evtls__handle_get((evtls__handle)handle);
    if (f == NULL)
        return EVTLS_ERR_INVALID_ARG; /* spent: its callback ran, or it was cancelled */
    return f->x ? evtls_http_exchange_resume(f->x) : EVTLS_ERR_STATE;
}

void evtls_fetch_cancel(evtls_fetch *handle)
{
    evtls_fetch *f = evtls__log_in_handler() ? NULL : evtls__handle_get((evtls__handle)handle);
    if (f) /* NULL: spent (its callback ran or runs) or already cancelled */
        fetch_drop(f);
}

void evtls_client_free(evtls_client *cl)
{
    if (cl == NULL || evtls__log_in_handler())
        return;
    evtls_fetch *f;
    while ((f = TAILQ_FIRST(&cl->live)) != NULL)
        fetch_drop(f);
    evtls_pool_free(cl->pool);
    evtls_cfg_unref(cl->tls);
    evtls_cfg_unref(cl->plain);
    free(cl);
}
