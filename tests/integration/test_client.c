/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_client.c - one call to fetch a URL (evtls/client.h), against nginx
 * and against the fault peer's keep-alive race (close-second: a
 * connection's second request is read and left unanswered, the connection
 * closed): idempotent requests are sent again once on a new connection and
 * counted, a POST is not, --no-retry shows the race; and the bad inputs:
 * a bad URL, a cancelled request, a deadline, a body over the limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include <evtls/evtls.h>

#include "harness.h"
#include "peer.h"
#include "proc.h"

static struct peer web, race, silent, okp, nbl, nbl_plain, rd, rd_plain;
static char rd_url[96], rd_plain_url[96];
static char web_url[96], race_url[96], silent_url[96], ok_url[96], nbl_url[96], nbl_plain_url[96];

static int group_setup(void **state)
{
    (void)state;
    if (peer_nginx(&web, NULL) != 0 || peer_fault(&race, "close-second", NULL) != 0 ||
        peer_fault(&silent, "silent", NULL) != 0 || peer_fault(&okp, "ok", NULL) != 0 ||
        peer_fault(&nbl, "no-body-length", NULL) != 0 ||
        peer_fault(&nbl_plain, "no-body-length", (const char *const[]){"--plain", NULL}) != 0 ||
        peer_fault(&rd, "redirect", NULL) != 0 ||
        peer_fault(&rd_plain, "redirect", (const char *const[]){"--plain", NULL}) != 0)
        return -1;
    snprintf(rd_url, sizeof rd_url, "https://localhost:%u", rd.port);
    snprintf(rd_plain_url, sizeof rd_plain_url, "http://localhost:%u", rd_plain.port);
    snprintf(nbl_url, sizeof nbl_url, "https://localhost:%u", nbl.port);
    snprintf(nbl_plain_url, sizeof nbl_plain_url, "http://localhost:%u", nbl_plain.port);
    snprintf(ok_url, sizeof ok_url, "https://localhost:%u/up", okp.port);
    snprintf(web_url, sizeof web_url, "https://localhost:%u/x?y=1", web.port);
    snprintf(race_url, sizeof race_url, "https://localhost:%u/", race.port);
    snprintf(silent_url, sizeof silent_url, "https://localhost:%u/", silent.port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    peer_stop(&race);
    peer_stop(&silent);
    peer_stop(&okp);
    peer_stop(&nbl);
    peer_stop(&nbl_plain);
    peer_stop(&rd);
    peer_stop(&rd_plain);
    return 0;
}

struct result {
    int done, err, status, retried, reused;
    long req_no; /* the fault peer's X-Req: the request's number on its connection */
    evtls_fetch_info info; /* its strings are static, its error pointer is not kept */
    int heads, head_status;
    size_t body_at_head;
    char url[256], x_method[16], x_target[128], x_auth[64], x_cookie[64];
    long got_body; /* the fault peer's X-Got-Body */
    char body[256];
    size_t pieces;
};

static void on_fetched(int err, const evtls_http_resp *r, const evtls_fetch_info *info, void *arg)
{
    struct result *res = arg;
    res->done++;
    res->err = err;
    res->status = r ? evtls_http_resp_get_status(r) : 0;
    res->retried = info->retried;
    res->reused = info->reused;
    res->info = *info;
    res->info.error = NULL;
    snprintf(res->url, sizeof res->url, "%s", info->url ? info->url : "");
    res->info.url = NULL;
    static const struct {
        const char *name;
        size_t off;
    } echo[] = {{"X-Method", offsetof(struct result, x_method)},
                {"X-Target", offsetof(struct result, x_target)},
                {"X-Auth", offsetof(struct result, x_auth)},
                {"X-Cookie", offsetof(struct result, x_cookie)}};
    for (size_t i = 0; i < sizeof echo / sizeof echo[0]; i++) {
        const char *v = r ? evtls_http_resp_get_header_value(r, echo[i].name) : NULL;
        snprintf((char *)res + echo[i].off, 64, "%s", v ? v : "");
    }
    const char *gb = r ? evtls_http_resp_get_header_value(r, "X-Got-Body") : NULL;
    res->got_body = gb ? strtol(gb, NULL, 10) : -1;
    const char *xr = r ? evtls_http_resp_get_header_value(r, "X-Req") : NULL;
    res->req_no = xr ? strtol(xr, NULL, 10) : -1;
    size_t len = 0;
    const uint8_t *b = r ? evtls_http_resp_get_body(r, &len) : NULL;
    if (b && len < sizeof res->body) {
        memcpy(res->body, b, len);
        res->body[len] = '\0';
    }
}

static int on_piece(const uint8_t *data, size_t len, void *arg)
{
    struct result *res = arg;
    size_t have = strlen(res->body);
    if (have + len < sizeof res->body) {
        memcpy(res->body + have, data, len);
        res->body[have + len] = '\0';
    }
    res->pieces++;
    return 0;
}

static int on_headers_seen(const evtls_http_resp *r, void *arg)
{
    struct result *res = arg;
    size_t len = 0;
    evtls_http_resp_get_body(r, &len);
    res->body_at_head = len;
    res->head_status = evtls_http_resp_get_status(r);
    return ++res->heads < 0; /* negative: the test asks to stop */
}

/* One request through cl, run to its callback. */
static struct result fetch(struct loop_fx *f, evtls_client *cl, const evtls_request *rq)
{
    struct result res;
    memset(&res, 0, sizeof res);
    assert_int_equal(evtls_client_fetch(cl, rq, on_fetched, &res, NULL), 0);
    run_until(f->base, &res.done, 10000);
    assert_int_equal(res.done, 1);
    return res;
}

static evtls_client *client(struct loop_fx *f, int no_retry)
{
    evtls_client_opts o;
    evtls_client_opts_default(&o);
    o.no_retry = no_retry;
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_client *cl = evtls_client_new(f->base, cfg, &o);
    evtls_cfg_unref(cfg); /* the client holds its own reference */
    assert_non_null(cl);
    return cl;
}

static void test_fetch_and_reuse(void **state)
{
    struct loop_fx *f = *state;
    evtls_client *cl = client(f, 0);
    const char *headers[] = {"X-Test: 1", "Accept: */*", NULL};
    evtls_request rq = {.url = web_url, .headers = headers};
    struct result a = fetch(f, cl, &rq);
    assert_int_equal(a.err, 0);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "hello from nginx\n");
    assert_int_equal(a.reused, 0);
    /* The fetch's info: the connection, its TLS, its phases. */
    assert_true(strcmp(a.info.peer_addr, "127.0.0.1") == 0 || strcmp(a.info.peer_addr, "::1") == 0);
    assert_int_equal(a.info.port, web.port);
    assert_string_equal(a.info.tls_version, "TLSv1.3");
    assert_non_null(a.info.cipher);
    assert_non_null(a.info.group);
    assert_true(a.info.tls_us > 0 && a.info.connect_us >= a.info.tls_us);
    assert_true(a.info.ttfb_us > 0 && a.info.ttfb_us <= a.info.total_us);
    struct result b = fetch(f, cl, &rq);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.reused, 1); /* the pool's keep-alive connection */
    assert_int_equal(b.info.connect_us, 0); /* no connect of its own */
    assert_string_equal(b.info.tls_version, "TLSv1.3");
    /* The headers, once, before the body; and a stop from there. */
    struct result h;
    memset(&h, 0, sizeof h);
    evtls_request with_head = {.url = web_url, .on_headers = on_headers_seen};
    assert_int_equal(evtls_client_fetch(cl, &with_head, on_fetched, &h, NULL), 0);
    run_until(f->base, &h.done, 10000);
    assert_int_equal(h.err, 0);
    assert_int_equal(h.heads, 1);
    assert_int_equal(h.head_status, 200);
    assert_int_equal(h.body_at_head, 0);
    memset(&h, 0, sizeof h);
    h.heads = -1000; /* on_headers_seen: stop */
    assert_int_equal(evtls_client_fetch(cl, &with_head, on_fetched, &h, NULL), 0);
    run_until(f->base, &h.done, 10000);
    assert_int_equal(h.err, EVTLS_ERR_CANCELLED);
    /* The body streamed to a callback instead of buffered. */
    struct result c;
    memset(&c, 0, sizeof c);
    evtls_request streamed = {.url = web_url, .on_body = on_piece};
    assert_int_equal(evtls_client_fetch(cl, &streamed, on_fetched, &c, NULL), 0);
    run_until(f->base, &c.done, 10000);
    assert_int_equal(c.err, 0);
    assert_string_equal(c.body, "hello from nginx\n");
    assert_true(c.pieces >= 1);
    evtls_pool_stats st;
    evtls_pool_get_stats(evtls_client_get_pool(cl), &st);
    assert_int_equal(st.created, 2); /* the stopped request's was closed mid-response */
    assert_true(c.info.resumed);     /* the second one resumed the first's session */
    evtls_client_free(cl);
}

