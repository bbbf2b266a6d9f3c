/* SPDX-License-Identifier: GPL-2.0-or-later */
/* harness.h - drives evtls connections on a test's event_base. */
#ifndef EVTLS_TEST_HARNESS_H
#define EVTLS_TEST_HARNESS_H

#include <event2/event.h>
#include <evtls/evtls.h>
#include <stdint.h>

/* A config trusting the test CA, with the given timeouts in ms (0 keeps
 * the default). */
evtls_cfg *test_cfg(unsigned connect_ms, unsigned handshake_ms);

struct connect_result {
    int done;
    int err;
    uint64_t elapsed_ms;
    evtls_last_error last;
};

/* Connects c to host:port and runs base until the callback (or a 30 s
 * safety limit). Returns the callback's error, or -9999 if none came.
 * r->elapsed_ms is for lower bounds (a timer never fires early) and
 * messages: an upper bound on it would fail on a slow machine. */
int connect_wait(struct event_base *base, evtls_conn *c, const char *host, uint16_t port,
                 struct connect_result *r);

/* One exchange on a connected c: sends req, collects the answer until EOF
 * or error, max bytes into buf. Returns the terminal code (EVTLS_EOF or an
 * error) and sets *len. */
int exchange(struct event_base *base, evtls_conn *c, const char *req, char *buf, size_t max,
             size_t *len);

/* Writes chunk-sized pieces to a connected c, running base between them
 * so that the socket takes what the kernel will, until a write fails (at
 * most max_writes). Returns the failing write's code (0 if none failed)
 * and sets *accepted to the bytes the writes took. */
int write_until_refused(struct event_base *base, evtls_conn *c, size_t chunk, int max_writes,
                        size_t *accepted);

/* Ends a test's loop: runs what is still active, frees base, and checks
 * that the process has exactly fds_before open fds again. Returns 0, or -1
 * (with a message) when something was left behind. */
int finish_loop(struct event_base *base, int fds_before);

/* The usual test fixture: a fresh event_base, and the fd count to find
 * leaks with at the end. loop_fx_setup/teardown are cmocka fixtures. */
struct loop_fx {
    struct event_base *base;
    int fds;
};
int loop_fx_setup(void **state);
int loop_fx_teardown(void **state);

/* One pool checkout, run to its callback. */
struct got {
    int done, err;
    evtls_conn *c;
    evtls_checkout_info info;
};

/* The checkout callback that fills a struct got (arg). */
void got_checkout_cb(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *i,
                     void *arg);

/* Checks out a connection to host:port from p and runs base until the
 * callback (10 s at most). Returns its error, -9999 if none came, or the
 * checkout call's own error. */
int pool_checkout_wait(struct event_base *base, evtls_pool *p, evtls_cfg *cfg, const char *host,
                       uint16_t port, struct got *g);

/* How many times slower than usual the programs under test run: the
 * environment's EVTLS_TEST_TIME_SCALE (scripts/memcheck.sh sets it for
 * valgrind), else 1. Tests that give a program a fixed time to get going
 * multiply it by this. */
unsigned test_time_scale(void);

/* Milliseconds of the monotonic clock. */
uint64_t now_ms(void);

/* Runs base until *flag is set or ms pass. ms is a safety limit against a
 * hang, multiplied by test_time_scale(); tests assert on what the library
 * reports, never on how soon it came. */
void run_until(struct event_base *base, const int *flag, unsigned ms);

/* Runs base for ms. */
void run_for(struct event_base *base, unsigned ms);

/* Installs a log handler that counts the library's "internal error" lines
 * (a state move its table does not have: a debug build aborts there, a
 * release build logs it and fails or refuses the move) and writes the
 * lines at or above print_level to stderr (EVTLS_LOG_NONE: none). The
 * level logged becomes EVTLS_LOG_ERROR unless print_level is more verbose. */
void internal_errors_watch(evtls_log_level print_level);

/* The internal errors counted since internal_errors_watch. */
unsigned long internal_errors(void);

#endif
