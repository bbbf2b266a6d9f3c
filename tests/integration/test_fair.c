/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_fair.c - a library that shares the application's loop never lets
 * one connection hold it. Four connections read a large body each, each
 * from an nginx of its own (one nginx worker may serve them one after the
 * other: it writes to a connection for as long as its socket takes data),
 * 100 MB (less under valgrind, by EVTLS_TEST_TIME_SCALE), while the
 * application keeps a timer that fires once per loop pass (a zero timeout,
 * re-armed in its callback), and a 10 ms timer:
 *
 *   - between two runs of the per-pass timer, the connections together read
 *     at most two bursts each (16 records of 16 KiB: one in the pass before
 *     the timer's callback, one after it): no pass runs unbounded work, so
 *     the application's timers and sockets get their turn every pass;
 *   - the 10 ms timer fires, again and again, while the bodies stream;
 *   - when the first connection has its whole body, every other one has at
 *     least a third of the same: they share the loop.
 *
 * The bounds are in bytes and passes, never in wall-clock time. */
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

#define CONNS       4
#define BURST_BYTES (16u * 16384u) /* READS_PER_EVENT records of READ_CHUNK */

static struct peer web[CONNS];
static char body_path[256];
static uint64_t body_size;

static int group_setup(void **state)
{
    (void)state;
    body_size = 100ull * 1000 * 1000 / test_time_scale();
    snprintf(body_path, sizeof body_path, "/tmp/evtls-fair-%d.bin", (int)getpid());
    FILE *f = fopen(body_path, "w");
    if (f == NULL || ftruncate(fileno(f), (off_t)body_size) != 0)
        return -1;
    fclose(f);
    char loc[512];
    snprintf(loc, sizeof loc, "location = /big { alias %s; }", body_path);
    for (int i = 0; i < CONNS; i++)
        if (peer_nginx_ex(&web[i], PEER_NGINX_SNDBUF_256K, loc) != 0)
            return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < CONNS; i++)
        peer_stop(&web[i]);
    unlink(body_path);
    return 0;
}

struct reader {
    uint64_t bytes;
    int ended;
};

static struct {
    struct reader r[CONNS];
    uint64_t total_at_last_pass, max_between_passes, passes;
    unsigned ticks_10ms;
    int first_done;
    uint64_t others_at_first_done[CONNS];
    struct event *pass_ev, *tick_ev;
} F;

static void on_read(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    (void)c;
    (void)data;
    struct reader *r = arg;
    if (n > 0) {
        r->bytes += (uint64_t)n;
        return;
    }
    r->ended = 1;
    if (!F.first_done) {
        F.first_done = 1;
        for (int i = 0; i < CONNS; i++)
            F.others_at_first_done[i] = F.r[i].bytes;
    }
}

static uint64_t total_read(void)
{
    uint64_t t = 0;
    for (int i = 0; i < CONNS; i++)
        t += F.r[i].bytes;
    return t;
}

/* Fires once per loop pass: a zero timeout, re-armed here. */
static void on_pass(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    uint64_t now = total_read();
    if (now - F.total_at_last_pass > F.max_between_passes)
        F.max_between_passes = now - F.total_at_last_pass;
    F.total_at_last_pass = now;
    F.passes++;
    static const struct timeval zero = {0, 0};
    evtimer_add(F.pass_ev, &zero);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    F.ticks_10ms++;
}

static int all_ended(void)
{
    for (int i = 0; i < CONNS; i++)
        if (!F.r[i].ended)
            return 0;
    return 1;
}

static void test_large_bodies_share_the_loop(void **state)
{
    struct loop_fx *f = *state;
    memset(&F, 0, sizeof F);
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_conn *c[CONNS];
    for (int i = 0; i < CONNS; i++) {
        c[i] = evtls_conn_new(f->base, cfg);
        struct connect_result r;
        assert_int_equal(connect_wait(f->base, c[i], "localhost", web[i].port, &r), 0);
    }
    static const char req[] = "GET /big HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < CONNS; i++) {
        assert_int_equal(evtls_conn_write(c[i], req, sizeof req - 1), 0);
        assert_int_equal(evtls_conn_read_start(c[i], on_read, &F.r[i]), 0);
    }
    F.pass_ev = evtimer_new(f->base, on_pass, NULL);
    F.tick_ev = event_new(f->base, -1, EV_PERSIST, on_tick, NULL);
    static const struct timeval zero = {0, 0}, ten_ms = {0, 10000};
    evtimer_add(F.pass_ev, &zero);
    evtimer_add(F.tick_ev, &ten_ms);
    uint64_t t0 = now_ms();
    while (!all_ended() && now_ms() - t0 < 300000ull * test_time_scale())
        event_base_loop(f->base, EVLOOP_ONCE);
    event_free(F.pass_ev);
    event_free(F.tick_ev);
    assert_true(all_ended());
    for (int i = 0; i < CONNS; i++) {
        assert_true(F.r[i].bytes > body_size); /* the body and its headers */
        evtls_conn_free(c[i]);
    }
    printf("fair: %d x %llu bytes in %llu passes; at most %llu bytes between two passes "
           "(bound %u); the 10 ms timer fired %u times\n",
           CONNS, (unsigned long long)body_size, (unsigned long long)F.passes,
           (unsigned long long)F.max_between_passes, 2 * CONNS * BURST_BYTES, F.ticks_10ms);
    assert_true(F.max_between_passes <= 2 * CONNS * BURST_BYTES);
    assert_true(F.passes >= total_read() / (2 * CONNS * BURST_BYTES));
    assert_true(F.ticks_10ms >= 1);
    uint64_t lead = 0;
    for (int i = 0; i < CONNS; i++)
        if (F.others_at_first_done[i] > lead)
            lead = F.others_at_first_done[i];
    for (int i = 0; i < CONNS; i++) {
        if (F.others_at_first_done[i] * 3 < lead)
            fail_msg("connection %d had %llu bytes when another had all %llu", i,
                     (unsigned long long)F.others_at_first_done[i], (unsigned long long)lead);
    }
    evtls_cfg_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_large_bodies_share_the_loop, loop_fx_setup,
                                        loop_fx_teardown),
    };
    return cmocka_run_group_tests_name("fair", tests, group_setup, group_teardown);
}
