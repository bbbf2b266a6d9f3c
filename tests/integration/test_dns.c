/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_dns.c - names, dual stack and retries against a real DNS server
 * (dnsmasq on a loopback port) and real TLS servers (nginx listening on
 * 127.0.0.1 and ::1, openssl s_server): Happy Eyeballs with a broken IPv6
 * address, family preference, NXDOMAIN / NODATA / REFUSED / timeout, the
 * cache and the hosts file, and the retry loop's countdown and backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"

static struct {
    struct peer dns, web;
    char ns[32];
} G;

struct fx {
    struct event_base *base;
    evtls_resolver *r;
    int fds;
};

static int group_setup(void **state)
{
    (void)state;
    const char *opts[] = {"--local=/test/", "--host-record=dual.test,127.0.0.1,::1",
                          "--host-record=v4.test,127.0.0.1", "--local-ttl=60", NULL};
    if (peer_dnsmasq(&G.dns, opts) != 0)
        return -1;
    snprintf(G.ns, sizeof G.ns, "127.0.0.1:%u", G.dns.port);
    return peer_nginx_ex(&G.web, 1, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&G.web);
    peer_stop(&G.dns);
    return 0;
}

static int setup(void **state)
{
    static struct fx f;
    f.fds = count_open_fds();
    f.base = event_base_new();
    f.r = evtls_resolver_new(f.base, G.ns);
    *state = &f;
    return f.base && f.r ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    evtls_resolver_unref(f->r);
    return finish_loop(f->base, f->fds);
}

/* The test CA, and "localhost" as the name checked (the test certificate
 * does not name *.test). */
static evtls_cfg *cfg_for_test(void)
{
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_server_name(cfg, "localhost"), 0);
    return cfg;
}

static int connect_name(struct fx *f, evtls_cfg *cfg, const char *host, uint16_t port,
                        struct connect_result *r, evtls_conn **out)
{
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    assert_non_null(c);
    assert_int_equal(evtls_conn_set_resolver(c, f->r), 0);
    int rc = connect_wait(f->base, c, host, port, r);
    if (out)
        *out = c;
    else
        evtls_conn_free(c);
    return rc;
}

static char logbuf[16384];
static void capture(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)level;
    (void)ms;
    (void)arg;
    size_t have = strlen(logbuf);
    snprintf(logbuf + have, sizeof logbuf - have, "%s\n", msg);
}

/* A TLS server on 127.0.0.1:port while SYNs to [::1]:port go unanswered
 * (a listener whose accept queue is full). */
struct half_broken {
    struct peer s;
    int fill[4], hole;
};

static void half_broken_start(struct half_broken *h)
{
    const char *args[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), NULL};
    assert_int_equal(peer_s_server(&h->s, args), 0);
    h->hole = listen_blackhole6(h->s.port, h->fill);
    assert_true(h->hole >= 0);
}

static void half_broken_stop(struct half_broken *h)
{
    for (int k = 0; k < 4; k++)
        close(h->fill[k]);
    close(h->hole);
    peer_stop(&h->s);
}