/* Ten GETs one after another at a server that drops every connection's
 * second request: all ten succeed; requests 2 to 10 each met the race on
 * the reused connection and were sent again on a new one. */
static void test_keep_alive_race_is_retried(void **state)
{
    struct loop_fx *f = *state;
    evtls_client *cl = client(f, 0);
    evtls_request rq = {.url = race_url};
    int retried = 0;
    for (int i = 0; i < 10; i++) {
        struct result r = fetch(f, cl, &rq);
        assert_int_equal(r.err, 0);
        assert_int_equal(r.status, 200);
        retried += r.retried;
        assert_int_equal(r.retried, i > 0);
    }
    assert_int_equal(retried, 9);
    /* A POST whose bytes were sent is never sent again... */
    evtls_request post = {.url = race_url, .method = "POST", .body = "x=1", .body_len = 3};
    struct result p = fetch(f, cl, &post); /* on the connection that carried a GET */
    assert_int_equal(p.err, EVTLS_ERR_PEER_CLOSED);
    assert_int_equal(p.retried, 0);
    /* ...unless it says it is safe to (Idempotency-Key). */
    struct result warm = fetch(f, cl, &rq); /* a connection with one request behind it */
    assert_int_equal(warm.err, 0);
    const char *key[] = {"Idempotency-Key: 7f3a", NULL};
    evtls_request keyed = post;
    keyed.headers = key;
    struct result k = fetch(f, cl, &keyed);
    assert_int_equal(k.err, 0);
    assert_int_equal(k.retried, 1);
    evtls_client_free(cl);
    /* With retries off, the race shows. */
    cl = client(f, 1);
    assert_int_equal(fetch(f, cl, &rq).err, 0);
    struct result off = fetch(f, cl, &rq);
    assert_int_equal(off.err, EVTLS_ERR_PEER_CLOSED);
    assert_int_equal(off.retried, 0);
    evtls_client_free(cl);
}

