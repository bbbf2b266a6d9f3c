/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_h2.c - HTTP/2 exchanges on one connection (evtls_cfg_set_http2)
 * against real servers: nghttpd (nghttp2's own server, files of known
 * sizes) and nginx with http2 (its access log counts the requests of each
 * connection). ALPN chooses the protocol; many streams share one
 * connection; bodies larger than the windows arrive whole; a cancelled
 * stream leaves the others and the connection alone; plain TCP with prior
 * knowledge; a server without h2 is spoken to in HTTP/1.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <evtls/evtls.h>

#include "harness.h"
#include "peer.h"

static struct peer ngd, ngd_plain, nginx2, nginx1;
static struct peer refuse, reset, goaway, goaway_err, lower, bighdr, echo, silent, early;
static struct peer zero_window, cont_flood, slow1;
static char docroot[64] = "/tmp/evtls-h2-XXXXXX";

#define BIG_BYTES (3u * 1024u * 1024u + 77u) /* more than a stream's and the default windows */

static int write_file(const char *name, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", docroot, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < len; i++)
        fputc('a' + (int)(i % 26), f);
    return fclose(f);
}

static int group_setup(void **state)
{
    (void)state;
    if (mkdtemp(docroot) == NULL || write_file("small", 1000) != 0 ||
        write_file("big", BIG_BYTES) != 0)
        return -1;
    if (peer_nghttpd(&ngd, docroot, NULL) != 0 ||
        peer_nghttpd(&ngd_plain, docroot, (const char *const[]){"--no-tls", NULL}) != 0 ||
        peer_nginx_ex(&nginx2, PEER_NGINX_HTTP2, NULL) != 0 || peer_nginx(&nginx1, NULL) != 0)
        return -1;
    if (peer_h2(&refuse, "refuse", -1, 0) != 0 || peer_h2(&reset, "reset", 11, 0) != 0 ||
        peer_h2(&goaway, "goaway", 3, 0) != 0 || peer_h2(&goaway_err, "goaway-error", -1, 0) != 0 ||
        peer_h2(&lower, "lower", -1, 0) != 0 || peer_h2(&bighdr, "big-headers", -1, 0) != 0 ||
        peer_h2(&echo, "echo", -1, 0) != 0 || peer_h2(&silent, "silent", -1, 0) != 0 ||
        peer_h2(&early, "early", -1, 0) != 0 || peer_h2(&zero_window, "zero-window", -1, 0) != 0 ||
        peer_h2(&cont_flood, "continuation-flood", -1, 0) != 0 ||
        peer_h2(&slow1, "slow1", 100, 0) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&ngd);
    peer_stop(&ngd_plain);
    peer_stop(&nginx2);
    peer_stop(&nginx1);
    struct peer *h2s[] = {&refuse, &reset,  &goaway, &goaway_err,  &lower,      &bighdr,
                          &echo,   &silent, &early,  &zero_window, &cont_flood, &slow1};
    for (size_t i = 0; i < sizeof h2s / sizeof h2s[0]; i++)
        peer_stop(h2s[i]);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", docroot);
    return system(cmd) == 0 ? 0 : -1;
}

struct ex_result {
    int done, err, status, keep_alive;
    long x_req, got_body;
    size_t body_len, streamed, pieces;
    int body_ok;
    char proto[16];
    uint32_t h2_error;
    uint64_t ttfb_us, total_us;
    char got_headers[256], got_authority[64];
    evtls_http_exchange *x;
};

static int on_body(evtls_http_exchange *x, const uint8_t *data, size_t len, void *arg)
{
    (void)x;
    struct ex_result *r = arg;
    for (size_t i = 0; i < len; i++)
        if (data[i] != 'a' + (int)((r->streamed + i) % 26))
            r->body_ok = 0;
    r->streamed += len;
    r->pieces++;
    return 0;
}

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *resp, void *arg);

static void on_done_fields(evtls_http_exchange *x, int err, const evtls_http_resp *resp, void *arg)
{
    struct ex_result *r = arg;
    const char *v = evtls_http_resp_get_header_value(resp, "X-Got-Headers");
    snprintf(r->got_headers, sizeof r->got_headers, "%s", v ? v : "");
    v = evtls_http_resp_get_header_value(resp, "X-Got-Authority");
    snprintf(r->got_authority, sizeof r->got_authority, "%s", v ? v : "");
    on_done(x, err, resp, arg);
}

static void on_done_times(evtls_http_exchange *x, int err, const evtls_http_resp *resp, void *arg)
{
    struct ex_result *r = arg;
    r->ttfb_us = evtls_http_resp_get_ttfb_us(resp);
    r->total_us = evtls_http_resp_get_total_us(resp);
    on_done(x, err, resp, arg);
}

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *resp, void *arg)
{
    (void)x;
    struct ex_result *r = arg;
    r->done++;
    r->err = err;
    r->status = evtls_http_resp_get_status(resp);
    snprintf(r->proto, sizeof r->proto, "%s", evtls_http_resp_get_protocol(resp));
    r->h2_error = evtls_http_resp_get_h2_error(resp);
    r->keep_alive = evtls_http_resp_get_keep_alive(resp);
    const char *v = evtls_http_resp_get_header_value(resp, "X-Req");
    r->x_req = v ? atol(v) : 0;
    v = evtls_http_resp_get_header_value(resp, "X-Got-Body");
    r->got_body = v ? atol(v) : -1;
    const uint8_t *b = evtls_http_resp_get_body(resp, &r->body_len);
    if (b && r->body_ok)
        for (size_t i = 0; i < r->body_len; i++)
            if (b[i] != 'a' + (int)(i % 26) && b[i] != "hello from nginx\n"[i % 17])
                r->body_ok = 0;
}