static void test_dual_stack_prefers_ipv6(void **state)
{
    struct fx *f = *state;
    evtls_cfg *cfg = cfg_for_test();
    struct connect_result r;
    evtls_conn *c;
    assert_int_equal(connect_name(f, cfg, "dual.test", G.web.port, &r, &c), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_int_equal(i->family, 6);
    assert_string_equal(i->peer_addr, "::1");
    assert_int_equal(i->attempts, 1);
    assert_int_equal(i->attempt[0].outcome, EVTLS_ATTEMPT_WON);
    assert_true(i->dns_us > 0);
    char buf[4096];
    size_t len;
    exchange(f->base, c, "GET / HTTP/1.0\r\n\r\n", buf, sizeof buf, &len);
    assert_non_null(strstr(buf, "hello from nginx"));
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
}

static void test_broken_ipv6_falls_back_fast(void **state)
{
    struct fx *f = *state;
    /* IPv4 answers at 127.0.0.1:port; SYNs to [::1]:port go unanswered. */
    struct half_broken hb;
    half_broken_start(&hb);
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_CONNECT, 10000), 0);
    struct connect_result r;
    evtls_conn *c;
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_int_equal(i->family, 4);
    assert_string_equal(i->peer_addr, "127.0.0.1");
    assert_int_equal(i->attempts, 2);
    assert_int_equal(i->n_attempt_info, 2);
    assert_string_equal(i->attempt[0].addr, "::1");
    assert_int_equal(i->attempt[0].outcome, EVTLS_ATTEMPT_LOST);
    assert_string_equal(i->attempt[1].addr, "127.0.0.1");
    assert_int_equal(i->attempt[1].outcome, EVTLS_ATTEMPT_WON);
    /* IPv4 started when the attempt delay (250 ms) was up, by the
     * library's own record: not sooner, and not at the 10 s connect
     * timeout, which is the only other timer that could have started it.
     * (A busy machine makes the delay's timer late, never early.) */
    assert_true(i->attempt[1].start_us >= 240000 && i->attempt[1].start_us < 10000000);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    half_broken_stop(&hb);
}

/* Happy Eyeballs remembers (RFC 8305 sections 4 and 5): with [::1]
 * swallowing SYNs, the first connection to dual.test wins on IPv4 after
 * the attempt delay; the next ones dial 127.0.0.1 first, alone, with a
 * delay learnt from the connect time; cleared, the race is back. */
static void test_history_dials_winner_first(void **state)
{
    struct fx *f = *state;
    struct half_broken hb;
    half_broken_start(&hb);
    evtls_cfg *cfg = cfg_for_test();
    struct connect_result r;
    evtls_conn *c;
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_int_equal(i->attempts, 2);
    assert_int_equal(i->order_reason, EVTLS_ORDER_RFC6724);
    assert_int_equal(i->attempt_delay_ms, 250);
    evtls_conn_free(c);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c), 0);
        i = evtls_conn_get_info(c);
        assert_int_equal(i->attempts, 1);
        assert_string_equal(i->peer_addr, "127.0.0.1");
        assert_string_equal(i->attempt[0].addr, "127.0.0.1");
        assert_int_equal(i->order_reason, EVTLS_ORDER_WINNER);
        /* Learnt: srtt + 4 rttvar of loopback connects, at the floor. */
        assert_true(i->attempt_delay_ms >= 100 && i->attempt_delay_ms <= 2000);
        evtls_conn_free(c);
    }
    evtls_resolver_stats st;
    evtls_resolver_get_stats(f->r, &st);
    assert_int_equal(st.history_entries, 1);
    evtls_resolver_clear_history(f->r);
    evtls_resolver_get_stats(f->r, &st);
    assert_int_equal(st.history_entries, 0);
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c), 0);
    i = evtls_conn_get_info(c);
    assert_int_equal(i->attempts, 2);
    assert_string_equal(i->attempt[0].addr, "::1");
    assert_int_equal(i->order_reason, EVTLS_ORDER_RFC6724);
    evtls_conn_free(c);
    /* Facts expire: with a 1 ms TTL, the winner is forgotten by the time
     * the next connection starts. */
    assert_int_equal(evtls_resolver_set_history(f->r, 8, 1), 0);
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, NULL), 0);
    usleep(5000);
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c), 0);
    i = evtls_conn_get_info(c);
    assert_int_equal(i->attempts, 2);
    assert_int_equal(i->order_reason, EVTLS_ORDER_RFC6724);
    evtls_conn_free(c);
    /* Off: no memory at all. */
    assert_int_equal(evtls_resolver_set_history(f->r, 0, 0), 0);
    assert_int_equal(evtls_resolver_set_history(f->r, 8, 0), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, NULL), 0);
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c), 0);
    assert_int_equal(evtls_conn_get_info(c)->attempts, 2);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    half_broken_stop(&hb);
}