/* A streamed upload: 100,000 bytes of a pattern, in pieces of at most what
 * the connection asks for; short_by ends it early. */
struct upload {
    long left, short_by;
    int calls;
};

static struct upload up;
static long produce_up(uint8_t *buf, size_t cap, void *arg)
{
    (void)arg;
    up.calls++;
    long n = up.left - up.short_by > 0 ? up.left - up.short_by : 0;
    if ((size_t)n > cap)
        n = (long)cap;
    memset(buf, 'u', (size_t)n);
    up.left -= n;
    return n;
}

/* Streamed request bodies: with a length (the peer counts the bytes it
 * got) and in chunks (nginx refuses a malformed chunked body with 400); a
 * producer that falls short; and never a retry of a produced body. */
static void test_streamed_upload(void **state)
{
    struct loop_fx *f = *state;
    evtls_client *cl = client(f, 0);
    up = (struct upload){.left = 100000};
    evtls_request rq = {.url = ok_url, .produce = produce_up, .produce_len = 100000};
    struct result r = fetch(f, cl, &rq);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.got_body, 100000);
    assert_true(up.calls >= 7); /* in pieces of at most 16 KiB */
    up = (struct upload){.left = 50000};
    evtls_request chunked = {
        .url = web_url, .produce = produce_up, .produce_len = EVTLS_HTTP_LENGTH_UNKNOWN};
    r = fetch(f, cl, &chunked);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    up = (struct upload){.left = 1000, .short_by = 10};
    evtls_request shortrq = {.url = ok_url, .produce = produce_up, .produce_len = 1000};
    r = fetch(f, cl, &shortrq);
    assert_int_equal(r.err, EVTLS_ERR_INVALID_ARG);
    /* The keep-alive race with a produced body: not sent again, PUT or not. */
    evtls_request get = {.url = race_url};
    assert_int_equal(fetch(f, cl, &get).err, 0);
    up = (struct upload){.left = 10};
    evtls_request put = {
        .url = race_url, .method = "PUT", .produce = produce_up, .produce_len = 10};
    r = fetch(f, cl, &put);
    assert_int_equal(r.err, EVTLS_ERR_PEER_CLOSED);
    assert_int_equal(r.retried, 0);
    evtls_client_free(cl);
}

