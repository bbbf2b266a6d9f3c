/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_early.c - TLS 1.3 early data (0-RTT) against real servers: nginx
 * with ssl_early_data (its log says which requests came early), openssl
 * s_server -early_data (its anti-replay rejects a ticket offered twice),
 * gnutls-serv --earlydata; a request that is not safe to replay never goes
 * early, a ticket that allows none sends none, a HelloRetryRequest rejects
 * it, and a rejected request is sent again once, never twice. On a build
 * without early data (Debian's wolfSSL) the configuration is refused,
 * naming the build option. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"

/* The peers of the running test: stopped by its teardown on every way
 * out. nginx is reached through the delaying relay, so that the early
 * request is in before the handshake can end (nginx's $ssl_early_data is
 * "1" only until then, as its 425 rule is). */
static struct peer web, srv, relay;

static int stop_peers(void **state)
{
    peer_stop(&relay);
    peer_stop(&web);
    peer_stop(&srv);
    return loop_fx_teardown(state);
}

static uint16_t via_relay_to(uint16_t port)
{
    assert_int_equal(peer_relay(&relay, port, 10, NULL), 0);
    return relay.port;
}

static int have_early(void)
{
    evtls_build_info bi = EVTLS_BUILD_INFO_INIT;
    assert_int_equal(evtls_get_build_info(&bi), 0);
    return bi.early_data;
}

static evtls_cfg *early_cfg(size_t max)
{
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_non_null(cfg);
    assert_int_equal(evtls_cfg_set_early_data(cfg, max), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    return cfg;
}

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)c, (void)err;
    *(int *)arg = 1;
}

/* Closes c waiting for the server's close, so that the tickets it sent
 * after the handshake are stored. */
static void close_storing(struct loop_fx *f, evtls_conn *c)
{
    int closed = 0;
    assert_int_equal(evtls_conn_shutdown(c, on_closed, &closed), 0);
    run_until(f->base, &closed, 10000);
    assert_true(closed);
}

/* What one GET saw. */
struct get {
    int done, err, status;
    char body[256];
    evtls_early_data early;
    size_t early_bytes;
    size_t req_len;
    int resumed, offered;
};

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct get *g = arg;
    g->done = 1;
    g->err = err;
    g->status = evtls_http_resp_get_status(r);
    size_t len = 0;
    const uint8_t *b = evtls_http_resp_get_body(r, &len);
    if (len >= sizeof g->body)
        len = sizeof g->body - 1;
    if (len)
        memcpy(g->body, b, len);
    g->body[len] = '\0';
}

/* One request on a new connection to port with the session cache sc, its
 * bytes handed over as early data when early is set; the connection is
 * then closed storing the server's new tickets. Returns the exchange's
 * error (or the early call's, or the connect's). */
static int get_on_new(struct loop_fx *f, evtls_cfg *cfg, evtls_session_cache *sc, uint16_t port,
                      const char *method, const char *path, int early, struct get *g)
{
    memset(g, 0, sizeof *g);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    assert_non_null(c);
    assert_int_equal(evtls_conn_set_session_cache(c, sc), 0);
    evtls_http_req *req = evtls_http_req_new(method, "localhost", path);
    assert_non_null(req);
    assert_non_null(evtls_http_req_get_bytes(req, &g->req_len));
    if (early) {
        int rc = evtls_http_req_send_early(req, c);
        if (rc != 0) {
            evtls_http_req_free(req);
            evtls_conn_free(c);
            return rc;
        }
    }
    struct connect_result cr;
    int rc = connect_wait(f->base, c, "localhost", port, &cr);
    if (rc != 0) {
        evtls_http_req_free(req);
        evtls_conn_free(c);
        return rc;
    }
    const evtls_conn_info *i = evtls_conn_get_info(c);
    g->early = i->early_data;
    g->early_bytes = i->early_data_bytes;
    g->resumed = i->resumed;
    g->offered = i->session_offered;
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    rc = evtls_http_exchange_start(c, req, NULL, &cbs, g, NULL);
    evtls_http_req_free(req);
    if (rc != 0) {
        evtls_conn_free(c);
        return rc;
    }
    run_until(f->base, &g->done, 15000);
    assert_true(g->done);
    close_storing(f, c);
    return g->err;
}