/* A remembered winner that fails falls back to the other address at once
 * (not after the attempt delay, set to 2 s here), and is forgotten. */
static void test_history_winner_fails_falls_back_at_once(void **state)
{
    struct fx *f = *state;
    struct peer s4, s6;
    const char *args[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), NULL};
    assert_int_equal(peer_s_server(&s4, args), 0);
    evtls_cfg *v4only = cfg_for_test();
    assert_int_equal(evtls_cfg_set_family(v4only, EVTLS_FAMILY_IPV4), 0);
    struct connect_result r;
    assert_int_equal(connect_name(f, v4only, "dual.test", s4.port, &r, NULL), 0);
    /* Now only [::1] answers on that port. */
    uint16_t port = s4.port;
    peer_stop(&s4);
    assert_int_equal(peer_s_server_on(&s6, "[::1]", port, args), 0);
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_ATTEMPT_DELAY, 2000), 0);
    evtls_conn *c;
    assert_int_equal(connect_name(f, cfg, "dual.test", port, &r, &c), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_int_equal(i->order_reason, EVTLS_ORDER_WINNER);
    assert_int_equal(i->attempt_delay_ms, 2000); /* set by the user: kept */
    assert_int_equal(i->attempts, 2);
    assert_string_equal(i->attempt[0].addr, "127.0.0.1");
    assert_int_equal(i->attempt[0].outcome, EVTLS_ATTEMPT_FAILED);
    assert_int_equal(i->attempt[0].err, EVTLS_ERR_CONN_REFUSED);
    assert_string_equal(i->attempt[1].addr, "::1");
    assert_int_equal(i->attempt[1].outcome, EVTLS_ATTEMPT_WON);
    /* Started by the failure: before the 2 s delay could have started it. */
    assert_true(i->attempt[1].start_us < 2000000);
    evtls_conn_free(c);
    /* The failed winner is forgotten; ::1, which won, goes first. */
    assert_int_equal(connect_name(f, cfg, "dual.test", port, &r, &c), 0);
    i = evtls_conn_get_info(c);
    assert_int_equal(i->attempts, 1);
    assert_string_equal(i->peer_addr, "::1");
    assert_int_equal(i->order_reason, EVTLS_ORDER_WINNER);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    evtls_cfg_unref(v4only);
    peer_stop(&s6);
}

/* Race limit 0: a connection never opens a second socket. [::1] swallows
 * SYNs, so the first connection ends at its connect timeout (2.5 s) with
 * one attempt, having held its race; ::1, unanswered past the longest
 * attempt delay (2 s), is remembered as failed and dialled last after. */
static void test_race_limit_zero_never_races(void **state)
{
    struct fx *f = *state;
    struct half_broken hb;
    half_broken_start(&hb);
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_race_limit(cfg, 0), 0);
    assert_int_equal(evtls_cfg_set_race_limit(cfg, EVTLS_RACE_LIMIT_MAX + 1),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_CONNECT, 2500), 0);
    assert_int_equal(evtls_cfg_set_retry_off(cfg), 0);
    struct connect_result r;
    evtls_conn *c;
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c),
                     EVTLS_ERR_CONNECT_TIMEOUT);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_int_equal(i->attempts, 1);
    assert_true(i->races_held >= 1);
    evtls_conn_free(c);
    assert_int_equal(connect_name(f, cfg, "dual.test", hb.s.port, &r, &c), 0);
    i = evtls_conn_get_info(c);
    assert_int_equal(i->attempts, 1);
    assert_string_equal(i->peer_addr, "127.0.0.1");
    assert_int_equal(i->order_reason, EVTLS_ORDER_LOSER);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    half_broken_stop(&hb);
}

/* A pool's per-origin limit counts sockets: with room for one, a
 * connection to a name whose [::1] swallows SYNs does not race IPv4 (it
 * fails at its connect timeout, holding its race); with room for two it
 * races, and the racing socket shows in the stats while it lives. */
