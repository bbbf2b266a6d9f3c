/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_fault.c - the hostile-peer bench. Each mode of the fault peer
 * (tests/support/faultpeer.c, and s_server with an over-long chain or
 * TLS 1.0 only) must end in its exact error, found by the right timer or
 * at once, and leave behind no memory of the connection (evtls's owner
 * counters, which see every wolfSSL allocation) and no file descriptor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"

/* ---- what a case starts from and must come back to */

struct start {
    evtls_mem_stats mem;
    int fds;
};

static void settle(struct event_base *base)
{
    for (int i = 0; i < 10; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

static void take_start(struct loop_fx *f, struct start *s)
{
    settle(f->base);
    evtls_mem_get_stats(&s->mem);
    s->fds = count_open_fds();
}

/* The connection's memory and fd are gone: every owner but the context
 * and wolfSSL's per-thread caches is back at (or below) its start. */
static void check_released(struct loop_fx *f, const struct start *s, const char *mode)
{
    settle(f->base);
    evtls_mem_stats now;
    evtls_mem_get_stats(&now);
    assert_int_equal(now.enabled, 1);
    for (int o = 0; o < EVTLS_MEM_OWNERS; o++) {
        if (o == EVTLS_MEM_TLS_HANDSHAKE || o == EVTLS_MEM_TLS_CONFIG)
            continue;
        if (now.bytes[o] > s->mem.bytes[o] || now.blocks[o] > s->mem.blocks[o])
            fail_msg("mode %s: %s holds %zu bytes in %zu blocks, %zu in %zu at the start", mode,
                     evtls_mem_owner_name((evtls_mem_owner)o), now.bytes[o], now.blocks[o],
                     s->mem.bytes[o], s->mem.blocks[o]);
    }
    if (count_open_fds() != s->fds)
        fail_msg("mode %s: %d fds open, %d at the start", mode, count_open_fds(), s->fds);
}

/* One case: the fault peer in a mode, a config, the start mark, and a
 * connection (not yet connected) made after it. */
struct fcase {
    const char *mode;
    struct peer p;
    evtls_cfg *cfg;
    struct start s;
    evtls_conn *c;
};

static void open_case(struct loop_fx *f, struct fcase *k, const char *mode, unsigned handshake_ms)
{
    k->mode = mode;
    assert_int_equal(peer_fault(&k->p, mode, NULL), 0);
    k->cfg = test_cfg(0, handshake_ms);
    take_start(f, &k->s);
    k->c = evtls_conn_new(f->base, k->cfg);
    assert_non_null(k->c);
}

/* Frees the connection and checks that it left nothing behind. */
static void close_case(struct loop_fx *f, struct fcase *k)
{
    evtls_conn_free(k->c);
    check_released(f, &k->s, k->mode);
    evtls_cfg_unref(k->cfg);
    peer_stop(&k->p);
}

/* ---- handshake faults */

struct hs_case {
    const char *mode;
    unsigned handshake_ms; /* the handshake timeout (0: the default) */
    int err;
    unsigned min_ms; /* the error comes no sooner (a timer's; 0: at once) */
    char *peer_out;  /* if not NULL: what the peer printed, before it stops */
    size_t peer_out_len;
};

/* One connection to the fault peer in k->mode: the error and its timing
 * are k's, and the connection leaves nothing behind. Returns its record. */
static evtls_last_error handshake_fault(struct loop_fx *f, const struct hs_case *k)
{
    struct fcase fc;
    open_case(f, &fc, k->mode, k->handshake_ms);
    struct connect_result r;
    int err = connect_wait(f->base, fc.c, "localhost", fc.p.port, &r);
    if (err != k->err)
        fail_msg("mode %s: %s (%s), expected %s", k->mode, evtls_err_name(err), r.last.detail,
                 evtls_err_name(k->err));
    /* An error other than HANDSHAKE_TIMEOUT came before that timer: the
     * code says which timer, if any, ended the handshake; the time only
     * that a timer did not fire early. */
    if (r.elapsed_ms < k->min_ms)
        fail_msg("mode %s: after %llu ms, expected at least %u", k->mode,
                 (unsigned long long)r.elapsed_ms, k->min_ms);
    assert_int_equal(r.last.code, k->err);
    if (k->peer_out)
        peer_output(&fc.p, k->peer_out, k->peer_out_len);
    close_case(f, &fc);
    return r.last;
}

static void test_accepts_and_stays_silent(void **state)
{
    struct hs_case k = {"hs-silent", 400, EVTLS_ERR_HANDSHAKE_TIMEOUT, 380, NULL, 0};
    handshake_fault(*state, &k);
}

static void test_closes_after_client_hello(void **state)
{
    struct hs_case k = {"hs-close", 5000, EVTLS_ERR_PEER_CLOSED, 0, NULL, 0};
    assert_true(evtls_err_is_retryable(handshake_fault(*state, &k).code));
}

static void test_resets_mid_handshake(void **state)
{
    /* Right after the ClientHello, and inside the server's first flight. */
    struct hs_case k = {"hs-rst", 5000, EVTLS_ERR_PEER_RESET, 0, NULL, 0};
    handshake_fault(*state, &k);
    k.mode = "hs-cut";
    assert_true(evtls_err_is_retryable(handshake_fault(*state, &k).code));
}

static void test_random_bytes_for_server_hello(void **state)
{
    struct hs_case k = {"hs-random", 5000, EVTLS_ERR_PROTOCOL, 0, NULL, 0};
    evtls_last_error last = handshake_fault(*state, &k);
    assert_int_not_equal(last.tls_error, 0);
    assert_false(evtls_err_is_retryable(last.code));
}

static void test_slow_drip_hits_handshake_timeout(void **state)
{
    char out[4096];
    struct hs_case k = {"hs-drip", 800, EVTLS_ERR_HANDSHAKE_TIMEOUT, 780, out, sizeof out};
    handshake_fault(*state, &k);
    /* The peer was sending all along: the timer bounds the whole
     * handshake, not the silence between bytes. */
    assert_non_null(strstr(out, "DRIP"));
}

static void test_oversized_certificate_chain(void **state)
{
    struct hs_case k = {"big-chain", 5000, EVTLS_ERR_PROTOCOL, 0, NULL, 0};
    assert_non_null(strstr(handshake_fault(*state, &k).tls_error_text, "too large"));
}

static void test_tls10_only_peer(void **state)
{
    struct hs_case k = {"tls10", 5000, EVTLS_ERR_PROTOCOL_VERSION, 0, NULL, 0};
    evtls_last_error last = handshake_fault(*state, &k);
    assert_int_equal(last.alert, 70); /* protocol_version */
    assert_false(evtls_err_is_retryable(last.code));
}

/* ---- faults after the handshake: one GET, run to its end */

struct done {
    int done, err;
};

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    (void)r;
    struct done *d = arg;
    d->done = 1;
    d->err = err;
}

static void response_fault(struct loop_fx *f, const char *mode, int want)
{
    struct fcase fc;
    open_case(f, &fc, mode, 0);
    struct connect_result r;
    assert_int_equal(connect_wait(f->base, fc.c, "localhost", fc.p.port, &r), 0);
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    struct done d = {0};
    assert_int_equal(evtls_http_exchange_start(fc.c, req, NULL, &cbs, &d, NULL), 0);
    evtls_http_req_free(req);
    run_until(f->base, &d.done, 15000);
    assert_true(d.done);
    /* want is never a timer's error (HTTP_TTFB_TIMEOUT, HTTP_TIMEOUT):
     * the fault was found out from what the peer sent, not by a timer. */
    if (d.err != want)
        fail_msg("mode %s: %s, expected %s", mode, evtls_err_name(d.err), evtls_err_name(want));
    close_case(f, &fc);
}

static void test_corrupted_record_after_handshake(void **state)
{
    response_fault(*state, "bad-mac", EVTLS_ERR_PROTOCOL);
}

static void test_truncated_without_close_notify(void **state)
{
    response_fault(*state, "truncate-bare", EVTLS_ERR_HTTP_TRUNCATED);
}

static void test_close_notify_mid_response(void **state)
{
    response_fault(*state, "truncate", EVTLS_ERR_HTTP_TRUNCATED);
}

static void test_garbage_status_line(void **state)
{
    response_fault(*state, "garbage", EVTLS_ERR_HTTP_MALFORMED);
}

static void test_one_megabyte_header(void **state)
{
    response_fault(*state, "huge-header", EVTLS_ERR_HTTP_HEADERS_TOO_LARGE);
}

/* ---- a peer that stops reading: writes are refused past the limit */

static void test_peer_stops_reading(void **state)
{
    struct loop_fx *f = *state;
    struct fcase fc;
    open_case(f, &fc, "no-read", 0);
    evtls_conn *c = fc.c;
    struct connect_result r;
    assert_int_equal(connect_wait(f->base, c, "localhost", fc.p.port, &r), 0);
    const size_t limit = 65536;
    assert_int_equal(evtls_conn_set_write_limit(c, limit), 0);
    size_t accepted;
    int rc = write_until_refused(f->base, c, 16384, 20000, &accepted);
    assert_int_equal(rc, EVTLS_ERR_WOULDBLOCK);
    assert_true(evtls_conn_get_write_pending(c) <= limit);
    assert_true(accepted < 64u * 1024 * 1024); /* the kernel's buffers, then the limit */
    evtls_mem_stats m;
    evtls_mem_get_stats(&m);
    /* Nor does wolfSSL hold more of it than the one record it could not
     * finish sending (16 KiB of data plus the record's overhead). */
    assert_true(m.bytes[EVTLS_MEM_TLS_RECORDS] - fc.s.mem.bytes[EVTLS_MEM_TLS_RECORDS] <=
                16384 + 256);
    close_case(f, &fc);
}

/* One good connection first: wolfSSL makes some process-wide state on
 * first use (136 bytes of it), which the first case would count. */
static int warm_up(void **state)
{
    (void)state;
    struct peer p;
    if (peer_fault(&p, "ok", NULL) != 0)
        return -1;
    struct event_base *base = event_base_new();
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_conn *c = evtls_conn_new(base, cfg);
    struct connect_result r;
    int err = connect_wait(base, c, "localhost", p.port, &r);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    settle(base);
    event_base_free(base);
    peer_stop(&p);
    return err;
}

/* ---- the harness's own promise: a test that dies takes its peers along */

/* 1 while pid is a process that has not ended (a zombie has ended). */
static int alive(pid_t pid)
{
    char path[64], st[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(st, 1, sizeof st - 1, f);
    fclose(f);
    st[n] = '\0';
    const char *paren = strrchr(st, ')'); /* "pid (comm) S ..." */
    return paren == NULL || paren[1] != ' ' || (paren[2] != 'Z' && paren[2] != 'X');
}

/* Every kind of peer a test starts (the fault peer, s_server, nginx,
 * dnsmasq, tinyproxy) is started in a child process that is then killed
 * as a failed test can be (SIGKILL: no cleanup runs); each peer must be
 * gone. How long the kernel takes to deliver that is not asserted: the
 * loop's limit is a guard against a hang, scaled for valgrind. */
static void test_peers_die_with_the_test(void **state)
{
    (void)state;
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0); /* the peers must not hold it */
    pid_t child = fork();
    if (child == 0) {
        close(pfd[0]);
        struct peer p[5];
        static const char *const host[] = {"--host-record=a.test,127.0.0.1", NULL};
        const char *const cert[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), NULL};
        int ok = peer_fault(&p[0], "ok", NULL) == 0 && peer_s_server(&p[1], cert) == 0 &&
                 peer_nginx(&p[2], NULL) == 0 && peer_dnsmasq(&p[3], host) == 0 &&
                 peer_tinyproxy(&p[4], NULL) == 0;
        ok = ok && write(pfd[1], p, sizeof p) == (ssize_t)sizeof p;
        close(pfd[1]);
        for (;;)
            pause(); /* until killed */
    }
    close(pfd[1]);
    struct peer peers[5];
    size_t got = 0;
    for (ssize_t n; got < sizeof peers; got += (size_t)n)
        if ((n = read(pfd[0], (char *)peers + got, sizeof peers - got)) <= 0)
            break;
    close(pfd[0]);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(got, sizeof peers);
    int left = -1;
    for (int i = 0; i < 5; i++) {
        int gone = 0;
        for (unsigned t = 0; t < 500 * test_time_scale() && !gone; t++) {
            gone = !alive(peers[i].pid);
            if (!gone)
                usleep(10000);
        }
        if (!gone) {
            kill(peers[i].pid, SIGKILL);
            left = i;
        }
        if (peers[i].dir[0]) { /* the scratch directories the killed child left */
            peers[i].pid = 0;
            peers[i].out_fd = 0;
            peer_stop(&peers[i]);
        }
    }
    if (left >= 0)
        fail_msg("peer %d outlived the test process that started it", left);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_die_with_the_test),
#define T(fn) cmocka_unit_test_setup_teardown(fn, loop_fx_setup, loop_fx_teardown)
        T(test_accepts_and_stays_silent),
        T(test_closes_after_client_hello),
        T(test_resets_mid_handshake),
        T(test_random_bytes_for_server_hello),
        T(test_slow_drip_hits_handshake_timeout),
        T(test_oversized_certificate_chain),
        T(test_tls10_only_peer),
        T(test_corrupted_record_after_handshake),
        T(test_truncated_without_close_notify),
        T(test_close_notify_mid_response),
        T(test_garbage_status_line),
        T(test_one_megabyte_header),
        T(test_peer_stops_reading),
#undef T
    };
    return cmocka_run_group_tests(tests, warm_up, NULL);
}