static evtls_conn *connect_h2(struct event_base *base, evtls_http2_mode mode, int plain,
                              uint16_t port)
{
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_http2(cfg, mode, 0), 0);
    if (plain)
        assert_int_equal(evtls_cfg_set_plain_tcp(cfg, 1), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    evtls_conn *c = evtls_conn_new(base, cfg);
    evtls_cfg_unref(cfg);
    struct connect_result cr;
    assert_int_equal(connect_wait(base, c, "localhost", port, &cr), 0);
    return c;
}

/* n exchanges of GET target started at once on c, run to their ends. */
static void run_gets(struct event_base *base, evtls_conn *c, const char *target, int streamed,
                     struct ex_result *res, int n)
{
    char authority[64];
    snprintf(authority, sizeof authority, "localhost");
    evtls_http_req *req = evtls_http_req_new("GET", authority, target);
    assert_non_null(req);
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    o.max_body_bytes = 8u * 1024u * 1024u;
    evtls_http_cbs cbs = {NULL, streamed ? on_body : NULL, on_done};
    for (int i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        res[i].body_ok = 1;
        assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &res[i], &res[i].x), 0);
        assert_int_equal(res[i].done, 0); /* never inside the call */
    }
    evtls_http_req_free(req); /* the exchanges keep what they need */
    int all = 0;
    for (int spins = 0; spins < 100000 && !all; spins++) {
        event_base_loop(base, EVLOOP_ONCE);
        all = 1;
        for (int i = 0; i < n; i++)
            all &= res[i].done > 0;
    }
    assert_true(all);
}

static void test_get_over_alpn_h2(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, ngd.port);
    assert_string_equal(evtls_conn_get_info(c)->alpn, "h2");
    struct ex_result r;
    run_gets(fx->base, c, "/small", 0, &r, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.proto, "HTTP/2");
    assert_int_equal(r.body_len, 1000);
    assert_true(r.body_ok);
    /* the connection stays for the next request */
    run_gets(fx->base, c, "/small", 0, &r, 1);
    assert_int_equal(r.status, 200);
    run_gets(fx->base, c, "/nothing-here", 0, &r, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 404);
    evtls_conn_free(c);
}

/* A session from an h2 connection remembers h2: the next connection that
 * offers it says so before its handshake is done, and resumes. */
static void test_ticket_remembers_alpn(void **state)
{
    struct loop_fx *fx = *state;
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_http2(cfg, EVTLS_HTTP2_AUTO, 0), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    char alpn[2][16];
    int resumed = 0;
    for (int i = 0; i < 2; i++) {
        evtls_conn *c = evtls_conn_new(fx->base, cfg);
        assert_int_equal(evtls_conn_set_session_cache(c, sc), 0);
        struct connect_result cr;
        assert_int_equal(connect_wait(fx->base, c, "localhost", ngd.port, &cr), 0);
        struct ex_result r;
        run_gets(fx->base, c, "/small", 0, &r, 1); /* TLS 1.3 tickets come after the handshake */
        assert_int_equal(r.status, 200);
        snprintf(alpn[i], sizeof alpn[i], "%s", evtls_conn_get_info(c)->session_alpn);
        resumed = evtls_conn_get_info(c)->resumed;
        evtls_conn_free(c);
    }
    assert_string_equal(alpn[0], ""); /* nothing offered */
    assert_string_equal(alpn[1], "h2");
    assert_true(resumed);
    evtls_session_cache_unref(sc);
    evtls_cfg_unref(cfg);
}

/* 100 streams at once on one connection: nginx's log shows one connection
 * that carried 100 requests. */
static void test_many_streams_one_connection(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, nginx2.port);
    struct ex_result r[100];
    run_gets(fx->base, c, "/", 0, r, 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].status, 200);
        assert_int_equal(r[i].body_len, 17);
        assert_true(r[i].body_ok);
    }
    evtls_conn_free(c);
    const char *log = peer_nginx_log(&nginx2, 100);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[256];
    int lines = 0, most = 0;
    long conn0 = -1;
    while (fgets(line, sizeof line, f)) {
        long conn, nreq;
        assert_int_equal(sscanf(line, "%ld %ld", &conn, &nreq), 2);
        if (conn0 < 0)
            conn0 = conn;
        assert_int_equal(conn, conn0); /* one connection */
        if (nreq > most)
            most = (int)nreq;
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 100);
    assert_int_equal(most, 100);
}

/* Four bodies of 3 MiB at once, read by body callbacks: more than a
 * stream's window (256 KiB) each and together more than the connection's
 * first window, so WINDOW_UPDATEs must flow as the bytes are taken. */