static void test_pool_limit_counts_racing_sockets(void **state)
{
    struct fx *f = *state;
    struct half_broken hb;
    half_broken_start(&hb);
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_CONNECT, 1500), 0);
    assert_int_equal(evtls_cfg_set_retry_off(cfg), 0);
    for (unsigned room = 1; room <= 2; room++) {
        evtls_pool_opts o;
        evtls_pool_opts_default(&o);
        o.max_per_origin = room;
        evtls_pool *p = evtls_pool_new(f->base, &o);
        assert_non_null(p);
        assert_int_equal(evtls_pool_set_resolver(p, f->r), 0);
        evtls_resolver_clear_history(f->r);
        struct got g = {0};
        int rc = pool_checkout_wait(f->base, p, cfg, "dual.test", hb.s.port, &g);
        evtls_pool_stats st;
        evtls_pool_get_stats(p, &st);
        assert_int_equal(st.racing, 0); /* given back when the race ended */
        if (room == 1) {
            assert_int_equal(rc, EVTLS_ERR_CONNECT_TIMEOUT);
            assert_non_null(g.info.error);
        } else {
            assert_int_equal(rc, 0);
            const evtls_conn_info *i = evtls_conn_get_info(g.c);
            assert_int_equal(i->attempts, 2);
            assert_int_equal(i->races_held, 0);
            assert_string_equal(i->peer_addr, "127.0.0.1");
            evtls_pool_release(p, g.c);
        }
        evtls_pool_free(p);
    }
    /* Freed while a connection races: the race ends with the pool. */
    evtls_pool_opts o;
    evtls_pool_opts_default(&o);
    o.max_per_origin = 2;
    evtls_pool *p = evtls_pool_new(f->base, &o);
    assert_int_equal(evtls_pool_set_resolver(p, f->r), 0);
    evtls_resolver_clear_history(f->r);
    struct got g = {0};
    assert_int_equal(evtls_pool_checkout(p, cfg, "dual.test", hb.s.port, got_checkout_cb, &g, NULL),
                     0);
    evtls_pool_stats st = {0};
    while (st.racing == 0 && !g.done) {
        event_base_loop(f->base, EVLOOP_ONCE);
        evtls_pool_get_stats(p, &st);
    }
    assert_int_equal(st.racing, 1);
    evtls_pool_free(p); /* the checkout gets POOL_FREED from the loop */
    run_until(f->base, &g.done, 5000);
    assert_int_equal(g.err, EVTLS_ERR_POOL_FREED);
    evtls_cfg_unref(cfg);
    half_broken_stop(&hb);
}

static void test_family_ipv4_preference(void **state)
{
    struct fx *f = *state;
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_family(cfg, EVTLS_FAMILY_IPV4), 0);
    evtls_resolver_stats before, after;
    evtls_resolver_get_stats(f->r, &before);
    struct connect_result r;
    evtls_conn *c;
    assert_int_equal(connect_name(f, cfg, "dual.test", G.web.port, &r, &c), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_int_equal(i->family, 4);
    assert_int_equal(i->attempts, 1);
    evtls_resolver_get_stats(f->r, &after);
    assert_int_equal(after.lookups - before.lookups, 1); /* A only */
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
}

static unsigned retries_seen;
static unsigned retry_waits[8];
static void on_retry(evtls_conn *c, unsigned attempt, int err, unsigned wait_ms, void *arg)
{
    (void)c;
    (void)err;
    (void)arg;
    if (retries_seen < 8)
        retry_waits[retries_seen] = wait_ms;
    retries_seen++;
    assert_int_equal(attempt, retries_seen);
}