static int calls;
static void count_call(int err, const evtls_http_resp *r, const evtls_fetch_info *i, void *arg)
{
    (void)err, (void)r, (void)i, (void)arg;
    calls++;
}

static void test_bad_inputs(void **state)
{
    struct loop_fx *f = *state;
    evtls_client *cl = client(f, 0);
    evtls_request rq = {.url = "ftp://localhost/"};
    assert_int_equal(evtls_client_fetch(cl, &rq, count_call, NULL, NULL), EVTLS_ERR_BAD_URL);
    rq.url = web_url;
    rq.method = "BREW";
    assert_int_equal(evtls_client_fetch(cl, &rq, count_call, NULL, NULL), EVTLS_ERR_INVALID_ARG);
    rq.method = NULL;
    const char *bad_header[] = {"no colon here", NULL};
    rq.headers = bad_header;
    assert_int_equal(evtls_client_fetch(cl, &rq, count_call, NULL, NULL), EVTLS_ERR_INVALID_ARG);
    rq.headers = NULL;
    /* A body and a producer: which one? Refused, at both levels. */
    evtls_request both = {.url = web_url, .body = "b", .body_len = 1, .produce = produce_up,
                          .produce_len = 1};
    assert_int_equal(evtls_client_fetch(cl, &both, count_call, NULL, NULL), EVTLS_ERR_INVALID_ARG);
    evtls_http_req *req = evtls_http_req_new("POST", "localhost", "/");
    assert_int_equal(evtls_http_req_set_body(req, "b", 1), 0);
    assert_int_equal(evtls_http_req_set_body_producer(req, 1, produce_up, NULL),
                     EVTLS_ERR_INVALID_ARG);
    evtls_http_req_free(req);
    req = evtls_http_req_new("POST", "localhost", "/");
    assert_int_equal(evtls_http_req_set_body_producer(req, 1, produce_up, NULL), 0);
    assert_int_equal(evtls_http_req_set_body(req, "b", 1), EVTLS_ERR_INVALID_ARG);
    evtls_http_req_free(req);
    /* Cancelled before its answer: no callback, ever. */
    evtls_fetch *h = NULL;
    calls = 0;
    assert_int_equal(evtls_client_fetch(cl, &rq, count_call, NULL, &h), 0);
    evtls_fetch_cancel(h);
    run_for(f->base, 300);
    assert_int_equal(calls, 0);
    /* A deadline: the silent server never answers. */
    evtls_request slow = {.url = silent_url, .deadline_ms = 300};
    struct result d = fetch(f, cl, &slow);
    assert_int_equal(d.err, EVTLS_ERR_TIMEOUT);
    evtls_client_free(cl);
    /* A body over the limit. */
    evtls_http_opts ho;
    evtls_http_opts_default(&ho);
    ho.max_body_bytes = 4;
    evtls_client_opts o;
    evtls_client_opts_default(&o);
    o.http = &ho;
    evtls_cfg *cfg = test_cfg(0, 0);
    cl = evtls_client_new(f->base, cfg, &o);
    evtls_cfg_unref(cfg);
    struct result big = fetch(f, cl, &(evtls_request){.url = web_url});
    assert_int_equal(big.err, EVTLS_ERR_HTTP_BODY_TOO_LARGE);
    /* Freed with a request in flight: its callback is not called. */
    calls = 0;
    assert_int_equal(
        evtls_client_fetch(cl, &(evtls_request){.url = silent_url}, count_call, NULL, NULL), 0);
    run_for(f->base, 100);
    evtls_client_free(cl);
    run_for(f->base, 100);
    assert_int_equal(calls, 0);
}