/* nginx's log once it holds want lines: each line's early field. */
static int log_lines(const struct peer *p, int want, char early[][4], int max)
{
    int status[16];
    assert_true(max <= 16);
    int n = peer_nginx_early_log(p, want, status, early, max);
    assert_true(n >= 0);
    return n;
}

#define NGINX_EARLY                                                                                \
    "ssl_early_data on; ssl_session_ticket_key %s;"                                                \
    "location /too-early { if ($ssl_early_data) { return 425; } return 200 \"late\\n\"; }"

static char ticket_key[64];

/* The same ticket key for every nginx of a test: one can resume the
 * sessions of another started on the same port. */
static const char *nginx_early(char *buf, size_t size, const char *more)
{
    if (ticket_key[0] == '\0') {
        snprintf(ticket_key, sizeof ticket_key, "/tmp/evtls-ticket-key-%d", (int)getpid());
        FILE *k = fopen(ticket_key, "w");
        assert_non_null(k);
        for (int i = 0; i < 80; i++)
            fputc((i * 37 + 11) & 0xff, k);
        fclose(k);
    }
    snprintf(buf, size, NGINX_EARLY " %s", ticket_key, more ? more : "");
    return buf;
}

/* nginx with early data (and more directives), reached through the
 * relay: returns the relay's port. */
static uint16_t start_nginx_early(const char *more)
{
    char dir[512];
    assert_int_equal(peer_nginx(&web, nginx_early(dir, sizeof dir, more)), 0);
    return via_relay_to(web.port);
}

static void test_build_without_early_data_refused(void **state)
{
    (void)state;
    /* what may go early, as the tools ask before they have a request */
    assert_true(evtls_http_method_early_safe("GET") && evtls_http_method_early_safe("HEAD") &&
                evtls_http_method_early_safe("OPTIONS") && evtls_http_method_early_safe("TRACE"));
    assert_false(evtls_http_method_early_safe("POST") || evtls_http_method_early_safe("get") ||
                 evtls_http_method_early_safe("DELETE") || evtls_http_method_early_safe(NULL));
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_early_data(cfg, EVTLS_EARLY_DATA_MAX + 1),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_early_data(cfg, 4096), 0);
    int rc = evtls_cfg_build(cfg);
    if (have_early()) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, EVTLS_ERR_BAD_CONFIG);
        const char *d = evtls_cfg_get_last_error(cfg)->detail;
        if (strstr(d, "--enable-earlydata") == NULL)
            fail_msg("the refusal does not name the build option: %s", d);
    }
    evtls_cfg_unref(cfg);
}

/* nginx takes the request from the first flight: accepted, the bytes
 * counted, the answer right, and the request not sent a second time
 * (nginx logged one request on that connection, as early data). */
static void test_nginx_accepts(void **state)
{
    struct loop_fx *f = *state;
    if (!have_early())
        skip();
    uint16_t port = start_nginx_early(NULL);
    evtls_cfg *cfg = early_cfg(16384);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    struct get g;
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/", 1, &g), 0);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_NOT_SENT); /* no ticket yet */
    assert_int_equal(g.status, 200);
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/", 1, &g), 0);
    assert_true(g.resumed);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_ACCEPTED);
    assert_int_equal(g.early_bytes, g.req_len);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, "hello from nginx\n");
    char early[4][4];
    assert_int_equal(log_lines(&web, 2, early, 4), 2);
    assert_string_equal(early[0], "-");
    assert_string_equal(early[1], "1");
    /* A 425 from the server: its answer is given to the caller as is. */
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/too-early", 1, &g), 0);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_ACCEPTED);
    assert_int_equal(g.status, 425);
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/too-early", 0, &g), 0);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_NOT_SENT);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, "late\n");
    evtls_session_cache_unref(sc);
    evtls_cfg_unref(cfg);
    peer_stop(&web);
}

/* Only GET, HEAD, OPTIONS and TRACE go early (RFC 8470): a POST is
 * refused before anything is sent; the configuration's limit and a ticket
 * that allows no early data each keep the request for after the
 * handshake, which then goes once. */