static void test_large_bodies_flow_control(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, ngd.port);
    struct ex_result r[4];
    run_gets(fx->base, c, "/big", 1, r, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].status, 200);
        assert_int_equal(r[i].streamed, BIG_BYTES);
        assert_true(r[i].body_ok);
        assert_true(r[i].pieces > 1);
    }
    /* and buffered */
    run_gets(fx->base, c, "/big", 0, r, 2);
    assert_int_equal(r[0].body_len, BIG_BYTES);
    assert_true(r[0].body_ok);
    assert_int_equal(r[1].body_len, BIG_BYTES);
    evtls_conn_free(c);
}

/* Cancelling one stream resets it alone. */
static void test_cancel_one_stream(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, ngd.port);
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/big");
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    o.max_body_bytes = 8u * 1024u * 1024u;
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    struct ex_result r[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++) {
        r[i].body_ok = 1;
        assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &r[i], &r[i].x), 0);
    }
    evtls_http_req_free(req);
    evtls_http_exchange_cancel(r[1].x);
    for (int spins = 0; spins < 100000 && !(r[0].done && r[2].done); spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(r[0].err, 0);
    assert_int_equal(r[0].body_len, BIG_BYTES);
    assert_int_equal(r[1].done, 0); /* cancelled: never called */
    assert_int_equal(r[2].err, 0);
    assert_int_equal(r[2].body_len, BIG_BYTES);
    struct ex_result again;
    run_gets(fx->base, c, "/small", 0, &again, 1);
    assert_int_equal(again.status, 200);
    evtls_conn_free(c);
}

/* http:// with prior knowledge: HTTP/2 from the first byte. */
static void test_prior_knowledge_plain(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_PRIOR_KNOWLEDGE, 1, ngd_plain.port);
    struct ex_result r[3];
    run_gets(fx->base, c, "/small", 0, r, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].status, 200);
        assert_string_equal(r[i].proto, "HTTP/2");
        assert_int_equal(r[i].body_len, 1000);
    }
    evtls_conn_free(c);
}

/* A server without h2: AUTO speaks HTTP/1.1 to it; REQUIRE fails the
 * handshake. */
static void test_server_without_h2(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, nginx1.port);
    assert_string_not_equal(evtls_conn_get_info(c)->alpn, "h2");
    struct ex_result r;
    run_gets(fx->base, c, "/", 0, &r, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.proto, "HTTP/1.1");
    evtls_conn_free(c);

    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_http2(cfg, EVTLS_HTTP2_REQUIRE, 0), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    c = evtls_conn_new(fx->base, cfg);
    evtls_cfg_unref(cfg);
    struct connect_result cr;
    assert_int_not_equal(connect_wait(fx->base, c, "localhost", nginx1.port, &cr), 0);
    evtls_conn_free(c);
}

/* REFUSED_STREAM: the stream alone fails, with its own retryable error and
 * the code; the connection carries the others. */
static void test_refused_stream(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, refuse.port);
    struct ex_result r[4];
    int refused = 0, ok = 0;
    for (int round = 0; round < 4; round++) { /* one at a time: the peer numbers them */
        run_gets(fx->base, c, "/", 0, &r[round], 1);
        if (r[round].err == EVTLS_ERR_H2_REFUSED) {
            assert_int_equal(r[round].h2_error, 7);
            assert_int_equal(r[round].status, 0);
            refused++;
        } else {
            assert_int_equal(r[round].err, 0);
            assert_int_equal(r[round].status, 200);
            ok++;
        }
        assert_true(r[round].keep_alive || r[round].err);
    }
    assert_int_equal(refused, 2);
    assert_int_equal(ok, 2);
    assert_true(evtls_err_is_retryable(EVTLS_ERR_H2_REFUSED));
    evtls_conn_free(c);
}

/* RST_STREAM with a code: that stream fails with H2_STREAM and the code;
 * its neighbours at the same moment complete. */
static void test_stream_reset_alone(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, reset.port);
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    struct ex_result r[3];
    memset(r, 0, sizeof r);
    const char *targets[] = {"/a", "/reset", "/b"};
    for (int i = 0; i < 3; i++) {
        evtls_http_req *req = evtls_http_req_new("GET", "localhost", targets[i]);
        assert_int_equal(evtls_http_exchange_start(c, req, NULL, &cbs, &r[i], NULL), 0);
        evtls_http_req_free(req);
    }
    for (int spins = 0; spins < 100000 && !(r[0].done && r[1].done && r[2].done); spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(r[0].err, 0);
    assert_int_equal(r[2].err, 0);
    assert_int_equal(r[1].err, EVTLS_ERR_H2_STREAM);
    assert_int_equal(r[1].h2_error, 11);
    assert_string_equal(evtls_http_h2_error_name(r[1].h2_error), "ENHANCE_YOUR_CALM");
    assert_true(r[2].keep_alive);
    evtls_conn_free(c);
}

/* GOAWAY naming the third stream: the first three are answered, the
 * others were never processed (H2_REFUSED, safe to send again), and the
 * connection takes no new stream. */