/* 204 and 304 carrying a Content-Length (a 304 may carry the length of
 * the 200 it stands for) and no body, on plain TCP and TLS: each ends at
 * its blank line, and the next request on the same connection gets its
 * own response (X-Req 2), not this one's "body". Before, the exchange
 * waited for 10 bytes and ended in TIMEOUT (here: the 5 s deadline). */
static void test_no_body_statuses_with_a_length(void **state)
{
    struct loop_fx *f = *state;
    const char *bases[] = {nbl_plain_url, nbl_url};
    const char *paths[] = {"/204", "/304"};
    for (int b = 0; b < 2; b++) {
        for (int p = 0; p < 2; p++) {
            evtls_client *cl = client(f, 1);
            char url[160], next[160];
            snprintf(url, sizeof url, "%s%s", bases[b], paths[p]);
            snprintf(next, sizeof next, "%s/", bases[b]);
            struct result r = fetch(f, cl, &(evtls_request){.url = url, .deadline_ms = 5000});
            assert_int_equal(r.err, 0);
            assert_int_equal(r.status, p == 0 ? 204 : 304);
            assert_string_equal(r.body, "");
            struct result n = fetch(f, cl, &(evtls_request){.url = next, .deadline_ms = 5000});
            assert_int_equal(n.err, 0);
            assert_int_equal(n.status, 200);
            assert_string_equal(n.body, "hello from faultpeer\n");
            assert_int_equal(n.reused, 1);
            assert_int_equal(n.req_no, 2);
            evtls_client_free(cl);
        }
    }
}

/* A producer that cancels its own fetch, or frees the client, from inside
 * the call: no callback, nothing touched after it is freed (ASan and
 * valgrind see a use-after-free in produce_piece without the guard). */
struct reentrant {
    evtls_client *cl;
    evtls_fetch *fetch;
    int what; /* 0: cancel the fetch; 1: free the client */
    int produced;
};
static struct reentrant re;
static long produce_and_leave(uint8_t *buf, size_t cap, void *arg)
{
    (void)arg;
    re.produced++;
    if (re.what == 0)
        evtls_fetch_cancel(re.fetch);
    else
        evtls_client_free(re.cl);
    memset(buf, 'p', cap < 8 ? cap : 8);
    return cap < 8 ? (long)cap : 8;
}

static void test_producer_reentrancy(void **state)
{
    struct loop_fx *f = *state;
    for (int what = 0; what < 2; what++) {
        re = (struct reentrant){.what = what};
        re.cl = client(f, 0);
        calls = 0;
        evtls_request rq = {.url = ok_url, .produce = produce_and_leave, .produce_len = 64};
        assert_int_equal(evtls_client_fetch(re.cl, &rq, count_call, NULL, &re.fetch), 0);
        run_until(f->base, &re.produced, 10000);
        assert_int_equal(re.produced, 1);
        run_for(f->base, 100);
        assert_int_equal(calls, 0);
        if (what == 0)
            evtls_client_free(re.cl);
    }
}

/* A fetch's handle, spent once its callback ran, names nothing: a late
 * cancel leaves a newer request alone (before, it was the freed request's
 * address: a use-after-free, or the newer request's callback taken away
 * when malloc gave it the same memory), and so does one after the client
 * was freed. */