static void test_what_never_goes_early(void **state)
{
    struct loop_fx *f = *state;
    if (!have_early())
        skip();
    uint16_t port = start_nginx_early(NULL);
    evtls_cfg *cfg = early_cfg(16384), *small = early_cfg(8);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    struct get g;
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/", 0, &g), 0);
    assert_int_equal(get_on_new(f, cfg, sc, port, "POST", "/", 1, &g), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(get_on_new(f, cfg, sc, port, "PUT", "/", 1, &g), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(get_on_new(f, cfg, sc, port, "POST", "/", 0, &g), 0);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_NOT_SENT);
    assert_true(g.resumed);
    /* above the configuration's limit: not sent, sent after */
    assert_int_equal(get_on_new(f, small, sc, port, "HEAD", "/", 1, &g), 0);
    assert_true(g.resumed);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_NOT_SENT);
    assert_int_equal(g.early_bytes, 0);
    assert_int_equal(g.status, 200);
    char early[8][4];
    assert_int_equal(log_lines(&web, 3, early, 8), 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(early[i], "-");
    peer_stop(&web);

    /* A server whose tickets allow no early data: none is sent. */
    peer_stop(&relay);
    assert_int_equal(peer_nginx(&web, "keepalive_timeout 60s;"), 0);
    port = via_relay_to(web.port);
    evtls_session_cache_clear(sc);
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/", 0, &g), 0);
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/", 1, &g), 0);
    assert_true(g.resumed);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_NOT_SENT);
    assert_int_equal(g.status, 200);
    assert_int_equal(log_lines(&web, 2, early, 8), 2);
    evtls_session_cache_unref(sc);
    evtls_cfg_unref(small);
    evtls_cfg_unref(cfg);
    peer_stop(&web);
}

/* A HelloRetryRequest ends early data (RFC 8446 section 4.1.2): an nginx
 * started again on the same port with the same ticket key resumes the
 * session but wants another group; the request, rejected early, goes once
 * after the handshake. */
static void test_hello_retry_rejects(void **state)
{
    struct loop_fx *f = *state;
    if (!have_early())
        skip();
    uint16_t port = start_nginx_early(NULL);
    evtls_cfg *cfg = early_cfg(16384);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    struct get g;
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/", 0, &g), 0);
    char early[4][4];
    assert_int_equal(log_lines(&web, 1, early, 4), 1);
    peer_stop(&web);
    char dir[512];
    assert_int_equal(peer_nginx_ex(&web, PEER_NGINX_SAME_PORT,
                                   nginx_early(dir, sizeof dir, "ssl_ecdh_curve secp384r1;")),
                     0);
    assert_int_equal(get_on_new(f, cfg, sc, port, "GET", "/", 1, &g), 0);
    assert_true(g.resumed);
    assert_int_equal(g.early, EVTLS_EARLY_DATA_REJECTED);
    assert_int_equal(g.early_bytes, g.req_len);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, "hello from nginx\n");
    assert_int_equal(log_lines(&web, 1, early, 4), 1); /* once, not early */
    assert_string_equal(early[0], "-");
    evtls_session_cache_unref(sc);
    evtls_cfg_unref(cfg);
    peer_stop(&web);
}

static void ignore_data(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    (void)c, (void)data, (void)n, (void)arg;
}

struct stored_watch {
    evtls_session_cache *sc;
    uint64_t stored;
    int seen;
};

static void watch_stored(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct stored_watch *w = arg;
    evtls_session_stats st;
    evtls_session_cache_get_stats(w->sc, &st);
    w->seen = st.stored > w->stored;
}

/* Connects to port with early bytes, the session offered from sc; closes
 * storing tickets. Returns the early data's fate. */