static void test_nxdomain_fails_at_once(void **state)
{
    struct fx *f = *state;
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_retry_countdown(cfg, 1, 5), 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, f->r);
    retries_seen = 0;
    evtls_conn_set_retry_cb(c, on_retry, NULL);
    struct connect_result r;
    /* NXDOMAIN, not DNS_TIMEOUT: the answer ended it, not a timer. */
    assert_int_equal(connect_wait(f->base, c, "nope.test", 443, &r), EVTLS_ERR_DNS_NXDOMAIN);
    assert_int_equal(evtls_conn_get_info(c)->connect_attempt, 1);
    assert_int_equal(retries_seen, 0);
    evtls_resolver_stats st;
    evtls_resolver_get_stats(f->r, &st);
    assert_int_equal(st.queries, 2); /* one A, one AAAA: no retry storm */
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
}

static void test_nodata_and_refused(void **state)
{
    struct fx *f = *state;
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_family(cfg, EVTLS_FAMILY_IPV6), 0);
    struct connect_result r;
    assert_int_equal(connect_name(f, cfg, "v4.test", 443, &r, NULL), EVTLS_ERR_DNS_NODATA);
    evtls_cfg_unref(cfg);
    /* dnsmasq refuses names it has no server for. */
    cfg = cfg_for_test();
    assert_int_equal(connect_name(f, cfg, "example.org", 443, &r, NULL), EVTLS_ERR_DNS);
    evtls_cfg_unref(cfg);
}

static void test_silent_nameserver_times_out(void **state)
{
    struct fx *f = *state;
    uint16_t port;
    int u = udp_silent(&port);
    char ns[32];
    snprintf(ns, sizeof ns, "127.0.0.1:%u", port);
    evtls_resolver *silent = evtls_resolver_new(f->base, ns);
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_DNS, 600), 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, silent);
    struct connect_result r;
    assert_int_equal(connect_wait(f->base, c, "dual.test", 443, &r), EVTLS_ERR_DNS_TIMEOUT);
    assert_true(r.elapsed_ms >= 550); /* the DNS timer (600 ms) ended it */
    assert_int_equal(evtls_conn_get_state(c), EVTLS_STATE_FAILED);
    evtls_conn_free(c);
    /* The hosts file answers without any name server. */
    c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, silent);
    struct peer s;
    const char *args[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), NULL};
    assert_int_equal(peer_s_server(&s, args), 0);
    assert_int_equal(connect_wait(f->base, c, "localhost", s.port, &r), 0);
    evtls_conn_free(c);
    char path[] = "/tmp/evtls-hosts-XXXXXX";
    int hf = mkstemp(path);
    assert_true(hf >= 0);
    const char *line = "# test hosts\n127.0.0.1   myhost.test  alias.test\n";
    assert_int_equal(write(hf, line, strlen(line)), (ssize_t)strlen(line));
    close(hf);
    assert_int_equal(evtls_resolver_set_hosts_file(silent, path), 0);
    c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, silent);
    assert_int_equal(connect_wait(f->base, c, "ALIAS.test", s.port, &r), 0);
    assert_string_equal(evtls_conn_get_info(c)->peer_addr, "127.0.0.1");
    evtls_conn_free(c);
    unlink(path);
    assert_int_equal(evtls_resolver_set_hosts_file(silent, "/nonexistent/hosts"),
                     EVTLS_ERR_INVALID_ARG);
    evtls_resolver_stats st;
    evtls_resolver_get_stats(silent, &st);
    assert_int_equal(st.queries, 2); /* only the first connect asked DNS */
    assert_int_equal(st.hosts_hits, 4);
    peer_stop(&s);
    evtls_cfg_unref(cfg);
    evtls_resolver_unref(silent);
    close(u);
}