static void test_goaway_last_stream_id(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, goaway.port);
    struct ex_result r[6];
    run_gets(fx->base, c, "/", 0, r, 6);
    int ok = 0, refused = 0;
    for (int i = 0; i < 6; i++) {
        if (r[i].err == 0) {
            assert_int_equal(r[i].status, 200);
            ok++;
        } else {
            assert_int_equal(r[i].err, EVTLS_ERR_H2_REFUSED);
            assert_int_equal(r[i].status, 0);
            assert_false(r[i].keep_alive);
            refused++;
        }
    }
    assert_int_equal(ok, 3);
    assert_int_equal(refused, 3);
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    struct ex_result late = {0};
    assert_int_not_equal(evtls_http_exchange_start(c, req, NULL, &cbs, &late, NULL), 0);
    evtls_http_req_free(req);
    evtls_conn_free(c);
}

/* GOAWAY with an error, naming the last stream the server had read: those
 * fail with H2_CONNECTION and the GOAWAY's code, the later ones were never
 * processed (H2_REFUSED); none succeeds. */
static void test_goaway_with_error_fails_all(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, goaway_err.port);
    struct ex_result r[4];
    run_gets(fx->base, c, "/", 0, r, 4);
    /* the first stream was processed; the others too if the server had
     * read them when it gave up, else they were never processed */
    assert_int_equal(r[0].err, EVTLS_ERR_H2_CONNECTION);
    for (int i = 0; i < 4; i++) {
        if (r[i].err == EVTLS_ERR_H2_REFUSED) {
            assert_int_equal(r[i].h2_error, 7);
        } else {
            assert_int_equal(r[i].err, EVTLS_ERR_H2_CONNECTION);
            assert_int_equal(r[i].h2_error, 1); /* PROTOCOL_ERROR */
        }
        assert_false(r[i].keep_alive);
    }
    evtls_conn_free(c);
}

/* The server lowers MAX_CONCURRENT_STREAMS to 2 after the first request
 * (and fails the connection if a third stream is open): ten exchanges
 * started at once then go two at a time, all answered. */
static void test_settings_lowered_mid_run(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, lower.port);
    struct ex_result first, r[10];
    run_gets(fx->base, c, "/", 0, &first, 1);
    assert_int_equal(first.err, 0);
    run_gets(fx->base, c, "/", 0, r, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].status, 200);
    }
    evtls_conn_free(c);
}

/* 80 KB of response fields: over the 64 KiB limit, that stream fails with
 * HTTP_HEADERS_TOO_LARGE; a smaller limit than the default is honoured
 * the same way. */
static void test_header_list_over_limit(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, bighdr.port);
    struct ex_result r;
    run_gets(fx->base, c, "/", 0, &r, 1);
    assert_int_equal(r.err, EVTLS_ERR_HTTP_HEADERS_TOO_LARGE);
    evtls_conn_free(c);
}

static long produce_n(uint8_t *buf, size_t cap, void *arg)
{
    size_t *left = arg;
    size_t n = *left < cap ? *left : cap;
    memset(buf, 'p', n);
    *left -= n;
    return (long)n;
}

/* Request bodies: buffered (larger than the stream's first window) and
 * produced, with a length and without. */
static void test_request_bodies(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, echo.port);
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    struct ex_result r[3];
    memset(r, 0, sizeof r);
    size_t big = 200000, left1 = 70000, left2 = 33333;
    uint8_t *body = malloc(big);
    memset(body, 'q', big);
    evtls_http_req *req = evtls_http_req_new("POST", "localhost", "/up");
    assert_int_equal(evtls_http_req_set_body(req, body, big), 0);
    assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &r[0], NULL), 0);
    evtls_http_req_free(req);
    free(body);
    req = evtls_http_req_new("PUT", "localhost", "/up");
    assert_int_equal(evtls_http_req_set_body_producer(req, 70000, produce_n, &left1), 0);
    assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &r[1], NULL), 0);
    evtls_http_req_free(req);
    req = evtls_http_req_new("POST", "localhost", "/up");
    assert_int_equal(
        evtls_http_req_set_body_producer(req, EVTLS_HTTP_LENGTH_UNKNOWN, produce_n, &left2), 0);
    assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &r[2], NULL), 0);
    evtls_http_req_free(req);
    for (int spins = 0; spins < 100000 && !(r[0].done && r[1].done && r[2].done); spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(r[0].err, 0);
    assert_int_equal(r[0].got_body, 200000);
    assert_int_equal(r[1].err, 0);
    assert_int_equal(r[1].got_body, 70000);
    assert_int_equal(r[2].err, 0);
    assert_int_equal(r[2].got_body, 33333);
    evtls_conn_free(c);
}

/* The server answers 413 before the body and reads none of it (its window
 * never reopens): the exchange ends with the 413 at once, the upload
 * stopped (RST_STREAM NO_ERROR), not after a timeout; the connection goes
 * on. A buffered body and a produced one. */