static void test_late_fetch_cancel_is_a_no_op(void **state)
{
    struct loop_fx *f = *state;
    evtls_client *cl = client(f, 0);
    evtls_request rq = {.url = web_url};
    struct result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    evtls_fetch *ha = NULL, *hb = NULL;
    assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, &a, &ha), 0);
    run_until(f->base, &a.done, 10000);
    assert_int_equal(a.err, 0);
    assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, &b, &hb), 0);
    assert_true(ha != hb);
    evtls_fetch_cancel(ha);
    evtls_fetch_cancel(ha);
    run_until(f->base, &b.done, 10000);
    assert_int_equal(b.done, 1);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.status, 200);
    evtls_fetch_cancel(hb);
    /* One in flight, then the client freed: its handle is spent too. */
    struct result c;
    memset(&c, 0, sizeof c);
    evtls_fetch *hc = NULL;
    assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, &c, &hc), 0);
    evtls_client_free(cl);
    evtls_fetch_cancel(hc);
    evtls_fetch_cancel(ha);
    run_for(f->base, 50);
    assert_int_equal(c.done, 0);
}

/* An upload from a source that is not ready: the producer says PAUSE at
 * the start and again half way; a timer (the source getting data) resumes
 * the fetch from the loop; the server gets every byte. */
struct paced_upload {
    evtls_fetch *h;
    long left, given_at_pause;
    int pauses, calls, resume_rc, early_resume_rc;
    struct event *later;
};
static struct paced_upload pu;

static void resume_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    pu.resume_rc = evtls_fetch_resume(pu.h);
}

static long produce_paced(uint8_t *buf, size_t cap, void *arg)
{
    (void)arg;
    pu.calls++;
    int half = pu.left == 25000 && pu.given_at_pause != 25000;
    if (pu.calls == 1 || half) {
        pu.pauses++;
        pu.given_at_pause = pu.left;
        struct timeval tv = {0, 20000};
        evtimer_add(pu.later, &tv);
        return EVTLS_HTTP_BODY_PAUSE;
    }
    long n = pu.left > (long)cap ? (long)cap : pu.left;
    if (pu.left > 25000 && pu.left - n < 25000)
        n = pu.left - 25000; /* stop at the half, to pause there */
    memset(buf, 'q', (size_t)n);
    pu.left -= n;
    return n;
}

static void test_paused_upload(void **state)
{
    struct loop_fx *f = *state;
    evtls_client *cl = client(f, 0);
    pu = (struct paced_upload){.left = 50000, .resume_rc = -1};
    pu.later = evtimer_new(f->base, resume_later, NULL);
    evtls_request rq = {.url = ok_url, .produce = produce_paced, .produce_len = 50000};
    struct result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, &r, &pu.h), 0);
    assert_int_equal(evtls_fetch_resume(pu.h), EVTLS_ERR_STATE); /* not paused yet */
    run_until(f->base, &r.done, 10000);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.got_body, 50000);
    assert_int_equal(pu.pauses, 2);
    assert_int_equal(pu.resume_rc, 0);
    assert_int_equal(evtls_fetch_resume(pu.h), EVTLS_ERR_INVALID_ARG); /* spent */
    event_free(pu.later);
    evtls_client_free(cl);
}

/* Redirects, opt-in: followed up to the maximum (the same connection when
 * it is kept alive), Location resolved, 303 and a POST's 302 as GET, 307
 * keeping the body, the credentials dropped on the way to another origin
 * (here: https to http, another port), a loop cut at the maximum, and
 * none followed when not asked. */