static evtls_early_data raw_early(struct loop_fx *f, evtls_cfg *cfg, evtls_session_cache *sc,
                                  uint16_t port, const char *bytes, int kick, int *resumed)
{
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    assert_non_null(c);
    assert_int_equal(evtls_conn_set_session_cache(c, sc), 0);
    if (bytes)
        assert_int_equal(evtls_conn_set_early_data(c, NULL, bytes, strlen(bytes)), 0);
    struct connect_result cr;
    assert_int_equal(connect_wait(f->base, c, "localhost", port, &cr), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    evtls_early_data e = i->early_data;
    if (resumed)
        *resumed = i->resumed;
    if (e != EVTLS_EARLY_DATA_NOT_SENT)
        assert_int_equal(i->early_data_bytes, strlen(bytes));
    /* The tickets are stored as the connection reads (s_server sends its
     * own once it has read something: kick) */
    evtls_session_stats before, now;
    evtls_session_cache_get_stats(sc, &before);
    if (kick)
        assert_int_equal(evtls_conn_write(c, "after\n", 6), 0);
    assert_int_equal(evtls_conn_read_start(c, ignore_data, NULL), 0);
    struct stored_watch w = {sc, before.stored, 0};
    struct event *tick = event_new(f->base, -1, EV_PERSIST, watch_stored, &w);
    struct timeval ms10 = {0, 10000};
    event_add(tick, &ms10);
    run_until(f->base, &w.seen, 10000);
    event_free(tick);
    evtls_session_cache_get_stats(sc, &now);
    assert_true(now.stored > before.stored);
    close_storing(f, c);
    return e;
}

/* Waits until the peer's output holds what (10 s at most). */
static int output_has(struct peer *p, const char *what, char *buf, size_t size)
{
    size_t len = 0;
    for (int i = 0; i < 1000; i++) {
        len += peer_output(p, buf + len, size - 1 - len);
        buf[len] = '\0';
        if (strstr(buf, what))
            return 1;
        usleep(10000);
    }
    return 0;
}

/* openssl s_server with anti-replay (its default): a ticket's early data
 * is taken once; the same ticket offered again (a saved session file
 * loaded twice) resumes, and its early data is rejected. */
static void test_s_server_anti_replay(void **state)
{
    struct loop_fx *f = *state;
    if (!have_early())
        skip();
    const char *args[] = {"-cert",           pki("server.pem"), "-key",
                          pki("server.key"), "-early_data",     NULL};
    /* -www cannot take early data; without it s_server prints what it reads */
    assert_int_equal(peer_s_server_plain(&srv, args), 0);
    evtls_cfg *cfg = early_cfg(16384);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    int resumed = 0;
    assert_int_equal(raw_early(f, cfg, sc, srv.port, NULL, 1, &resumed), EVTLS_EARLY_DATA_NOT_SENT);
    char path[64];
    snprintf(path, sizeof path, "/tmp/evtls-early-sess-%d", (int)getpid());
    assert_int_equal(evtls_session_cache_save(sc, path), 0);
    evtls_session_cache *a = evtls_session_cache_new(0), *b = evtls_session_cache_new(0);
    assert_true(evtls_session_cache_load(a, path) >= 1);
    assert_true(evtls_session_cache_load(b, path) >= 1);
    unlink(path);
    static char out[65536];
    assert_int_equal(raw_early(f, cfg, a, srv.port, "first flight\n", 1, &resumed),
                     EVTLS_EARLY_DATA_ACCEPTED);
    assert_true(resumed);
    if (!output_has(&srv, "first flight", out, sizeof out))
        fail_msg("s_server did not print the early data:\n%s", out);
    assert_int_equal(raw_early(f, cfg, b, srv.port, "replayed\n", 1, &resumed),
                     EVTLS_EARLY_DATA_REJECTED);
    evtls_session_cache_unref(a);
    evtls_session_cache_unref(b);
    evtls_session_cache_unref(sc);
    evtls_cfg_unref(cfg);
    peer_stop(&srv);
}

/* gnutls-serv --earlydata accepts it too. */
static void test_gnutls_accepts(void **state)
{
    struct loop_fx *f = *state;
    if (!have_early())
        skip();
    assert_int_equal(peer_gnutls_serv(&srv, "--earlydata"), 0);
    /* Through the relay: a ticket's age as the server sees it (from its
     * making) is then above the client's (from its arrival) by a round
     * trip; on bare loopback the two are within a millisecond, and GnuTLS's
     * anti-replay refuses a client age above its own. */
    uint16_t port = via_relay_to(srv.port);
    evtls_cfg *cfg = early_cfg(16384);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    int resumed = 0;
    assert_int_equal(raw_early(f, cfg, sc, port, NULL, 0, &resumed), EVTLS_EARLY_DATA_NOT_SENT);
    assert_int_equal(raw_early(f, cfg, sc, port, "GET / HTTP/1.0\r\n\r\n", 0, &resumed),
                     EVTLS_EARLY_DATA_ACCEPTED);
    assert_true(resumed);
    evtls_session_cache_unref(sc);
    evtls_cfg_unref(cfg);
    peer_stop(&srv);
}

/* Counts the handshake's WANT_WRITE steps of the connections (debug lines). */
static int want_writes;

static void count_want_write(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)level, (void)ms, (void)arg;
    want_writes += strstr(msg, ": WANT_WRITE (moved:") != NULL;
}