static void test_upload_stopped_by_final_response(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, early.port);
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    o.total_timeout_ms = 30000;
    size_t big = 1000000, left = 1000000;
    uint8_t *body = calloc(1, big);
    struct ex_result r[2];
    memset(r, 0, sizeof r);
    evtls_http_req *req = evtls_http_req_new("POST", "localhost", "/up");
    assert_int_equal(evtls_http_req_set_body(req, body, big), 0);
    assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &r[0], NULL), 0);
    evtls_http_req_free(req);
    free(body);
    req = evtls_http_req_new("PUT", "localhost", "/up");
    assert_int_equal(evtls_http_req_set_body_producer(req, big, produce_n, &left), 0);
    assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &r[1], NULL), 0);
    evtls_http_req_free(req);
    for (int spins = 0; spins < 100000 && !(r[0].done && r[1].done); spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].status, 413);
    }
    assert_true(left > 0); /* the producer was not drained to the end */
    assert_int_equal(evtls_conn_get_state(c), EVTLS_STATE_CONNECTED);
    evtls_conn_free(c);
}

/* A server whose window is 0 and never opens: the POST's body cannot go,
 * its own timeout ends it (the stream reset), while GETs on the same
 * connection are answered meanwhile: one stuck stream holds no other. */
static void test_zero_window(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, zero_window.port);
    struct ex_result first;
    run_gets(fx->base, c, "/", 0, &first, 1); /* the server's SETTINGS are known after it */
    assert_int_equal(first.status, 200);
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    o.ttfb_timeout_ms = 1000 * test_time_scale(); /* the GETs are answered well before */
    struct ex_result post = {0};
    evtls_http_req *req = evtls_http_req_new("POST", "localhost", "/up");
    assert_int_equal(evtls_http_req_set_body(req, "abc", 3), 0);
    assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &post, NULL), 0);
    evtls_http_req_free(req);
    struct ex_result gets[3];
    run_gets(fx->base, c, "/g", 0, gets, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gets[i].status, 200);
    assert_int_equal(post.done, 0); /* still waiting for a window */
    run_until(fx->base, &post.done, 30000);
    assert_int_equal(post.err, EVTLS_ERR_HTTP_TTFB_TIMEOUT);
    assert_int_equal(evtls_conn_get_state(c), EVTLS_STATE_CONNECTED);
    evtls_conn_free(c);
}

/* A header block that never ends (CONTINUATION after CONTINUATION): the
 * stream or the connection fails fast, never a client that reads forever. */
static void test_continuation_flood(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, cont_flood.port);
    struct ex_result r;
    run_gets(fx->base, c, "/", 0, &r, 1);
    if (r.err != EVTLS_ERR_H2_CONNECTION && r.err != EVTLS_ERR_HTTP_HEADERS_TOO_LARGE)
        fail_msg("a CONTINUATION flood ended with %s", evtls_err_name(r.err));
    assert_true(evtls_conn_get_info(c)->bytes_in < 2u * 1000u * 1000u); /* not all 2 MB */
    evtls_conn_free(c);
}

/* The time to first byte counts from the stream's HEADERS on the wire: a
 * server that takes one stream at a time, 100 ms each: the third of three
 * started together waits 200 ms for its turn, which its total has and its
 * TTFB does not. */
static void test_ttfb_from_headers_sent(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, slow1.port);
    struct ex_result first;
    run_gets(fx->base, c, "/", 0, &first, 1); /* the server's SETTINGS are known after it */
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, on_done_times};
    struct ex_result r[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++)
        assert_int_equal(evtls_http_exchange_start(c, req, NULL, &cbs, &r[i], NULL), 0);
    evtls_http_req_free(req);
    for (int spins = 0; spins < 100000 && !(r[0].done && r[1].done && r[2].done); spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r[i].status, 200);
    /* lower bounds only (a timer never fires early): the third's total has
     * the two waits of 100 ms before its turn */
    assert_true(r[2].total_us >= 250000);
    assert_true(r[2].total_us - r[2].ttfb_us >= 150000);
    evtls_conn_free(c);
}

/* No answer: the exchange's own TTFB timeout ends it and resets the
 * stream; the connection stays open for others. */
static void test_ttfb_timeout_resets_stream(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, silent.port);
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    o.ttfb_timeout_ms = 200;
    struct ex_result r = {0};
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    assert_int_equal(evtls_http_exchange_start(c, req, &o, &cbs, &r, NULL), 0);
    evtls_http_req_free(req);
    run_until(fx->base, &r.done, 30000);
    assert_int_equal(r.err, EVTLS_ERR_HTTP_TTFB_TIMEOUT);
    assert_int_equal(evtls_conn_get_state(c), EVTLS_STATE_CONNECTED);
    evtls_conn_free(c);
}

/* ---- the client over a pool: requests share connections' streams */

struct fetches {
    int done, ok, h2, errors, first_err;
    unsigned refused_retries;
    int connecting_before_first_conn, conn_ready;
};

static void on_fetched(int err, const evtls_http_resp *r, const evtls_fetch_info *info, void *arg)
{
    struct fetches *fs = arg;
    fs->done++;
    if (err == 0 && evtls_http_resp_get_status(r) == 200)
        fs->ok++;
    else if (fs->errors++ == 0)
        fs->first_err = err;
    fs->h2 += strcmp(info->protocol, "HTTP/2") == 0;
    fs->refused_retries += info->refused_retries;
}