static void test_redirects_followed(void **state)
{
    struct loop_fx *f = *state;
    evtls_client *cl = client(f, 0);
    char url[512];
    /* Off by default: the 301 is the response. */
    snprintf(url, sizeof url, "%s/redirect/301?/final", rd_url);
    struct result r = fetch(f, cl, &(evtls_request){.url = url});
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 301);
    assert_int_equal(r.info.redirects, 0);
    /* Followed: the final response, its URL, headers seen once. */
    evtls_request rq = {.url = url, .follow_redirects = 5, .on_headers = on_headers_seen};
    memset(&r, 0, sizeof r);
    assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, &r, NULL), 0);
    run_until(f->base, &r.done, 10000);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.heads, 1);
    assert_int_equal(r.head_status, 200);
    assert_int_equal(r.info.redirects, 1);
    assert_string_equal(r.x_target, "/final");
    char want[256];
    snprintf(want, sizeof want, "%s/final", rd_url);
    assert_string_equal(r.url, want);
    /* 303 to a relative Location: GET, no body. */
    snprintf(url, sizeof url, "%s/redirect/303?final?x=1", rd_url);
    r = fetch(f, cl, &(evtls_request){.url = url, .body = "abc", .body_len = 3,
                                      .follow_redirects = 2});
    assert_int_equal(r.err, 0);
    assert_string_equal(r.x_method, "GET");
    assert_string_equal(r.x_target, "/redirect/final?x=1");
    assert_int_equal(r.got_body, 0);
    /* 302 to a POST: GET too; 307: POST with its body. */
    snprintf(url, sizeof url, "%s/redirect/302?/final", rd_url);
    r = fetch(f, cl, &(evtls_request){.url = url, .body = "abc", .body_len = 3,
                                      .follow_redirects = 2});
    assert_string_equal(r.x_method, "GET");
    snprintf(url, sizeof url, "%s/redirect/307?/final", rd_url);
    r = fetch(f, cl, &(evtls_request){.url = url, .body = "abc", .body_len = 3,
                                      .follow_redirects = 2});
    assert_int_equal(r.err, 0);
    assert_string_equal(r.x_method, "POST");
    assert_int_equal(r.got_body, 3);
    /* Credentials: kept on the same origin, dropped on another. */
    const char *creds[] = {"Authorization: Bearer s3cret", "Cookie: id=1", NULL};
    snprintf(url, sizeof url, "%s/redirect/302?/final", rd_url);
    r = fetch(f, cl, &(evtls_request){.url = url, .headers = creds, .follow_redirects = 2});
    assert_string_equal(r.x_auth, "Bearer s3cret");
    assert_string_equal(r.x_cookie, "id=1");
    snprintf(url, sizeof url, "%s/redirect/302?%s/final", rd_url, rd_plain_url);
    r = fetch(f, cl, &(evtls_request){.url = url, .headers = creds, .follow_redirects = 2});
    assert_int_equal(r.err, 0);
    assert_string_equal(r.x_target, "/final");
    assert_string_equal(r.x_auth, "-");
    assert_string_equal(r.x_cookie, "-");
    snprintf(want, sizeof want, "%s/final", rd_plain_url);
    assert_string_equal(r.url, want);
    /* A loop: cut after the maximum, with the last 3xx. */
    snprintf(url, sizeof url, "%s/loop", rd_url);
    r = fetch(f, cl, &(evtls_request){.url = url, .follow_redirects = 3});
    assert_int_equal(r.err, EVTLS_ERR_HTTP_TOO_MANY_REDIRECTS);
    assert_int_equal(r.status, 302);
    assert_int_equal(r.info.redirects, 3);
    /* A produced body cannot be sent twice: its 307 is the response. */
    up = (struct upload){.left = 10};
    snprintf(url, sizeof url, "%s/redirect/307?/final", rd_url);
    r = fetch(f, cl, &(evtls_request){.url = url, .produce = produce_up, .produce_len = 10,
                                      .follow_redirects = 2});
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 307);
    /* The hops reused the kept-alive connections: one per origin. */
    evtls_pool_stats st;
    evtls_pool_get_stats(evtls_client_get_pool(cl), &st);
    assert_int_equal(st.created, 2);
    evtls_client_free(cl);
}

/* A program built against an older header: its structs are a prefix of
 * today's, passed with their own size (the inline wrappers pass sizeof as
 * compiled). What lies past that prefix in its memory is never read
 * (options the program does not know keep their defaults) or written. */
static void assert_untouched(const void *obj, size_t from, size_t to, unsigned char fill)
{
    const unsigned char *b = obj;
    for (size_t i = from; i < to; i++)
        if (b[i] != fill)
            fail_msg("byte %zu written past the program's %zu", i, from);
}