static void test_cache_serves_until_ttl(void **state)
{
    struct fx *f = *state;
    struct peer dns;
    const char *opts[] = {"--local=/test/", "--host-record=ttl.test,127.0.0.1", "--local-ttl=1",
                          NULL};
    assert_int_equal(peer_dnsmasq(&dns, opts), 0);
    char ns[32];
    snprintf(ns, sizeof ns, "127.0.0.1:%u", dns.port);
    evtls_resolver *r = evtls_resolver_new(f->base, ns);
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_family(cfg, EVTLS_FAMILY_IPV4), 0);
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_DNS, 500), 0);
    struct connect_result res;
    for (int round = 0; round < 3; round++) {
        evtls_conn *c = evtls_conn_new(f->base, cfg);
        evtls_conn_set_resolver(c, r);
        assert_int_equal(connect_wait(f->base, c, "ttl.test", G.web.port, &res), 0);
        evtls_conn_free(c);
        if (round == 1)
            peer_stop(&dns); /* the third round is served from the cache */
    }
    evtls_resolver_stats st;
    evtls_resolver_get_stats(r, &st);
    assert_int_equal(st.queries, 1);
    assert_int_equal(st.cache_hits, 2);
    run_for(f->base, 1100); /* the TTL runs out: the name server is asked again */
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, r);
    int rc = connect_wait(f->base, c, "ttl.test", G.web.port, &res);
    assert_int_equal(evtls_err_get_class(rc), EVTLS_CLASS_DNS);
    evtls_conn_free(c);
    evtls_resolver_get_stats(r, &st);
    assert_int_equal(st.queries, 2);
    evtls_cfg_unref(cfg);
    evtls_resolver_unref(r);
}

struct late {
    struct peer s;
    uint16_t port;
};
static void start_late(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct late *l = arg;
    const char *args[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), NULL};
    assert_int_equal(peer_s_server_at(&l->s, l->port, args), 0);
}

static void test_retry_countdown_reaches_late_server(void **state)
{
    struct fx *f = *state;
    struct late late = {.port = unused_port()};
    struct event *t = evtimer_new(f->base, start_late, &late);
    struct timeval three = {3, 0};
    evtimer_add(t, &three);
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_retry_countdown(cfg, 2, 5), 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, f->r);
    retries_seen = 0;
    evtls_conn_set_retry_cb(c, on_retry, NULL);
    logbuf[0] = '\0';
    evtls_log_level was = evtls_log_get_level();
    evtls_log_set_level(EVTLS_LOG_INFO); /* the countdown is logged at info */
    evtls_log_set_handler(capture, NULL);
    struct connect_result r;
    int rc = connect_wait(f->base, c, "v4.test", late.port, &r);
    evtls_log_set_handler(NULL, NULL);
    evtls_log_set_level(was);
    assert_int_equal(rc, 0);
    /* t=0 refused, t=2 refused, server up at t=3, t=4 connected. */
    assert_int_equal(evtls_conn_get_info(c)->connect_attempt, 3);
    assert_int_equal(retries_seen, 2);
    assert_int_equal(retry_waits[0], 2000);
    /* The countdown's own timers: 2 s, then 2 s again; the third attempt
     * (its count above) is the one that reached the server. */
    assert_true(r.elapsed_ms >= 3900);
    assert_non_null(strstr(logbuf, ": 2...\n"));
    assert_non_null(strstr(logbuf, ": 1...\n"));
    assert_non_null(strstr(logbuf, ": 0...\n"));
    assert_non_null(strstr(logbuf, "connect attempt 3 to v4.test"));
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    event_free(t);
    peer_stop(&late.s);
}

static void test_retry_backoff_bounded(void **state)
{
    struct fx *f = *state;
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_retry_backoff(cfg, 50, 120, 4), 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    retries_seen = 0;
    evtls_conn_set_retry_cb(c, on_retry, NULL);
    struct connect_result r;
    assert_int_equal(connect_wait(f->base, c, "127.0.0.1", unused_port(), &r),
                     EVTLS_ERR_CONN_REFUSED);
    assert_int_equal(evtls_conn_get_info(c)->connect_attempt, 4);
    assert_int_equal(retries_seen, 3);
    assert_true(retry_waits[0] <= 50 && retry_waits[1] <= 100 && retry_waits[2] <= 120);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
}