/* The early data's write blocks (WANT_WRITE) and goes on when the socket
 * drains: a 4 KiB send buffer, a relay that leaves the first flight unread
 * for 300 ms with a small receive window, and a 16 KB request; accepted,
 * answered, and logged once as early. */
static void test_early_write_blocks(void **state)
{
    struct loop_fx *f = *state;
    if (!have_early())
        skip();
    char dir[512];
    assert_int_equal(peer_nginx(&web, nginx_early(dir, sizeof dir, NULL)), 0);
    const char *slow[] = {"--hold", "300", "--rcvbuf", "2048", NULL};
    assert_int_equal(peer_relay(&relay, web.port, 10, slow), 0);
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_early_data(cfg, 16384), 0);
    assert_int_equal(evtls_cfg_set_socket_buffers(cfg, 4096, 0), 0);
    evtls_session_cache *sc = evtls_session_cache_new(0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    assert_non_null(c);
    assert_int_equal(evtls_conn_set_session_cache(c, sc), 0);
    struct connect_result cr;
    assert_int_equal(connect_wait(f->base, c, "localhost", relay.port, &cr), 0);
    close_storing(f, c); /* its tickets */
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    static char big[7901];
    memset(big, 'x', sizeof big - 1);
    assert_int_equal(evtls_http_req_add_header(req, "X-Big-1", big), 0);
    assert_int_equal(evtls_http_req_add_header(req, "X-Big-2", big), 0);
    c = evtls_conn_new(f->base, cfg);
    assert_int_equal(evtls_conn_set_session_cache(c, sc), 0);
    assert_int_equal(evtls_http_req_send_early(req, c), 0);
    evtls_log_level was = evtls_log_get_level();
    want_writes = 0;
    evtls_log_set_handler(count_want_write, NULL);
    evtls_log_set_level(EVTLS_LOG_DEBUG);
    int rc = connect_wait(f->base, c, "localhost", relay.port, &cr);
    evtls_log_set_handler(NULL, NULL);
    evtls_log_set_level(was);
    assert_int_equal(rc, 0);
    assert_true(want_writes >= 1);
    assert_int_equal(evtls_conn_get_info(c)->early_data, EVTLS_EARLY_DATA_ACCEPTED);
    struct get g;
    memset(&g, 0, sizeof g);
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    assert_int_equal(evtls_http_exchange_start(c, req, NULL, &cbs, &g, NULL), 0);
    evtls_http_req_free(req);
    run_until(f->base, &g.done, 15000);
    assert_int_equal(g.err, 0);
    assert_int_equal(g.status, 200);
    close_storing(f, c);
    char early[4][4];
    assert_int_equal(log_lines(&web, 1, early, 4), 1); /* the first made no request */
    assert_string_equal(early[0], "1");
    evtls_session_cache_unref(sc);
    evtls_cfg_unref(cfg);
}

/* What a fetch saw. */
struct fetched {
    int done, err, status;
    char body[128];
    evtls_fetch_info info;
};

