/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_http.c - HTTP/1.1 requests and exchanges over an evtls_conn.
 *
 * The glue between a connection and the sans-I/O response parser
 * (evtls_httpparse.c): it queues the request (in pieces when it is larger
 * than the connection's write buffer, continuing on the drain callback),
 * feeds what the connection reads to the parser, and runs one timer for the
 * time to first byte, the silence inside the response and the overall
 * limit. It never touches the socket itself. */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "evtls/http.h"
#include "evtls_conn_int.h"
#include "evtls_h2.h"
#include "evtls_http_int.h"
#include "evtls_httpparse.h"
#include "evtls_log_int.h"
#include "evtls_sized.h"
#include "evtls_time.h"

/* ------------------------------------------------------------------ */
/* requests */

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};

/* RFC 9110 section 5.6.2: a token (header names). */
static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", ch))
            return 0;
    }
    return 1;
}

/* A field value, target or authority: no CR, LF, NUL or other controls but tab. */
static int is_safe_text(const char *s, int allow_space)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f || (!allow_space && (ch == ' ' || ch == '\t')))
            return 0;
    }
    return 1;
}

static void wire_reset(evtls_http_req *r)
{
    free(r->wire);
    r->wire = NULL;
    r->wire_len = 0;
}

void evtls_http_req_free(evtls_http_req *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nh; i++) {
        free(r->h[i].name);
        free(r->h[i].value);
    }
    free(r->h);
    free(r->authority);
    free(r->target);
    free(r->body);
    free(r->wire);
    free(r);
}

int evtls_http_retry_safe(const evtls_http_req *req, int err, const evtls_http_resp *r,
                          int conn_reused)
{
    if (req == NULL || !conn_reused || req->produce || (r && (r->ttfb_us != 0 || r->status != 0)))
        return 0;
    if (err != EVTLS_ERR_PEER_CLOSED && err != EVTLS_ERR_PEER_RESET && err != EVTLS_EOF &&
        err != EVTLS_ERR_HTTP_TRUNCATED)
        return 0;
    static const char *const idempotent[] = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof idempotent / sizeof idempotent[0]; i++)
        if (strcmp(req->method, idempotent[i]) == 0)
            return 1;
    for (size_t i = 0; i < req->nh; i++)
        if (strcasecmp(req->h[i].name, "Idempotency-Key") == 0)
            return 1;
    return 0;
}

evtls_http_req *evtls_http_req_new(const char *method, const char *authority, const char *target)
{
    if (method == NULL || authority == NULL || target == NULL || *authority == '\0' ||
        *target == '\0' || !is_safe_text(authority, 0) || !is_safe_text(target, 0))
        return NULL;
    size_t m = 0;
    while (m < sizeof methods / sizeof methods[0] && strcmp(methods[m], method) != 0)
        m++;
    if (m == sizeof methods / sizeof methods[0])
        return NULL;
    evtls_http_req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->authority = strdup(authority);
    r->target = strdup(target);
    if (r->authority == NULL || r->target == NULL) {
        evtls_http_req_free(r);
        return NULL;
    }
    return r;
}

const char *evtls__http_req_method(const evtls_http_req *r)
{
    return r->method;
}

evtls_http_req *evtls__http_req_redirected(const evtls_http_req *r, const char *method,
                                           const char *authority, const char *target,
                                           int drop_credentials)
{
    if (r->produce)
        return NULL;
    evtls_http_req *n = evtls_http_req_new(method, authority, target);
    if (n == NULL)
        return NULL;
    static const char *const credentials[] = {"Authorization", "Proxy-Authorization", "Cookie"};
    for (size_t i = 0; i < r->nh; i++) {
        int skip = strcasecmp(r->h[i].name, "Host") == 0;
        for (size_t k = 0; drop_credentials && k < 3; k++)
            skip |= strcasecmp(r->h[i].name, credentials[k]) == 0;
        if (!skip && evtls_http_req_add_header(n, r->h[i].name, r->h[i].value) != 0) {
            evtls_http_req_free(n);
            return NULL;
        }
    }
    if (strcmp(method, r->method) == 0 && r->has_body &&
        evtls_http_req_set_body(n, r->body, r->body_len) != 0) {
        evtls_http_req_free(n);
        return NULL;
    }
    return n;
}