static void test_older_program_structs(void **state)
{
    struct loop_fx *f = *state;
    /* Options: a pool_opts that ends before max_uses; the bytes after it
     * are garbage, as another variable of the program would be. */
    evtls_pool_opts po;
    memset(&po, 0xff, sizeof po);
    size_t old_pool = offsetof(evtls_pool_opts, max_uses);
    evtls_pool_opts_default_sized(&po, old_pool);
    assert_untouched(&po, old_pool, sizeof po, 0xff);
    assert_int_equal(po.max_per_origin, 8);
    /* Past the prefix, the program's memory happens to hold max_uses = 1
     * (a connection used once, then closed): not read, so connections are
     * reused. */
    po.max_uses = 1;
    evtls_pool *p = evtls_pool_new_sized(f->base, &po, old_pool);
    evtls_cfg *cfg = test_cfg(0, 0);
    for (int i = 0; i < 3; i++) {
        struct got g;
        memset(&g, 0, sizeof g);
        assert_int_equal(evtls_pool_checkout(p, cfg, "localhost", web.port, got_checkout_cb, &g,
                                             NULL),
                         0);
        run_until(f->base, &g.done, 10000);
        assert_int_equal(g.err, 0);
        assert_int_equal(g.info.reused, i > 0);
        assert_int_equal(evtls_pool_checkin(p, g.c), 0);
    }
    /* Stats: only the program's prefix is written. */
    evtls_pool_stats ps;
    memset(&ps, 0x5a, sizeof ps);
    evtls_pool_get_stats_sized(p, &ps, 2 * sizeof(unsigned));
    assert_untouched(&ps, 2 * sizeof(unsigned), sizeof ps, 0x5a);
    assert_int_equal(ps.idle, 1);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
    /* A request from before on_headers and follow_redirects: the garbage
     * where they would be is not taken for a callback or a maximum. */
    evtls_request rq;
    memset(&rq, 0xa5, sizeof rq);
    size_t old_rq = offsetof(evtls_request, on_headers);
    memset(&rq, 0, old_rq);
    char url[256];
    snprintf(url, sizeof url, "%s/redirect/302?/final", rd_url);
    rq.url = url;
    evtls_client *cl = client(f, 0);
    struct result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(evtls_client_fetch_sized(cl, &rq, old_rq, on_fetched, &r, NULL), 0);
    run_until(f->base, &r.done, 10000);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 302); /* not followed */
    evtls_client_free(cl);
}

#ifdef EVTLS_FETCH_PATH
/* The example, as a user runs it: several URLs through one client. */
static void test_fetch_example(void **state)
{
    (void)state;
    static struct proc pr;
    char refused[64];
    snprintf(refused, sizeof refused, "https://127.0.0.1:%u/", unused_port());
    const char *argv[] = {EVTLS_FETCH_PATH, "--cacert", pki("ca.pem"), web_url,
                          race_url,         web_url,    NULL};
    assert_int_equal(proc_run(&pr, argv, 30000), 0);
    char want[400];
    snprintf(want, sizeof want, "%s 200 17\n%s 200 21\n%s 200 17\n", web_url, race_url, web_url);
    assert_string_equal(pr.out, want);
    const char *argv2[] = {EVTLS_FETCH_PATH, "--cacert", pki("ca.pem"), web_url, refused, NULL};
    assert_int_equal(proc_run(&pr, argv2, 30000), 1);
    snprintf(want, sizeof want, "%s CONN_REFUSED", refused);
    assert_non_null(strstr(pr.out, want));
    const char *argv3[] = {EVTLS_FETCH_PATH, "ftp://x/", NULL};
    assert_int_equal(proc_run(&pr, argv3, 30000), 2);
    assert_non_null(strstr(pr.err, "unsupported scheme"));
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fetch_and_reuse, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_race_is_retried, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_inputs, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_streamed_upload, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_body_statuses_with_a_length, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_producer_reentrancy, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_late_fetch_cancel_is_a_no_op, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_paused_upload, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_redirects_followed, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_older_program_structs, loop_fx_setup,
                                        loop_fx_teardown),
#ifdef EVTLS_FETCH_PATH
        cmocka_unit_test(test_fetch_example),
#endif
    };
    return cmocka_run_group_tests_name("client", tests, group_setup, group_teardown);
}