static void test_retry_stops_at_deadline_and_on_certificates(void **state)
{
    struct fx *f = *state;
    /* Unlimited countdown retries, bounded by a 1.5 s deadline. */
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_retry_countdown(cfg, 1, 0), 0);
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_TOTAL, 1500), 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    struct connect_result r;
    assert_int_equal(connect_wait(f->base, c, "127.0.0.1", unused_port(), &r),
                     EVTLS_ERR_CONN_REFUSED);
    /* Refused at t=0 and at t=1 s; the next try (t=2 s) would pass the
     * deadline, so the refusal ends it: CONN_REFUSED, not the deadline's
     * TIMEOUT, after exactly two attempts. */
    assert_int_equal(evtls_conn_get_info(c)->connect_attempt, 2);
    assert_true(r.elapsed_ms >= 900);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    /* A certificate failure is final at once. */
    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_file(cfg, pki("other-ca.pem")), 0);
    assert_int_equal(evtls_cfg_set_server_name(cfg, "localhost"), 0);
    assert_int_equal(evtls_cfg_set_retry_countdown(cfg, 1, 5), 0);
    assert_int_equal(connect_name(f, cfg, "dual.test", G.web.port, &r, &c),
                     EVTLS_ERR_CERT_UNTRUSTED);
    assert_int_equal(evtls_conn_get_info(c)->connect_attempt, 1);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
}

/* A name server on the test's loop that answers A at once and AAAA after
 * aaaa_delay_ms (or never, with -1): no installable server can be told to
 * delay one family, and the Resolution Delay is about exactly that. */
struct slowdns {
    struct event_base *base;
    int fd;
    int aaaa_delay_ms;
    struct event *rd, *later;
    uint8_t pending[512];
    size_t pending_len;
    struct sockaddr_storage from;
    socklen_t fromlen;
    int a_sent, aaaa_held; /* aaaa_delay_ms 0: AAAA goes right after A */
};

static size_t dns_answer(const uint8_t *q, size_t qlen, uint8_t *out)
{
    size_t off = 12;
    while (off < qlen && q[off])
        off += (size_t)q[off] + 1;
    off += 1;
    uint16_t type = (uint16_t)(q[off] << 8 | q[off + 1]);
    off += 4;
    memcpy(out, q, off);
    out[2] = 0x81; /* response, recursion desired+available, NOERROR */
    out[3] = 0x80;
    out[7] = 1; /* one answer */
    uint8_t rr[12] = {0xc0, 0x0c, 0, (uint8_t)type, 0, 1, 0, 0, 0, 60, 0, 0};
    rr[11] = type == 28 ? 16 : 4;
    memcpy(out + off, rr, sizeof rr);
    off += sizeof rr;
    if (type == 28) {
        memset(out + off, 0, 16);
        out[off + 15] = 1; /* ::1 */
        off += 16;
    } else {
        const uint8_t lo[4] = {127, 0, 0, 1};
        memcpy(out + off, lo, 4);
        off += 4;
    }
    return off;
}

static void slowdns_send_pending(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct slowdns *d = arg;
    uint8_t out[600];
    size_t n = dns_answer(d->pending, d->pending_len, out);
    sendto(d->fd, out, n, 0, (struct sockaddr *)&d->from, d->fromlen);
}

static void slowdns_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct slowdns *d = arg;
    uint8_t q[512], out[600];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
    if (n < 17)
        return;
    size_t off = 12;
    while (off < (size_t)n && q[off])
        off += (size_t)q[off] + 1;
    int aaaa = off + 2 < (size_t)n && q[off + 2] == 28;
    if (!aaaa) {
        size_t len = dns_answer(q, (size_t)n, out);
        sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
        d->a_sent = 1;
        if (d->aaaa_held) /* back to back: the resolver reads both at once */
            slowdns_send_pending(fd, 0, d);
        d->aaaa_held = 0;
        return;
    }
    if (d->aaaa_delay_ms < 0)
        return;
    memcpy(d->pending, q, (size_t)n);
    d->pending_len = (size_t)n;
    d->from = from;
    d->fromlen = fl;
    if (d->aaaa_delay_ms == 0) {
        if (d->a_sent)
            slowdns_send_pending(fd, 0, d);
        else
            d->aaaa_held = 1;
        return;
    }
    struct timeval tv = {0, d->aaaa_delay_ms * 1000};
    evtimer_add(d->later, &tv);
}