static void on_fetched(int err, const evtls_http_resp *r, const evtls_fetch_info *info, void *arg)
{
    struct fetched *fe = arg;
    fe->done = 1;
    fe->err = err;
    fe->status = r ? evtls_http_resp_get_status(r) : 0;
    fe->info = *info;
    size_t len = 0;
    const uint8_t *b = r ? evtls_http_resp_get_body(r, &len) : NULL;
    if (len >= sizeof fe->body)
        len = sizeof fe->body - 1;
    if (len)
        memcpy(fe->body, b, len);
    fe->body[len] = '\0';
}

static void fetch_all(struct loop_fx *f, evtls_client *cl, const char *const *urls, int early,
                      struct fetched *fe, int n)
{
    for (int i = 0; i < n; i++) {
        memset(&fe[i], 0, sizeof fe[i]);
        evtls_request rq = {.url = urls[i], .early_data = early};
        assert_int_equal(evtls_client_fetch(cl, &rq, on_fetched, &fe[i], NULL), 0);
    }
    for (int i = 0; i < n; i++) {
        run_until(f->base, &fe[i].done, 15000);
        assert_true(fe[i].done);
        assert_int_equal(fe[i].err, 0);
    }
}

/* The client (evtls_request.early_data): nginx closes each connection
 * after its answer, so every fetch dials; a dialled connection carries its
 * own checkout's request, two at once each their own (the answers echo the
 * path); a 425 is sent again once without early data. */
static void test_client_fetches_early(void **state)
{
    struct loop_fx *f = *state;
    if (!have_early())
        skip();
    uint16_t port = start_nginx_early("keepalive_timeout 0; location /echo/ { return 200 "
                                      "\"$uri\\n\"; }");
    evtls_cfg *cfg = early_cfg(16384);
    evtls_client *cl = evtls_client_new(f->base, cfg, NULL);
    assert_non_null(cl);
    char u[4][96];
    snprintf(u[0], sizeof u[0], "https://localhost:%u/echo/zero", port);
    snprintf(u[1], sizeof u[1], "https://localhost:%u/echo/one", port);
    snprintf(u[2], sizeof u[2], "https://localhost:%u/echo/two", port);
    snprintf(u[3], sizeof u[3], "https://localhost:%u/too-early", port);
    const char *first[] = {u[0]}, *two[] = {u[1], u[2]}, *late[] = {u[3]};
    struct fetched fe[2];
    fetch_all(f, cl, first, 1, fe, 1); /* no ticket yet: two come */
    assert_int_equal(fe[0].info.early_data, EVTLS_EARLY_DATA_NOT_SENT);
    assert_string_equal(fe[0].body, "/echo/zero\n");
    fetch_all(f, cl, two, 1, fe, 2);
    for (int i = 0; i < 2; i++) {
        assert_false(fe[i].info.reused);
        assert_int_equal(fe[i].info.early_data, EVTLS_EARLY_DATA_ACCEPTED);
        assert_int_equal(fe[i].status, 200);
    }
    assert_string_equal(fe[0].body, "/echo/one\n");
    assert_string_equal(fe[1].body, "/echo/two\n");
    char early[8][4];
    assert_int_equal(log_lines(&web, 3, early, 8), 3);
    assert_string_equal(early[1], "1");
    assert_string_equal(early[2], "1");
    /* a resumed connection brought no new ticket: a full one brings two */
    fetch_all(f, cl, first, 0, fe, 1);
    assert_false(fe[0].info.resumed);
    fetch_all(f, cl, late, 1, fe, 1);
    assert_int_equal(fe[0].status, 200);
    assert_string_equal(fe[0].body, "late\n");
    assert_true(fe[0].info.too_early);
    evtls_client_free(cl);
    evtls_cfg_unref(cfg);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, loop_fx_setup, stop_peers)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_without_early_data_refused),
        T(test_nginx_accepts),
        T(test_what_never_goes_early),
        T(test_hello_retry_rejects),
        T(test_s_server_anti_replay),
        T(test_gnutls_accepts),
        T(test_client_fetches_early),
        T(test_early_write_blocks),
    };
    int rc = cmocka_run_group_tests_name("early data", tests, NULL, NULL);
    if (ticket_key[0])
        unlink(ticket_key);
    return rc;
}