static void on_pool_state(evtls_pool *p, evtls_conn *c, evtls_pool_conn_state from,
                          evtls_pool_conn_state to, void *arg)
{
    (void)p;
    (void)c;
    (void)from;
    struct fetches *fs = arg;
    if (to == EVTLS_POOL_CONNECTING && !fs->conn_ready)
        fs->connecting_before_first_conn++;
    if (to == EVTLS_POOL_BUSY || to == EVTLS_POOL_IDLE)
        fs->conn_ready = 1;
}

static evtls_client *h2_client(struct event_base *base, unsigned max_per_origin, int http2)
{
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_pool_opts po;
    evtls_pool_opts_default(&po);
    po.max_per_origin = max_per_origin;
    evtls_client_opts co;
    evtls_client_opts_default(&co);
    co.pool = &po;
    co.http2 = http2;
    evtls_client *cl = evtls_client_new(base, cfg, &co);
    evtls_cfg_unref(cfg);
    assert_non_null(cl);
    return cl;
}

static void fetch_n(struct event_base *base, evtls_client *cl, const char *url, int n,
                    struct fetches *fs)
{
    int start = fs->done;
    for (int i = 0; i < n; i++) {
        evtls_request rq = {.url = url};
        assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, fs, NULL), 0);
    }
    for (int spins = 0; spins < 1000000 && fs->done < start + n; spins++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(fs->done, start + n);
}

/* Distinct connections and requests in nginx's access log. */
static void log_counts(const struct peer *p, int want, int *conns, int *lines)
{
    const char *log = peer_nginx_log(p, want);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[256];
    long seen[4096];
    *conns = *lines = 0;
    while (fgets(line, sizeof line, f)) {
        long conn, nreq;
        assert_int_equal(sscanf(line, "%ld %ld", &conn, &nreq), 2);
        int known = 0;
        for (int i = 0; i < *conns; i++)
            known |= seen[i] == conn;
        if (!known && *conns < 4096)
            seen[(*conns)++] = conn;
        (*lines)++;
    }
    fclose(f);
}

/* 1,000 fetches at once to one origin with a cap of 100 streams: one
 * connection is dialled until the server has answered (no burst before
 * its SETTINGS), then at most ceil(1000/100) connections carry them all. */
static void test_client_shares_streams(void **state)
{
    struct loop_fx *fx = *state;
    struct peer ng;
    assert_int_equal(peer_nginx_ex(&ng, PEER_NGINX_HTTP2, NULL), 0);
    evtls_client *cl = h2_client(fx->base, 32, EVTLS_HTTP2_AUTO);
    struct fetches fs = {0};
    evtls_pool_set_state_cb(evtls_client_get_pool(cl), on_pool_state, &fs);
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%u/", ng.port);
    fetch_n(fx->base, cl, url, 1000, &fs);
    assert_int_equal(fs.ok, 1000);
    assert_int_equal(fs.h2, 1000);
    assert_int_equal(fs.connecting_before_first_conn, 1);
    evtls_pool_stats st;
    evtls_pool_get_stats(evtls_client_get_pool(cl), &st);
    assert_true(st.created <= 10);
    assert_true(st.shared >= 900);
    assert_true(st.h2_conns >= 1);
    evtls_client_free(cl);
    int conns, lines;
    log_counts(&ng, 1000, &conns, &lines);
    assert_int_equal(lines, 1000);
    assert_true(conns <= 10);
    peer_stop(&ng);
}

/* nginx ends each connection with a GOAWAY after 50 requests: 1,000
 * fetches, 200 at a time, all succeed, and nginx counted each once. */
static void test_client_through_goaways(void **state)
{
    struct loop_fx *fx = *state;
    struct peer ng;
    assert_int_equal(peer_nginx_ex(&ng, PEER_NGINX_HTTP2, "keepalive_requests 50;"), 0);
    evtls_client *cl = h2_client(fx->base, 8, EVTLS_HTTP2_AUTO);
    struct fetches fs = {0};
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%u/", ng.port);
    for (int wave = 0; wave < 5; wave++)
        fetch_n(fx->base, cl, url, 200, &fs);
    if (fs.errors)
        print_message("first error: %s\n", evtls_err_name(fs.first_err));
    assert_int_equal(fs.errors, 0);
    assert_int_equal(fs.ok, 1000);
    evtls_pool_stats st;
    evtls_pool_get_stats(evtls_client_get_pool(cl), &st);
    evtls_client_free(cl);
    int conns, lines;
    log_counts(&ng, 1000, &conns, &lines);
    assert_int_equal(lines, 1000);
    assert_true(conns >= 20); /* 50 requests each */
    peer_stop(&ng);
}

/* A producer of 5,000 bytes that can start again. */
struct body_src {
    size_t sent;
    int rewinds;
    struct fetches *fs;
};

static long produce_src(uint8_t *buf, size_t cap, void *arg)
{
    struct body_src *b = arg;
    size_t n = 5000 - b->sent < cap ? 5000 - b->sent : cap;
    memset(buf, 'r', n);
    b->sent += n;
    return (long)n;
}

static int rewind_src(void *arg)
{
    struct body_src *b = arg;
    b->sent = 0;
    b->rewinds++;
    return 0;
}