static evtls_resolver *slowdns_start(struct slowdns *d, struct event_base *base, int delay_ms)
{
    uint16_t port;
    d->base = base;
    d->aaaa_delay_ms = delay_ms;
    d->a_sent = d->aaaa_held = 0;
    d->fd = udp_silent(&port);
    d->rd = event_new(base, d->fd, EV_READ | EV_PERSIST, slowdns_read, d);
    d->later = evtimer_new(base, slowdns_send_pending, d);
    event_add(d->rd, NULL);
    char ns[32];
    snprintf(ns, sizeof ns, "127.0.0.1:%u", port);
    return evtls_resolver_new(base, ns);
}

static void slowdns_stop(struct slowdns *d)
{
    event_free(d->rd);
    event_free(d->later);
    close(d->fd);
}

static void test_resolution_delay(void **state)
{
    struct fx *f = *state;
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_DNS, 5000), 0);
    /* AAAA after A, within the 50 ms Resolution Delay (right after it, in
     * the same read of the resolver's socket: no timer can come between,
     * however busy the machine), so IPv6 is still tried first and wins. */
    struct slowdns d;
    evtls_resolver *r = slowdns_start(&d, f->base, 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, r);
    struct connect_result res;
    assert_int_equal(connect_wait(f->base, c, "slow.test", G.web.port, &res), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_int_equal(i->family, 6);
    /* One attempt, to IPv6: the AAAA answer came inside the delay (had
     * the delay run out, IPv4 would have been dialled first). */
    assert_int_equal(i->attempts, 1);
    evtls_conn_free(c);
    evtls_resolver_unref(r);
    slowdns_stop(&d);
    /* AAAA never answered: IPv4 starts when the 50 ms are up, not at the
     * 5 s DNS timeout (the only other timer that could start it). */
    r = slowdns_start(&d, f->base, -1);
    c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_resolver(c, r);
    assert_int_equal(connect_wait(f->base, c, "slow.test", G.web.port, &res), 0);
    i = evtls_conn_get_info(c);
    assert_int_equal(i->family, 4);
    assert_true(i->dns_us >= 45000 && i->dns_us < 5000000);
    evtls_conn_free(c);
    evtls_resolver_unref(r);
    slowdns_stop(&d);
    evtls_cfg_unref(cfg);
}

static int cancel_cb_called;
static void never(evtls_conn *c, int err, void *arg)
{
    (void)c;
    (void)err;
    (void)arg;
    cancel_cb_called = 1;
}

static void test_cancel_while_waiting(void **state)
{
    struct fx *f = *state;
    evtls_cfg *cfg = cfg_for_test();
    assert_int_equal(evtls_cfg_set_retry_countdown(cfg, 10, 0), 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    cancel_cb_called = 0;
    assert_int_equal(evtls_conn_connect(c, "127.0.0.1", unused_port(), never, NULL), 0);
    run_for(f->base, 200);
    assert_int_equal(evtls_conn_get_state(c), EVTLS_STATE_WAITING);
    evtls_conn_free(c);
    run_for(f->base, 100);
    assert_int_equal(cancel_cb_called, 0);
    evtls_cfg_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dual_stack_prefers_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_ipv6_falls_back_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_dials_winner_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_winner_fails_falls_back_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_race_limit_zero_never_races, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_limit_counts_racing_sockets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_family_ipv4_preference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nxdomain_fails_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodata_and_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_nameserver_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_serves_until_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_countdown_reaches_late_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_backoff_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_stops_at_deadline_and_on_certificates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_while_waiting, setup, teardown),
    };
    return cmocka_run_group_tests_name("dns", tests, group_setup, group_teardown);
}