/* Headers a request has exactly once: a second add replaces the first. */
static int is_single(const char *name)
{
    return strcasecmp(name, "Host") == 0 || strcasecmp(name, "User-Agent") == 0 ||
           strcasecmp(name, "Accept") == 0 || strcasecmp(name, "Connection") == 0;
}

static struct req_header *find_header(evtls_http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nh; i++)
        if (strcasecmp(r->h[i].name, name) == 0)
            return &r->h[i];
    return NULL;
}

int evtls_http_req_add_header(evtls_http_req *r, const char *name, const char *value)
{
    if (r == NULL || name == NULL || value == NULL || !is_token(name) || !is_safe_text(value, 1) ||
        strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Transfer-Encoding") == 0)
        return EVTLS_ERR_INVALID_ARG;
    char *v = strdup(value);
    if (v == NULL)
        return EVTLS_ERR_NOMEM;
    struct req_header *old = is_single(name) ? find_header(r, name) : NULL;
    if (old) {
        free(old->value);
        old->value = v;
        wire_reset(r);
        return 0;
    }
    if (r->nh == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        struct req_header *h = realloc(r->h, cap * sizeof *h);
        if (h == NULL) {
            free(v);
            return EVTLS_ERR_NOMEM;
        }
        r->h = h;
        r->cap = cap;
    }
    r->h[r->nh].name = strdup(name);
    if (r->h[r->nh].name == NULL) {
        free(v);
        return EVTLS_ERR_NOMEM;
    }
    r->h[r->nh++].value = v;
    wire_reset(r);
    return 0;
}

int evtls_http_req_set_body(evtls_http_req *r, const void *data, size_t len)
{
    if (r == NULL || (data == NULL && len > 0) || r->produce)
        return EVTLS_ERR_INVALID_ARG; /* a body and a producer: which one? */
    uint8_t *b = NULL;
    if (len > 0) {
        b = malloc(len);
        if (b == NULL)
            return EVTLS_ERR_NOMEM;
        memcpy(b, data, len);
    }
    free(r->body);
    r->body = b;
    r->body_len = len;
    r->has_body = 1;
    wire_reset(r);
    return 0;
}

int evtls_http_req_set_body_producer(evtls_http_req *r, uint64_t len,
                                     evtls_http_body_producer produce, void *arg)
{
    if (r == NULL || produce == NULL || r->body_len > 0)
        return EVTLS_ERR_INVALID_ARG; /* a body and a producer: which one? */
    r->has_body = 1;
    r->produce = produce;
    r->produce_arg = arg;
    r->produce_len = len;
    wire_reset(r);
    return 0;
}

int evtls_http_req_set_body_rewind(evtls_http_req *r, evtls_http_body_rewind rewind)
{
    if (r == NULL || rewind == NULL || r->produce == NULL)
        return EVTLS_ERR_INVALID_ARG; /* a rewind without a producer rewinds nothing */
    r->rewind = rewind;
    return 0;
}

int evtls_http_method_early_safe(const char *method)
{
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE"};
    for (size_t i = 0; method && i < sizeof safe / sizeof safe[0]; i++)
        if (strcmp(method, safe[i]) == 0)
            return 1;
    return 0;
}

int evtls__http_req_early_safe(const evtls_http_req *r)
{
    return r->produce == NULL && evtls_http_method_early_safe(r->method);
}

int evtls_http_req_send_early(evtls_http_req *r, evtls_conn *c)
{
    if (r == NULL || c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (!evtls__http_req_early_safe(r)) {
        LOGW("http: %s %s not sent as early data: only GET, HEAD, OPTIONS and TRACE without a "
             "streamed body may go (RFC 8470)",
             r->method, r->target);
        return EVTLS_ERR_INVALID_ARG;
    }
    size_t len = 0;
    const uint8_t *bytes = evtls_http_req_get_bytes(r, &len);
    if (bytes == NULL)
        return EVTLS_ERR_NOMEM;
    return evtls_conn_set_early_data(c, "http/1.1", bytes, len);
}

int evtls__http_req_replay(evtls_http_req *r)
{
    if (r->produce == NULL)
        return 1;
    return r->rewind && r->rewind(r->produce_arg) == 0;
}

static int wire_build(evtls_http_req *r)
{
    int needs_length = r->has_body || strcmp(r->method, "POST") == 0 ||
                       strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0;
    size_t cap = strlen(r->method) + strlen(r->target) + strlen(r->authority) + 128 + r->body_len;
    for (size_t i = 0; i < r->nh; i++)
        cap += strlen(r->h[i].name) + strlen(r->h[i].value) + 4;
    char *w = malloc(cap);
    if (w == NULL)
        return EVTLS_ERR_NOMEM;
    struct req_header *host = find_header(r, "Host");
    size_t n = (size_t)snprintf(w, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", r->method, r->target,
                                host ? host->value : r->authority);
    for (size_t i = 0; i < r->nh; i++)
        if (&r->h[i] != host)
            n += (size_t)snprintf(w + n, cap - n, "%s: %s\r\n", r->h[i].name, r->h[i].value);
    if (find_header(r, "User-Agent") == NULL)
        n += (size_t)snprintf(w + n, cap - n, "User-Agent: evtls/%s\r\n", "0.1");
    if (find_header(r, "Accept") == NULL)
        n += (size_t)snprintf(w + n, cap - n, "Accept: */*\r\n");
    if (r->produce && r->produce_len == EVTLS_HTTP_LENGTH_UNKNOWN)
        n += (size_t)snprintf(w + n, cap - n, "Transfer-Encoding: chunked\r\n");
    else if (r->produce)
        n += (size_t)snprintf(w + n, cap - n, "Content-Length: %llu\r\n",
                              (unsigned long long)r->produce_len);
    else if (needs_length)
        n += (size_t)snprintf(w + n, cap - n, "Content-Length: %zu\r\n", r->body_len);
    n += (size_t)snprintf(w + n, cap - n, "\r\n");
    if (r->body_len)
        memcpy(w + n, r->body, r->body_len);
    r->wire = (uint8_t *)w;
    r->wire_len = n + r->body_len;
    return 0;
}

const uint8_t *evtls_http_req_get_bytes(evtls_http_req *r, size_t *len)
{
    if (len)
        *len = 0;
    if (r == NULL || (r->wire == NULL && wire_build(r) != 0))
        return NULL;
    if (len)
        *len = r->wire_len;
    return r->wire;
}

/* ------------------------------------------------------------------ */
/* exchanges */

#define WRITE_PIECE 16384

struct evtls_http_exchange {
    evtls_conn *c;
    evtls__httpp pp;
    evtls_http_opts o;
    evtls_http_cbs cbs;
    void *arg;
    struct event timer;
    uint64_t t_start;
    uint64_t t_sent;      /* HTTP/2: when the HEADERS went out (0 until then) */
    uint64_t due_us;      /* when the timer is due (arm_timer) */
    uint64_t armed_us;    /* when the timer event fires, 0 if not armed */
    uint64_t deadline_us; /* total timeout, 0 for none */
    uint8_t *rest;        /* request bytes not yet queued (owned copy) */
    size_t rest_len, rest_off, rest_cap;
    evtls_http_body_producer produce; /* after rest: the streamed body, NULL once done */
    void *produce_arg;
    uint64_t produce_left; /* bytes still owed (EVTLS_HTTP_LENGTH_UNKNOWN: chunked) */
    int got_first;
    int paused;             /* the producer said EVTLS_HTTP_BODY_PAUSE */
    struct event resume_ev; /* evtls_http_exchange_resume's call of the producer */
    int in_user;            /* inside on_head/on_body or the producer */
    int cancelled;          /* evtls_http_exchange_cancel() from inside a callback */
    int is_h2;              /* runs as an HTTP/2 stream */
    evtls__h2_stream *h2s;  /* its stream, until the stream ends */
};

void evtls_http_opts_default_sized(evtls_http_opts *o, size_t size)
{
    if (o == NULL)
        return;
    evtls_http_opts d;
    memset(&d, 0, sizeof d);
    d.max_header_bytes = 64u * 1024u;
    d.max_body_bytes = 16u * 1024u * 1024u;
    d.ttfb_timeout_ms = 30000;
    d.idle_timeout_ms = 30000;
    EVTLS__COPY_OUT(o, size, &d);
}

static void exchange_free(evtls_http_exchange *x)
{
    event_del(&x->timer);
    event_del(&x->resume_ev);
    evtls__httpp_free(&x->pp);
    free(x->rest);
    free(x);
}

/* Detaches from the connection: it keeps no pointer to x afterwards. */
static void detach(evtls_http_exchange *x)
{
    if (x->is_h2) { /* the session keeps the connection's reading and writing */
        evtls__h2_stream *s = x->h2s;
        x->h2s = NULL;
        evtls__h2_stream_cancel(s);
        return;
    }
    if (evtls_conn_get_state(x->c) == EVTLS_STATE_CONNECTED)
        evtls_conn_read_stop(x->c);
    evtls_conn_set_drain_cb(x->c, NULL, NULL);
    evtls__conn_set_exchange(x->c, 0);
}

static void finish(evtls_http_exchange *x, int err)
{
    detach(x);
    struct evtls_http_resp *r = &x->pp.r;
    r->total_us = evtls__now_us() - x->t_start;
    if (!x->is_h2 && (err != 0 || x->rest_off < x->rest_len || x->produce))
        r->keep_alive = 0; /* an error, or the request was not all sent */
    if (err != 0)
        LOGD("conn: HTTP exchange failed: %s (%s)", evtls_err_name(err),
             x->pp.detail ? x->pp.detail : evtls_strerror(err));
    x->cbs.on_done(x, err, r, x->arg);
    exchange_free(x);
}

/* The timer is due at x->due_us (TTFB, then idle, within the total).
 * It is moved only when that comes sooner than it is armed for: a later
 * due time (each piece of a body moves the idle one) is found when the
 * timer fires early, which then waits the rest. One event_add per
 * exchange, not one per piece. */
static void arm_timer_at(evtls_http_exchange *x, uint64_t now)
{
    unsigned ms = x->got_first ? x->o.idle_timeout_ms : x->o.ttfb_timeout_ms;
    uint64_t wait_us = ms ? (uint64_t)ms * 1000u : 0;
    if (x->deadline_us) {
        uint64_t left = x->deadline_us > now ? x->deadline_us - now : 1;
        if (wait_us == 0 || left < wait_us)
            wait_us = left;
    }
    if (wait_us == 0) {
        event_del(&x->timer);
        x->due_us = x->armed_us = 0;
        return;
    }
    x->due_us = now + wait_us;
    if (x->armed_us && x->armed_us <= x->due_us)
        return; /* it fires first and waits the rest */
    x->armed_us = x->due_us;
    struct timeval tv = evtls__tv_us(wait_us);
    event_add(&x->timer, &tv);
}

static void arm_timer(evtls_http_exchange *x)
{
    arm_timer_at(x, evtls__now_us());
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_http_exchange *x = arg;
    uint64_t now = evtls__now_us();
    if (now < x->due_us) { /* the due time moved on since it was armed */
        x->armed_us = x->due_us;
        struct timeval tv = evtls__tv_us(x->due_us - now);
        event_add(&x->timer, &tv);
        return;
    }
    x->armed_us = 0;
    int total = x->deadline_us && now >= x->deadline_us;
    if (!x->got_first && !total) {
        x->pp.detail = "no response byte within the TTFB timeout";
        finish(x, EVTLS_ERR_HTTP_TTFB_TIMEOUT);
    } else {
        x->pp.detail = total ? "the exchange took longer than its total timeout"
                             : "the response stalled longer than the idle timeout";
        finish(x, EVTLS_ERR_HTTP_TIMEOUT);
    }
}

static int hook_head(void *ctx)
{
    evtls_http_exchange *x = ctx;
    if (x->cbs.on_head == NULL)
        return 0;
    x->in_user = 1;
    int rc = x->cbs.on_head(x, &x->pp.r, x->arg);
    x->in_user = 0;
    return rc || x->cancelled;
}

static int hook_body(void *ctx, const uint8_t *data, size_t len)
{
    evtls_http_exchange *x = ctx;
    x->in_user = 1;
    int rc = x->cbs.on_body(x, data, len, x->arg);
    x->in_user = 0;
    return rc || x->cancelled;
}

static void on_read(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    (void)c;
    evtls_http_exchange *x = arg;
    int rc;
    if (n > 0) {
        if (!x->got_first) {
            x->got_first = 1;
            x->pp.r.ttfb_us = evtls__now_us() - x->t_start;
        }
        size_t used = 0;
        rc = evtls__httpp_feed(&x->pp, data, (size_t)n, &used);
        if (x->cancelled) { /* cancelled from inside on_head/on_body */
            detach(x);
            exchange_free(x);
            return;
        }
        if (rc == EVTLS__HTTPP_MORE) {
            /* Large bodies: fewer wake-ups, each reading more (the
             * connection's peek keeps ahead of an idle timeout this long) */
            if (x->o.idle_timeout_ms == 0 || x->o.idle_timeout_ms >= EVTLS__EXPECT_MIN_IDLE_MS)
                evtls__conn_expect(x->c, evtls__httpp_body_left(&x->pp));
            arm_timer(x);
            return;
        }
    } else if (n == EVTLS_EOF) {
        rc = evtls__httpp_eof(&x->pp, 1);
    } else if (n == EVTLS_ERR_PEER_CLOSED && x->got_first) {
        rc = evtls__httpp_eof(&x->pp, 0); /* a bare close inside the response */
    } else {
        rc = (int)n; /* the connection failed: its error says how */
    }
    finish(x, rc == EVTLS__HTTPP_COMPLETE ? 0 : rc);
}

/* The producer runs under the same guard as on_head/on_body: a cancel of
 * the exchange (or of the fetch, or a client or pool freed) from inside it
 * only marks x, which its caller frees once it has returned; the call then
 * gives EVTLS_ERR_CANCELLED whatever the producer returned. */
static long call_producer(evtls_http_exchange *x, uint8_t *buf, size_t cap)
{
    x->in_user = 1;
    long n = x->produce(buf, cap, x->produce_arg);
    x->in_user = 0;
    return x->cancelled ? EVTLS_ERR_CANCELLED : n;
}

/* The streamed body's next piece into x->rest (chunk-framed when the
 * length is unknown). Returns 0 with a piece, or at the end with produce
 * cleared; or an error. */
static int produce_piece(evtls_http_exchange *x)
{
    if (x->rest_cap < WRITE_PIECE + 16) {
        free(x->rest);
        x->rest_cap = 0;
        if ((x->rest = malloc(WRITE_PIECE + 16)) == NULL)
            return EVTLS_ERR_NOMEM;
        x->rest_cap = WRITE_PIECE + 16;
    }
    x->rest_off = x->rest_len = 0;
    if (x->produce_left != EVTLS_HTTP_LENGTH_UNKNOWN) { /* Content-Length */
        size_t cap = x->produce_left < WRITE_PIECE ? (size_t)x->produce_left : WRITE_PIECE;
        long n = call_producer(x, x->rest, cap);
        if (n == EVTLS_HTTP_BODY_PAUSE) {
            x->paused = 1;
            return 0;
        }
        if (n < 0)
            return (int)n;
        if ((size_t)n > cap || (n == 0 && cap > 0)) {
            LOGW("conn: the body producer gave %s bytes than the length it announced",
                 n == 0 ? "fewer" : "more");
            return EVTLS_ERR_INVALID_ARG;
        }
        x->produce_left -= (uint64_t)n;
        x->rest_len = (size_t)n;
        if (x->produce_left == 0) {
            uint8_t more;
            long extra = call_producer(x, &more, 1);
            if (extra < 0 && extra != EVTLS_HTTP_BODY_PAUSE) /* "nothing yet" is no more */
                return (int)extra;
            if (extra > 0) {
                LOGW("%s", "conn: the body producer gave more bytes than the length it announced");
                return EVTLS_ERR_INVALID_ARG;
            }
            x->produce = NULL;
        }
        return 0;
    }
    size_t off = 10; /* room for the chunk size line */
    long n = call_producer(x, x->rest + off, WRITE_PIECE);
    if (n == EVTLS_HTTP_BODY_PAUSE) {
        x->paused = 1;
        return 0;
    }
    if (n < 0)
        return (int)n;
    if ((size_t)n > WRITE_PIECE)
        return EVTLS_ERR_INVALID_ARG;
    if (n == 0) { /* the last chunk */
        memcpy(x->rest, "0\r\n\r\n", 5);
        x->rest_len = 5;
        x->produce = NULL;
        return 0;
    }
    char head[12];
    int h = snprintf(head, sizeof head, "%lx\r\n", (unsigned long)n);
    x->rest_off = off - (size_t)h;
    memcpy(x->rest + x->rest_off, head, (size_t)h);
    memcpy(x->rest + off + (size_t)n, "\r\n", 2);
    x->rest_len = off + (size_t)n + 2;
    return 0;
}

/* Queues what is left of the request, as far as the write buffer allows,
 * the streamed body's pieces included. Returns 0 (all queued, or waiting
 * for the drain callback) or an error. */
static int pump(evtls_http_exchange *x, int may_produce)
{
    for (;;) {
        while (x->rest_off < x->rest_len) {
            size_t n = x->rest_len - x->rest_off;
            if (n > WRITE_PIECE)
                n = WRITE_PIECE;
            int rc = evtls_conn_write(x->c, x->rest + x->rest_off, n);
            if (rc == EVTLS_ERR_WOULDBLOCK)
                return 0;
            if (rc != 0)
                return rc;
            x->rest_off += n;
        }
        if (x->produce == NULL)
            break;
        if (!may_produce)
            return 0; /* the drain callback pulls the body, from the loop */
        int rc = produce_piece(x);
        if (rc != 0)
            return rc;
        if (x->paused)
            break; /* evtls_http_exchange_resume starts again */
        if (x->produce == NULL && x->rest_off == x->rest_len)
            break;
    }
    evtls_conn_set_drain_cb(x->c, NULL, NULL);
    return 0;
}

static void on_drain(evtls_conn *c, void *arg)
{
    (void)c;
    evtls_http_exchange *x = arg;
    if (x->paused)
        return;
    int rc = pump(x, 1);
    if (x->cancelled) { /* cancelled from inside the producer */
        detach(x);
        exchange_free(x);
        return;
    }
    if (rc != 0)
        finish(x, rc);
}

/* From the loop after evtls_http_exchange_resume: the producer again. */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_http_exchange *x = arg;
    evtls_conn *c = x->c;
    evtls__conn_hold(c); /* the producer may free everything: c goes after */
    evtls_conn_set_drain_cb(c, on_drain, x);
    on_drain(c, x);
    evtls__conn_unhold(c);
}

int evtls_http_exchange_resume(evtls_http_exchange *x)
{
    if (x == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (!x->paused)
        return EVTLS_ERR_STATE;
    x->paused = 0;
    if (x->is_h2)
        evtls__h2_stream_resume(x->h2s);
    else
        event_active(&x->resume_ev, EV_TIMEOUT, 0);
    return 0;
}

/* ---- the exchange as an HTTP/2 stream: the session's sink */

/* x was cancelled from inside one of its callbacks: it goes now. */
static int gone_if_cancelled(evtls_http_exchange *x)
{
    if (!x->cancelled)
        return 0;
    detach(x);
    exchange_free(x);
    return 1;
}

/* The HEADERS went out: the time to first byte counts from here (a
 * stream over the server's limit waited in nghttp2's queue before). */
static void h2_sent(void *ctx)
{
    evtls_http_exchange *x = ctx;
    x->t_sent = evtls__now_us();
}

static int h2_status(void *ctx, int status)
{
    evtls_http_exchange *x = ctx;
    if (!x->got_first) {
        x->got_first = 1;
        x->pp.r.ttfb_us = evtls__now_us() - (x->t_sent ? x->t_sent : x->t_start);
    }
    return evtls__httpp_h2_status(&x->pp, status);
}

static int h2_field(void *ctx, int trailer, const char *name, size_t nlen, const char *value,
                    size_t vlen)
{
    evtls_http_exchange *x = ctx;
    return evtls__httpp_h2_field(&x->pp, trailer, name, nlen, value, vlen);
}

static int h2_head(void *ctx)
{
    evtls_http_exchange *x = ctx;
    evtls__httpp_h2_end_head(&x->pp);
    int rc = hook_head(x);
    if (gone_if_cancelled(x))
        return 1;
    if (rc) {
        x->pp.detail = "stopped at the headers";
        finish(x, EVTLS_ERR_CANCELLED);
        return 1;
    }
    arm_timer(x);
    return 0;
}

static int h2_data(void *ctx, const uint8_t *data, size_t len)
{
    evtls_http_exchange *x = ctx;
    int rc = evtls__httpp_h2_body(&x->pp, data, len);
    if (gone_if_cancelled(x))
        return 1;
    if (rc) {
        finish(x, rc);
        return 1;
    }
    arm_timer(x);
    return 0;
}

static void h2_done(void *ctx, int err, uint32_t code, const char *detail, int reusable,
                    int conn_gone)
{
    evtls_http_exchange *x = ctx;
    x->h2s = NULL; /* the stream is gone */
    x->pp.r.h2_error = code;
    if (err == 0)
        evtls__httpp_h2_complete(&x->pp, reusable);
    else if (detail && x->pp.detail == NULL)
        x->pp.detail = detail;
    if (err == 0 && x->pp.r.status == 0) {
        err = EVTLS_ERR_HTTP_MALFORMED;
        x->pp.detail = "the stream ended without a final status";
    }
    x->pp.r.keep_alive = reusable && !conn_gone;
    finish(x, err);
}

static long h2_produce(void *ctx, uint8_t *buf, size_t cap)
{
    evtls_http_exchange *x = ctx;
    long n = call_producer(x, buf, cap);
    if (gone_if_cancelled(x))
        return EVTLS_ERR_CANCELLED;
    if (n == EVTLS_HTTP_BODY_PAUSE)
        x->paused = 1;
    return n;
}

/* A buffered body is taken while nghttp2 parses (no user code runs). */
static int h2_data_now(void *ctx, const uint8_t *data, size_t len)
{
    evtls_http_exchange *x = ctx;
    int rc = evtls__httpp_h2_body(&x->pp, data, len);
    if (rc == 0)
        arm_timer(x);
    return rc;
}

static const evtls__h2_sink h2_sink = {.sent = h2_sent,
                                       .status = h2_status,
                                       .field = h2_field,
                                       .head = h2_head,
                                       .data = h2_data,
                                       .data_now = h2_data_now,
                                       .done = h2_done,
                                       .produce = h2_produce};
static const evtls__h2_sink h2_sink_streamed = {.sent = h2_sent,
                                                .status = h2_status,
                                                .field = h2_field,
                                                .head = h2_head,
                                                .data = h2_data,
                                                .done = h2_done,
                                                .produce = h2_produce};

static int start_h2(evtls_http_exchange *x, evtls_http_req *req)
{
    evtls__h2 *h = evtls__h2_get(x->c);
    if (h == NULL)
        return EVTLS_ERR_NOMEM;
    x->is_h2 = 1;
    return evtls__h2_submit(h, req, x->cbs.on_body ? &h2_sink_streamed : &h2_sink, x,
                            req->produce != NULL, &x->h2s);
}

int evtls_http_exchange_start_sized(evtls_conn *c, evtls_http_req *req, const evtls_http_opts *opts,
                                    size_t opts_size, const evtls_http_cbs *cbs, size_t cbs_size,
                                    void *arg, evtls_http_exchange **out)
{
    if (out)
        *out = NULL;
    evtls_http_cbs cb;
    memset(&cb, 0, sizeof cb);
    if (cbs)
        EVTLS__COPY_IN(&cb, cbs, cbs_size);
    if (c == NULL || req == NULL || cb.on_done == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (evtls_conn_get_state(c) != EVTLS_STATE_CONNECTED)
        return EVTLS_ERR_STATE;
    int h2 = evtls__h2_wanted(c);
    if (!h2 && evtls__conn_has_exchange(c))
        return EVTLS_ERR_STATE; /* one exchange at a time: HTTP/1.1 has no multiplexing */
    /* RFC 7301: once ALPN chose a protocol, only that protocol may be
     * spoken; HTTP/1.1 bytes on an h2 connection would only come back as
     * a malformed response. */
    const char *alpn = evtls_conn_get_info(c)->alpn;
    if (!h2 && alpn[0] != '\0' && strcmp(alpn, "http/1.1") != 0 && strcmp(alpn, "http/1.0") != 0) {
        LOGW("conn: HTTP/1.1 refused: the server chose ALPN protocol '%s'", alpn);
        return EVTLS_ERR_HTTP_ALPN;
    }
    size_t len = 0;
    const uint8_t *bytes = h2 ? NULL : evtls_http_req_get_bytes(req, &len);
    if (bytes == NULL && !h2)
        return EVTLS_ERR_NOMEM;
    evtls_http_exchange *x = calloc(1, sizeof *x);
    if (x == NULL)
        return EVTLS_ERR_NOMEM;
    x->c = c;
    evtls_http_opts_default(&x->o);
    if (opts)
        EVTLS__COPY_IN(&x->o, opts, opts_size);
    x->cbs = cb;
    x->arg = arg;
    evtls__httpp_hooks hooks = {hook_head, cb.on_body ? hook_body : NULL, x};
    evtls__httpp_init(&x->pp, x->o.max_header_bytes, x->o.max_body_bytes,
                      strcmp(req->method, "HEAD") == 0, &hooks);
    event_assign(&x->timer, evtls_conn_get_base(c), -1, 0, on_timer, x);
    event_assign(&x->resume_ev, evtls_conn_get_base(c), -1, 0, on_resume, x);
    x->t_start = evtls__now_us();
    if (x->o.total_timeout_ms)
        x->deadline_us = x->t_start + (uint64_t)x->o.total_timeout_ms * 1000u;

    x->produce = req->produce;
    x->produce_arg = req->produce_arg;
    x->produce_left = req->produce_len;
    if (h2) {
        int rc = start_h2(x, req);
        if (rc != 0) {
            exchange_free(x);
            return rc;
        }
        arm_timer_at(x, x->t_start);
        if (out)
            *out = x;
        return 0;
    }
    /* The request the server already took as early data is not sent twice. */
    int early = evtls__conn_claim_early(c, bytes, len);
    if (early < 0) {
        exchange_free(x);
        return early;
    }
    evtls__conn_set_exchange(c, 1);
    int rc = evtls_conn_read_start(c, on_read, x);
    /* A streamed body is pulled on the drain callback, from the loop: the
     * producer never runs inside this call. */
    if (rc == 0 && x->produce)
        evtls_conn_set_drain_cb(c, on_drain, x);
    if (rc == 0 && !early) {
        rc = evtls_conn_write(c, bytes, len);
        if (rc == EVTLS_ERR_WOULDBLOCK) {
            /* Larger than the write buffer: keep a copy, send it in pieces. */
            x->rest = malloc(len);
            rc = x->rest ? 0 : EVTLS_ERR_NOMEM;
            if (rc == 0) {
                memcpy(x->rest, bytes, len);
                x->rest_len = x->rest_cap = len;
                evtls_conn_set_drain_cb(c, on_drain, x);
                rc = pump(x, 0);
            }
        }
    }
    if (rc != 0) {
        detach(x);
        exchange_free(x);
        return rc;
    }
    arm_timer_at(x, x->t_start); /* the clock was read at the start, a moment ago */
    if (out)
        *out = x;
    return 0;
}

void evtls_http_exchange_cancel(evtls_http_exchange *x)
{
    if (x == NULL)
        return;
    if (x->in_user) {
        x->cancelled = 1; /* freed when the callback returns */
        return;
    }
    detach(x);
    exchange_free(x);
}

evtls_conn *evtls_http_exchange_get_conn(const evtls_http_exchange *x)
{
    return x ? x->c : NULL;
}