static void on_fetched_src(int err, const evtls_http_resp *r, const evtls_fetch_info *info,
                           void *arg)
{
    on_fetched(err, r, info, ((struct body_src *)arg)->fs);
}

/* Refused streams are sent again, a POST with a buffered body too, a
 * produced body when its producer can rewind and not when it cannot. */
static void test_client_retries_refused(void **state)
{
    struct loop_fx *fx = *state;
    evtls_client *cl = h2_client(fx->base, 4, EVTLS_HTTP2_AUTO);
    struct fetches fs = {0};
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%u/", refuse.port);
    for (int i = 0; i < 4; i++)
        fetch_n(fx->base, cl, url, 1, &fs);
    evtls_request rq = {.url = url, .method = "POST", .body = "x=1", .body_len = 3};
    assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, &fs, NULL), 0);
    for (int spins = 0; spins < 100000 && fs.done < 5; spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(fs.ok, 5);
    assert_true(fs.refused_retries >= 2);
    /* A produced body goes again only when its producer can rewind. */
    struct body_src src = {0};
    evtls_request prq = {.url = url,
                         .method = "PUT",
                         .produce = produce_src,
                         .produce_len = 5000,
                         .rewind = rewind_src};
    struct fetches one = {0};
    src.fs = &one;
    assert_int_equal(evtls_client_fetch(cl, &prq, on_fetched_src, &src, NULL), 0);
    for (int spins = 0; spins < 100000 && one.done < 1; spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(one.ok, 1);
    assert_int_equal(one.refused_retries, 1);
    assert_int_equal(src.rewinds, 1);
    prq.rewind = NULL;
    memset(&src, 0, sizeof src);
    memset(&one, 0, sizeof one);
    src.fs = &one;
    assert_int_equal(evtls_client_fetch(cl, &prq, on_fetched_src, &src, NULL), 0);
    for (int spins = 0; spins < 100000 && one.done < 1; spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(one.first_err, EVTLS_ERR_H2_REFUSED);
    assert_int_equal(src.rewinds, 0);
    evtls_client_free(cl);
}

/* The client's http2 setting needs a configuration not yet built. */
static void test_client_http2_on_built_cfg(void **state)
{
    struct loop_fx *fx = *state;
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    evtls_client_opts co;
    evtls_client_opts_default(&co);
    co.http2 = EVTLS_HTTP2_AUTO;
    assert_null(evtls_client_new(fx->base, cfg, &co));
    evtls_cfg_unref(cfg);
}

/* Liveness: a server that never answers a PING: after the read-idle time a
 * PING, and when its ACK is late the connection fails (its stream with
 * H2_CONNECTION), all by the library's own timers; a pool then counts the
 * lost PING and dials anew. */
static void test_ping_lost(void **state)
{
    struct loop_fx *fx = *state;
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_http2(cfg, EVTLS_HTTP2_AUTO, 0), 0);
    assert_int_equal(evtls_cfg_set_http2_ping(cfg, 100, 200), 0);
    evtls_pool *p = evtls_pool_new(fx->base, NULL);
    struct got g;
    assert_int_equal(pool_checkout_wait(fx->base, p, cfg, "localhost", silent.port, &g), 0);
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    o.ttfb_timeout_ms = 30000; /* the PING decides first */
    struct ex_result r = {0};
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    assert_int_equal(evtls_http_exchange_start(g.c, req, &o, &cbs, &r, NULL), 0);
    evtls_http_req_free(req);
    run_until(fx->base, &r.done, 30000);
    assert_int_equal(r.err, EVTLS_ERR_H2_CONNECTION);
    assert_int_equal(evtls_conn_get_state(g.c), EVTLS_STATE_FAILED);
    evtls_pool_release(p, g.c);
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.pings_lost, 1);
    evtls_pool_free(p);
    evtls_cfg_unref(cfg);
}

/* A server that answers: PINGs go out while the connection is idle (its
 * bytes out grow), and it stays usable. */
static void test_ping_answered(void **state)
{
    struct loop_fx *fx = *state;
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_http2(cfg, EVTLS_HTTP2_AUTO, 0), 0);
    assert_int_equal(evtls_cfg_set_http2_ping(cfg, 50, 5000), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    evtls_conn *c = evtls_conn_new(fx->base, cfg);
    evtls_cfg_unref(cfg);
    struct connect_result cr;
    assert_int_equal(connect_wait(fx->base, c, "localhost", ngd.port, &cr), 0);
    struct ex_result r;
    run_gets(fx->base, c, "/small", 0, &r, 1);
    assert_int_equal(r.status, 200);
    uint64_t out = evtls_conn_get_info(c)->bytes_out, in = evtls_conn_get_info(c)->bytes_in;
    run_for(fx->base, 400 * test_time_scale());
    assert_true(evtls_conn_get_info(c)->bytes_out > out); /* PINGs */
    assert_true(evtls_conn_get_info(c)->bytes_in > in);   /* their ACKs */
    assert_int_equal(evtls_conn_get_state(c), EVTLS_STATE_CONNECTED);
    run_gets(fx->base, c, "/small", 0, &r, 1);
    assert_int_equal(r.status, 200);
    evtls_conn_free(c);
    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_http2_ping(cfg, 100, 0), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_http2_ping(cfg, 0, 0), 0); /* none */
    evtls_cfg_unref(cfg);
}

/* The pool with http2_one_connection: 20 checkouts at once to an origin
 * whose connection takes 5 streams: one connection, the others wait in
 * line and are served as holders give their share back. */
struct strict {
    evtls_pool *p;
    int got, done, ok, max_holders, holders;
};

static void strict_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    struct strict *st = arg;
    st->done++;
    st->ok += err == 0 && evtls_http_resp_get_status(r) == 200;
    st->holders--;
    if (evtls_pool_checkin(st->p, evtls_http_exchange_get_conn(x)) != 0)
        st->ok = -1000;
}

static void strict_checkout(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i,
                            void *arg)
{
    (void)p, (void)i;
    struct strict *st = arg;
    st->got++;
    if (err) {
        st->done++;
        return;
    }
    if (++st->holders > st->max_holders)
        st->max_holders = st->holders;
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, strict_done};
    if (evtls_http_exchange_start(c, req, NULL, &cbs, st, NULL) != 0)
        st->done++;
    evtls_http_req_free(req);
}

static void test_pool_one_connection(void **state)
{
    struct loop_fx *fx = *state;
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_http2(cfg, EVTLS_HTTP2_AUTO, 5), 0);
    evtls_pool_opts po;
    evtls_pool_opts_default(&po);
    po.http2_one_connection = 1;
    struct strict st = {0};
    st.p = evtls_pool_new(fx->base, &po);
    for (int i = 0; i < 20; i++)
        assert_int_equal(
            evtls_pool_checkout(st.p, cfg, "localhost", nginx2.port, strict_checkout, &st, NULL),
            0);
    for (int spins = 0; spins < 100000 && st.done < 20; spins++)
        event_base_loop(fx->base, EVLOOP_ONCE);
    assert_int_equal(st.ok, 20);
    assert_int_equal(st.max_holders, 5);
    evtls_pool_stats ps;
    evtls_pool_get_stats(st.p, &ps);
    assert_int_equal(ps.created, 1);
    assert_int_equal(ps.h2_conns, 1);
    assert_true(ps.shared >= 15);
    evtls_pool_free(st.p);
    evtls_cfg_unref(cfg);
}

/* HTTP/2's rules for the request's fields (RFC 9113 section 8.2): names
 * lower-cased, the connection-specific ones dropped (the peer, python3-h2,
 * refuses a request that carries one), Host as :authority. */
static void test_request_fields(void **state)
{
    struct loop_fx *fx = *state;
    evtls_conn *c = connect_h2(fx->base, EVTLS_HTTP2_AUTO, 0, echo.port);
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/f");
    static const char *const fields[][2] = {{"Host", "other.example:8443"},
                                            {"Connection", "keep-alive"},
                                            {"Keep-Alive", "timeout=5"},
                                            {"Proxy-Connection", "keep-alive"},
                                            {"Upgrade", "h2c"},
                                            {"TE", "gzip"},
                                            {"X-Custom", "1"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        assert_int_equal(evtls_http_req_add_header(req, fields[i][0], fields[i][1]), 0);
    struct ex_result r = {0};
    evtls_http_cbs cbs = {NULL, NULL, on_done_fields};
    assert_int_equal(evtls_http_exchange_start(c, req, NULL, &cbs, &r, NULL), 0);
    evtls_http_req_free(req);
    run_until(fx->base, &r.done, 30000);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.got_headers,
                        ":method,:scheme,:authority,:path,x-custom,user-agent,accept");
    assert_string_equal(r.got_authority, "other.example:8443");
    evtls_conn_free(c);
}

static void test_bad_settings(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_http2(cfg, (evtls_http2_mode)7, 0), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_http2(cfg, EVTLS_HTTP2_AUTO, (1u << 30) + 1),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_http2(NULL, EVTLS_HTTP2_AUTO, 0), EVTLS_ERR_INVALID_ARG);
    evtls_cfg_unref(cfg);
    assert_string_equal(evtls_http_h2_error_name(7), "REFUSED_STREAM");
    assert_string_equal(evtls_http_h2_error_name(99), "UNKNOWN_CODE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_over_alpn_h2, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_ticket_remembers_alpn, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_many_streams_one_connection, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_large_bodies_flow_control, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_one_stream, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_prior_knowledge_plain, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_server_without_h2, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_refused_stream, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_stream_reset_alone, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_goaway_last_stream_id, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_goaway_with_error_fails_all, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_settings_lowered_mid_run, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_header_list_over_limit, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_request_bodies, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_upload_stopped_by_final_response, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_zero_window, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_continuation_flood, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_ttfb_from_headers_sent, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_ttfb_timeout_resets_stream, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_client_shares_streams, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_client_through_goaways, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_client_retries_refused, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_client_http2_on_built_cfg, loop_fx_setup,
                                        loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_request_fields, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_pool_one_connection, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_ping_lost, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test_setup_teardown(test_ping_answered, loop_fx_setup, loop_fx_teardown),
        cmocka_unit_test(test_bad_settings),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
