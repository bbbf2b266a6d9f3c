/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_unit.c - pure modules: error codes, address parsing, logging. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <evtls/evtls.h>
#include "evtls_addr.h"
#include "evtls_cfg_int.h"
#include "evtls_base64.h"
#include "evtls_history.h"
#include "evtls_pin.h"
#include "evtls_proxy.h"
#include "evtls_origin.h"
#include "evtls_retry.h"
#include "evtls_session_int.h"

static const int all_codes[] = {
    EVTLS_OK,
    EVTLS_ERR_INVALID_ARG,
    EVTLS_ERR_STATE,
    EVTLS_ERR_NOMEM,
    EVTLS_ERR_BAD_CONFIG,
    EVTLS_ERR_INTERNAL,
    EVTLS_ERR_CANCELLED,
    EVTLS_ERR_WOULDBLOCK,
    EVTLS_ERR_DNS,
    EVTLS_ERR_DNS_NXDOMAIN,
    EVTLS_ERR_DNS_SERVFAIL,
    EVTLS_ERR_DNS_NODATA,
    EVTLS_ERR_DNS_TIMEOUT,
    EVTLS_ERR_CONN_REFUSED,
    EVTLS_ERR_HOST_UNREACH,
    EVTLS_ERR_NET_UNREACH,
    EVTLS_ERR_CONNECT_TIMEOUT,
    EVTLS_ERR_SOCKET,
    EVTLS_ERR_HANDSHAKE_TIMEOUT,
    EVTLS_ERR_CERT_UNTRUSTED,
    EVTLS_ERR_CERT_EXPIRED,
    EVTLS_ERR_CERT_NOT_YET_VALID,
    EVTLS_ERR_CERT_HOSTNAME,
    EVTLS_ERR_CERT_INVALID,
    EVTLS_ERR_PEER_ALERT,
    EVTLS_ERR_PROTOCOL_VERSION,
    EVTLS_ERR_HANDSHAKE_FAILED,
    EVTLS_ERR_PROTOCOL,
    EVTLS_ERR_TLS,
    EVTLS_ERR_PEER_CLOSED,
    EVTLS_ERR_PEER_RESET,
    EVTLS_ERR_TIMEOUT,
    EVTLS_EOF,
    EVTLS_ERR_POOL_WAIT_TIMEOUT,
    EVTLS_ERR_POOL_CLOSED,
    EVTLS_ERR_HTTP_MALFORMED,
    EVTLS_ERR_HTTP_HEADERS_TOO_LARGE,
    EVTLS_ERR_HTTP_BODY_TOO_LARGE,
    EVTLS_ERR_HTTP_TRUNCATED,
    EVTLS_ERR_HTTP_TTFB_TIMEOUT,
    EVTLS_ERR_HTTP_TIMEOUT,
    EVTLS_ERR_BAD_URL,
    EVTLS_ERR_HTTP_ALPN,
    EVTLS_ERR_PSK,
    EVTLS_ERR_PIN_MISMATCH,
    EVTLS_ERR_PROXY_CONNECT,
    EVTLS_ERR_PROXY_REFUSED,
    EVTLS_ERR_INTERFACE,
    EVTLS_ERR_CERT_WEAK_KEY,
    EVTLS_ERR_CERT_WEAK_SIGNATURE,
    EVTLS_ERR_CERT_REVOKED,
    EVTLS_ERR_TLS_RENEGOTIATION,
    EVTLS_ERR_POOL_FREED,
};

static void test_every_code_is_described(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_codes / sizeof all_codes[0]; i++) {
        int c = all_codes[i];
        assert_string_not_equal(evtls_strerror(c), "unknown error");
        assert_string_not_equal(evtls_err_name(c), "UNKNOWN");
        if (c != EVTLS_OK)
            assert_int_not_equal(evtls_err_get_class(c), EVTLS_CLASS_NONE);
        /* names are unique */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(evtls_err_name(c), evtls_err_name(all_codes[j]));
    }
    assert_string_equal(evtls_strerror(12345), "unknown error");
    /* Every code's class indexes an array of EVTLS_CLASS_COUNT (the pool's
     * failed[] was one short of EVTLS_CLASS_HTTP). */
    evtls_pool_stats st;
    assert_int_equal(sizeof st.failed / sizeof st.failed[0], EVTLS_CLASS_COUNT);
    for (int c = -200; c <= 0; c++) {
        if (strcmp(evtls_err_name(c), "UNKNOWN") == 0)
            continue;
        assert_true((int)evtls_err_get_class(c) < EVTLS_CLASS_COUNT);
        assert_string_not_equal(evtls_err_class_name(evtls_err_get_class(c)), "unknown");
    }
    assert_string_equal(evtls_err_name(EVTLS_ERR_CERT_EXPIRED), "CERT_EXPIRED");
    assert_string_equal(evtls_err_class_name(evtls_err_get_class(EVTLS_ERR_CERT_EXPIRED)), "cert");
}

/* The version and the build's features, as a program asks for them; a
 * program built against an older, smaller struct gets only its fields. */
static void test_version_and_build_info(void **state)
{
    (void)state;
    assert_string_equal(evtls_version(), EVTLS_VERSION_STRING);
    evtls_build_info bi = EVTLS_BUILD_INFO_INIT;
    assert_int_equal(evtls_get_build_info(&bi), 0);
    assert_string_equal(bi.version, EVTLS_VERSION_STRING);
    assert_non_null(bi.wolfssl_version);
    assert_true(strncmp(bi.wolfssl_version, "5.", 2) == 0);
    assert_int_equal(bi.crl, 1);           /* both builds have CRLs and stapling */
    assert_int_equal(bi.ocsp_stapling, 1);
    assert_int_equal(bi.early_data, 0);    /* neither has early data yet */
    assert_int_equal(bi.max_certificate_msg, bi.wolfssl_tuned ? 65536 : 18462);
    /* An older program's struct: size and version only. Nothing past it
     * is written. */
    union {
        evtls_build_info whole;
        unsigned char bytes[sizeof(evtls_build_info)];
    } u;
    memset(&u, 0x5a, sizeof u);
    size_t old_size = offsetof(evtls_build_info, wolfssl_version);
    u.whole.size = old_size;
    assert_int_equal(evtls_get_build_info(&u.whole), 0);
    assert_string_equal(u.whole.version, EVTLS_VERSION_STRING);
    for (size_t i = old_size; i < sizeof u.bytes; i++)
        assert_int_equal(u.bytes[i], 0x5a);
    evtls_build_info tiny = {.size = 1};
    assert_int_equal(evtls_get_build_info(&tiny), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_get_build_info(NULL), EVTLS_ERR_INVALID_ARG);
}

static void test_retry_classification(void **state)
{
    (void)state;
    assert_true(evtls_err_is_retryable(EVTLS_ERR_DNS_TIMEOUT));
    assert_true(evtls_err_is_retryable(EVTLS_ERR_CONN_REFUSED));
    assert_true(evtls_err_is_retryable(EVTLS_ERR_CONNECT_TIMEOUT));
    assert_true(evtls_err_is_retryable(EVTLS_ERR_PEER_CLOSED));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_CERT_UNTRUSTED));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_CERT_HOSTNAME));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_BAD_CONFIG));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_PROTOCOL_VERSION));
    assert_false(evtls_err_is_retryable(EVTLS_ERR_DNS_NXDOMAIN));
}

static void test_format(void **state)
{
    (void)state;
    evtls_last_error e = {.code = EVTLS_ERR_PEER_ALERT, .alert = 116, .sys_errno = 0};
    strcpy(e.detail, "during the TLS handshake");
    char buf[256];
    evtls_last_error_format(&e, buf, sizeof buf);
    assert_non_null(strstr(buf, "PEER_ALERT"));
    assert_non_null(strstr(buf, "certificate_required"));
    assert_non_null(strstr(buf, "during the TLS handshake"));
    evtls_last_error_format(&e, buf, 8); /* truncates, stays terminated */
    assert_int_equal(strlen(buf), 7);
    assert_string_equal(evtls_alert_name(70), "protocol_version");
    assert_string_equal(evtls_alert_name(999), "unknown");
}

static void test_addr_parse(void **state)
{
    (void)state;
    evtls__addr a;
    char buf[64];
    assert_int_equal(evtls__addr_parse_numeric("127.0.0.1", 443, &a), 1);
    assert_int_equal(evtls__addr_family(&a), 4);
    assert_string_equal(evtls__addr_str(&a, buf, sizeof buf), "127.0.0.1");
    assert_int_equal(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 443);
    assert_int_equal(evtls__addr_parse_numeric("::1", 8443, &a), 1);
    assert_int_equal(evtls__addr_family(&a), 6);
    assert_int_equal(evtls__addr_parse_numeric("[2001:db8::1]", 1, &a), 1);
    assert_string_equal(evtls__addr_str(&a, buf, sizeof buf), "2001:db8::1");
    assert_int_equal(evtls__addr_parse_numeric("example.com", 1, &a), 0);
    assert_int_equal(evtls__addr_parse_numeric("1.2.3", 1, &a), 0);
    assert_int_equal(evtls__addr_parse_numeric("[1.2.3.4]", 1, &a), -1);
    assert_int_equal(evtls__addr_parse_numeric("[nope]", 1, &a), -1);
    assert_int_equal(evtls__host_strip("[::1]", buf, sizeof buf), 0);
    assert_string_equal(buf, "::1");
    assert_int_equal(evtls__host_strip("localhost", buf, 4), -1);
}

struct captured {
    int n;
    evtls_log_level last;
    char msg[128];
};

static void capture(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)ms;
    struct captured *c = arg;
    c->n++;
    c->last = level;
    strncpy(c->msg, msg, sizeof c->msg - 1);
}

static void test_logging(void **state)
{
    (void)state;
    evtls_log_level l;
    assert_int_equal(evtls_log_level_parse("debug", &l), 0);
    assert_int_equal(l, EVTLS_LOG_DEBUG);
    assert_int_equal(evtls_log_level_parse("loud", &l), EVTLS_ERR_INVALID_ARG);
    struct captured c = {0};
    evtls_log_set_handler(capture, &c);
    assert_int_equal(evtls_log_set_level((evtls_log_level)99), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_log_set_level(EVTLS_LOG_WARN), 0);
    evtls_log(EVTLS_LOG_INFO, "hidden %d", 1);
    assert_int_equal(c.n, 0);
    evtls_log(EVTLS_LOG_ERROR, "shown %d", 2);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.last, EVTLS_LOG_ERROR);
    assert_string_equal(c.msg, "shown 2");
    evtls_log_set_handler(NULL, NULL);
}

/* A fake session: one byte naming it. */
static void put_one(evtls_session_cache *sc, const char *key, uint8_t tag, int single)
{
    uint8_t *der = malloc(1);
    assert_non_null(der);
    der[0] = tag;
    evtls__session_put(sc, key, der, 1, single);
}

/* Returns the tag of the session the cache offers next, or -1. */
static int take_one(evtls_session_cache *sc, const char *key)
{
    uint8_t *der = NULL;
    size_t len = 0;
    if (!evtls__session_get(sc, key, &der, &len))
        return -1;
    assert_int_equal(len, 1);
    int tag = der[0];
    free(der);
    return tag;
}

static void test_session_cache_ring(void **state)
{
    (void)state;
    evtls_session_cache *sc = evtls_session_cache_new(0);
    evtls_session_stats st;
    /* The default keeps the newest 4 tickets, newest offered first. */
    for (int i = 1; i <= 10; i++)
        put_one(sc, "a", (uint8_t)i, 1);
    evtls_session_cache_get_stats(sc, &st);
    assert_int_equal(st.sessions, 4);
    assert_int_equal(st.stored, 10);
    assert_int_equal(take_one(sc, "a"), 10);
    assert_int_equal(take_one(sc, "a"), 9);
    /* A larger ring keeps what it held, in order, and then fills up. */
    assert_int_equal(evtls_session_cache_set_capacity(sc, 1000), 0);
    for (int i = 11; i <= 1010; i++)
        put_one(sc, "a", (uint8_t)i, 1);
    evtls_session_cache_get_stats(sc, &st);
    assert_int_equal(st.sessions, 1000);
    /* Shrinking keeps the newest. */
    assert_int_equal(evtls_session_cache_set_capacity(sc, 3), 0);
    evtls_session_cache_get_stats(sc, &st);
    assert_int_equal(st.sessions, 3);
    assert_int_equal(take_one(sc, "a"), 1010 & 0xff);
    assert_int_equal(take_one(sc, "a"), 1009 & 0xff);
    assert_int_equal(take_one(sc, "a"), 1008 & 0xff);
    assert_int_equal(take_one(sc, "a"), -1);
    /* A reusable session is copied, not consumed, and a newer ticket goes first. */
    put_one(sc, "b", 50, 0);
    put_one(sc, "b", 51, 1);
    put_one(sc, "b", 52, 0); /* replaces 50 */
    assert_int_equal(take_one(sc, "b"), 52);
    assert_int_equal(take_one(sc, "b"), 52);
    put_one(sc, "b", 53, 1);
    assert_int_equal(take_one(sc, "b"), 53);
    assert_int_equal(take_one(sc, "b"), 52);
    evtls_session_cache_get_stats(sc, &st);
    assert_int_equal(st.sessions, 2); /* 51 and 52 */
    /* Save and load keep the order (oldest written first). */
    char path[] = "/tmp/evtls-sess-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(evtls_session_cache_save(sc, path), 0);
    evtls_session_cache *sc2 = evtls_session_cache_new(0);
    assert_int_equal(evtls_session_cache_load(sc2, path), 2);
    assert_int_equal(take_one(sc2, "b"), 52);
    assert_int_equal(take_one(sc2, "b"), 52);
    /* A session file others may write, or someone else's, is refused and
     * loads nothing. */
    evtls_session_cache_clear(sc2);
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(evtls_session_cache_load(sc2, path), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(chmod(path, 0602), 0);
    assert_int_equal(evtls_session_cache_load(sc2, path), EVTLS_ERR_INVALID_ARG);
    if (geteuid() == 0) {
        assert_int_equal(chmod(path, 0600), 0);
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(evtls_session_cache_load(sc2, path), EVTLS_ERR_INVALID_ARG);
        assert_int_equal(chown(path, 0, 0), 0);
    }
    evtls_session_cache_get_stats(sc2, &st);
    assert_int_equal(st.sessions, 0);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(evtls_session_cache_load(sc2, path), 2);
    unlink(path);
    assert_int_equal(evtls_session_cache_set_capacity(sc, 0), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_session_cache_set_capacity(sc, 65537), EVTLS_ERR_INVALID_ARG);
    evtls_session_cache_unref(sc2);
    evtls_session_cache_unref(sc);
}

static void test_source_address(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_add_source_address(cfg, "localhost"), EVTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(evtls_cfg_get_last_error(cfg)->detail, "not an IPv4 or IPv6"));
    assert_null(evtls__cfg_next_source(cfg, 4));
    assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.2"), 0);
    assert_int_equal(evtls_cfg_add_source_address(cfg, "::1"), 0);
    assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.3"), 0);
    /* Each family's addresses in turn. */
    const struct evtls__source *a = evtls__cfg_next_source(cfg, 4);
    const struct evtls__source *b = evtls__cfg_next_source(cfg, 4);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(evtls__cfg_next_source(cfg, 4), a);
    assert_int_equal(evtls__cfg_next_source(cfg, 6)->ss.ss_family, AF_INET6);
    assert_ptr_equal(evtls__cfg_next_source(cfg, 6), evtls__cfg_next_source(cfg, 6));
    for (int i = 3; i < 16; i++)
        assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.9"), 0);
    assert_int_equal(evtls_cfg_add_source_address(cfg, "127.0.0.9"), EVTLS_ERR_INVALID_ARG);
    evtls_cfg_unref(cfg);
}

/* The retry policy, pure: the clock and the randomness are arguments. */
static void test_retry_policy(void **state)
{
    (void)state;
    unsigned w = 12345;
    struct evtls__retry_policy none = {EVTLS_RETRY_NONE, 0, 0, 0, 0, 0};
    assert_int_equal(evtls__retry_decide(&none, 1, EVTLS_ERR_CONN_REFUSED, 0, 0, &w), 0);
    struct evtls__retry_policy cd = {EVTLS_RETRY_COUNTDOWN, 5, 0, 0, 3, 0};
    assert_int_equal(evtls__retry_decide(&cd, 1, EVTLS_ERR_CONN_REFUSED, 0, 0, &w), 1);
    assert_int_equal(w, 5000);
    assert_int_equal(evtls__retry_decide(&cd, 2, EVTLS_ERR_PEER_RESET, 0, 0, &w), 1);
    assert_int_equal(evtls__retry_decide(&cd, 3, EVTLS_ERR_CONN_REFUSED, 0, 0, &w), 0); /* 3 of 3 */
    /* Failures that will not go away by themselves are final at once. */
    const int final[] = {EVTLS_ERR_CERT_UNTRUSTED,   EVTLS_ERR_DNS_NXDOMAIN, EVTLS_ERR_BAD_CONFIG,
                         EVTLS_ERR_PROTOCOL_VERSION, EVTLS_ERR_TIMEOUT,      EVTLS_ERR_NOMEM};
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
        assert_int_equal(evtls__retry_decide(&cd, 1, final[i], 0, 0, &w), 0);
    /* The deadline: a wait that would reach it ends the connect now. */
    struct evtls__retry_policy dl = {EVTLS_RETRY_COUNTDOWN, 1, 0, 0, 0, 1500};
    assert_int_equal(evtls__retry_decide(&dl, 1, EVTLS_ERR_CONN_REFUSED, 400, 0, &w), 1);
    assert_int_equal(evtls__retry_decide(&dl, 2, EVTLS_ERR_CONN_REFUSED, 500, 0, &w), 0);
    /* Full jitter: rnd mod (min(cap, base 2^(k-1)) + 1). */
    struct evtls__retry_policy bo = {EVTLS_RETRY_BACKOFF, 0, 50, 120, 0, 0};
    assert_int_equal(evtls__retry_decide(&bo, 1, EVTLS_ERR_CONN_REFUSED, 0, 1000, &w), 1);
    assert_int_equal(w, 1000 % 51);
    assert_int_equal(evtls__retry_decide(&bo, 2, EVTLS_ERR_CONN_REFUSED, 0, 1000, &w), 1);
    assert_int_equal(w, 1000 % 101);
    assert_int_equal(evtls__retry_decide(&bo, 3, EVTLS_ERR_CONN_REFUSED, 0, 1000, &w), 1);
    assert_int_equal(w, 1000 % 121); /* capped */
    assert_int_equal(evtls__retry_decide(&bo, 64, EVTLS_ERR_CONN_REFUSED, 0, 0xffffffffu, &w), 1);
    assert_true(w <= 120); /* no overflow however many tries */
}

/* One origin key for the pool and the session cache: the host as DNS
 * compares it, the port, and a tag; what cannot be a host is refused. */
static void test_origin_key(void **state)
{
    (void)state;
    char a[EVTLS__ORIGIN_KEY_MAX], b[EVTLS__ORIGIN_KEY_MAX];
    assert_int_equal(evtls__origin_key(a, sizeof a, "Example.COM", 443, "t"), 17);
    assert_string_equal(a, "example.com|443|t");
    /* A trailing dot and case name the same origin. */
    assert_true(evtls__origin_key(b, sizeof b, "example.com.", 443, "t") > 0);
    assert_string_equal(a, b);
    /* An IPv6 literal with or without brackets. */
    assert_true(evtls__origin_key(a, sizeof a, "[::1]", 8443, NULL) > 0);
    assert_true(evtls__origin_key(b, sizeof b, "::1", 8443, NULL) > 0);
    assert_string_equal(a, "::1|8443|");
    assert_string_equal(a, b);
    /* Port and tag tell origins apart. */
    assert_true(evtls__origin_key(a, sizeof a, "h", 1, "x") > 0);
    assert_true(evtls__origin_key(b, sizeof b, "h", 2, "x") > 0);
    assert_string_not_equal(a, b);
    assert_true(evtls__origin_key(b, sizeof b, "h", 1, "y") > 0);
    assert_string_not_equal(a, b);
    /* Refused: an empty host, port 0, the separator or a control byte in
     * the host (no host can forge another origin's key), and no room. */
    assert_int_equal(evtls__origin_key(a, sizeof a, "", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "[]", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h", 0, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h|2", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h\n", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, sizeof a, "h\x01", 1, "x"), -1);
    assert_int_equal(evtls__origin_key(a, 8, "abcdef", 443, "x"), -1);
    assert_int_equal(evtls__origin_key(a, 6, "abcdef", 443, "x"), -1);
}

static evtls__addr ha(const char *ip)
{
    evtls__addr a;
    assert_int_equal(evtls__addr_parse_numeric(ip, 443, &a), 1);
    return a;
}

/* Happy Eyeballs' memory, on a clock passed in: first-dial order, the
 * learnt delay within RFC 8305's bounds, fallback, expiry, bounds. */
static void test_history(void **state)
{
    (void)state;
    evtls__history h = {0};
    assert_int_equal(evtls__history_configure(&h, 2, 1000), 0); /* 2 entries, TTL 1 s */
    uint64_t t = 5000000;
    struct evtls__dest *d = evtls__history_acquire(&h, "Dual.Test", 443, t);
    assert_non_null(d);
    evtls__addr v6 = ha("::1"), v4 = ha("127.0.0.1"), o4 = ha("127.0.0.2");
    evtls__addr order[3] = {v6, v4, o4};
    /* No history: RFC 6724 order kept, the configured delay applies. */
    assert_int_equal(evtls__history_order(&h, d, order, 3, t), EVTLS_ORDER_RFC6724);
    assert_memory_equal(&order[0], &v6, sizeof v6);
    assert_int_equal(evtls__history_delay_ms(&h, d, t), 0);
    /* IPv4 won after 600 ms: dialled first next time; delay srtt + 4 rttvar
     * = 600 + 4 * 300 ms, capped at 2 s. */
    evtls__history_won(&h, d, &v4, 600000, t);
    assert_int_equal(evtls__history_order(&h, d, order, 3, t + 1), EVTLS_ORDER_WINNER);
    assert_memory_equal(&order[0], &v4, sizeof v4);
    assert_memory_equal(&order[1], &v6, sizeof v6);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 1), 1800);
    /* Fast connects pull it down to the 100 ms floor. */
    for (int i = 0; i < 40; i++)
        evtls__history_won(&h, d, &v4, 1000, t + 2);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 2), 100);
    /* Slow ones push it to the 2 s ceiling. */
    for (int i = 0; i < 40; i++)
        evtls__history_won(&h, d, &v4, 5000000, t + 3);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 3), 2000);
    /* The remembered winner fails: forgotten, and dialled last. */
    evtls__history_failed(d, &v4, t + 4);
    evtls__addr again[3] = {v4, v6, o4};
    assert_int_equal(evtls__history_order(&h, d, again, 3, t + 5), EVTLS_ORDER_LOSER);
    assert_memory_equal(&again[0], &v6, sizeof v6);
    assert_memory_equal(&again[2], &v4, sizeof v4);
    /* Facts expire after the TTL: order and delay are the defaults again. */
    evtls__history_won(&h, d, &o4, 1000, t + 6);
    evtls__addr late[3] = {v6, v4, o4};
    assert_int_equal(evtls__history_order(&h, d, late, 3, t + 6 + 1000001), EVTLS_ORDER_RFC6724);
    assert_memory_equal(&late[0], &v6, sizeof v6);
    assert_int_equal(evtls__history_delay_ms(&h, d, t + 6 + 1000001), 0);
    /* The same destination whatever the spelling; a held entry is never
     * evicted; the least recently used free one is. */
    struct evtls__dest *same = evtls__history_acquire(&h, "dual.test.", 443, t + 7);
    assert_ptr_equal(same, d);
    evtls__history_release(same);
    struct evtls__dest *b = evtls__history_acquire(&h, "b.test", 443, t + 8);
    assert_non_null(b);
    assert_null(evtls__history_acquire(&h, "c.test", 443, t + 9)); /* both held */
    evtls__history_release(b);
    struct evtls__dest *c = evtls__history_acquire(&h, "c.test", 443, t + 10);
    assert_ptr_equal(c, b); /* b's slot: d is held */
    assert_int_equal(evtls__history_size(&h), 2);
    /* Clear forgets facts; held entries stay, free ones go. */
    evtls__history_won(&h, d, &v4, 1000, t + 11);
    evtls__history_release(c);
    evtls__history_clear(&h);
    assert_int_equal(evtls__history_size(&h), 1);
    evtls__addr cl[2] = {v6, v4};
    assert_int_equal(evtls__history_order(&h, d, cl, 2, t + 12), EVTLS_ORDER_RFC6724);
    /* Resizing waits until no dial holds an entry; 0 turns it off. */
    assert_int_equal(evtls__history_configure(&h, 4, 1000), -1);
    evtls__history_release(d);
    assert_int_equal(evtls__history_configure(&h, 0, 1000), 0);
    assert_null(evtls__history_acquire(&h, "dual.test", 443, t));
    evtls__history_free(&h);
}

/* The pure parts of pinning and proxying: base64 both ways, curl's pin
 * syntax, the SubjectPublicKeyInfo inside a certificate, proxy URLs, the
 * CONNECT request and the proxy's answer. */
static void test_pin_and_proxy_parts(void **state)
{
    (void)state;
    char enc[64];
    uint8_t dec[64];
    assert_int_equal(evtls__b64_encode((const uint8_t *)"evtls:s3cret", 12, enc, sizeof enc), 16);
    assert_string_equal(enc, "ZXZ0bHM6czNjcmV0");
    assert_int_equal(evtls__b64_encode((const uint8_t *)"ab", 2, enc, sizeof enc), 4);
    assert_string_equal(enc, "YWI=");
    assert_int_equal(evtls__b64_encode((const uint8_t *)"ab", 2, enc, 4), -1);
    assert_int_equal(evtls__b64_decode("YWI=", 4, dec, sizeof dec), 2);
    assert_memory_equal(dec, "ab", 2);
    assert_int_equal(evtls__b64_decode("YWI", 3, dec, sizeof dec), -1);
    assert_int_equal(evtls__b64_decode("Y=I=", 4, dec, sizeof dec), -1);
    assert_int_equal(evtls__b64_decode("YW!=", 4, dec, sizeof dec), -1);
    assert_int_equal(evtls__b64_decode("YWJj", 4, dec, 2), -1);
    /* Pins: curl's syntax, blanks around ';' allowed, 32-byte digests. */
    uint8_t pins[4][32];
    const char *one = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_int_equal(evtls__pins_parse(one, pins, 4), 1);
    char two[200];
    snprintf(two, sizeof two, "%s ; sha256//AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", one);
    assert_int_equal(evtls__pins_parse(two, pins, 4), 2);
    assert_int_equal(pins[1][31], 1);
    assert_int_equal(evtls__pins_parse(two, pins, 1), -1); /* more than max */
    assert_int_equal(evtls__pins_parse("sha1//AAAA", pins, 4), -1);
    assert_int_equal(evtls__pins_parse("sha256//AAAA", pins, 4), -1); /* not 32 bytes */
    assert_int_equal(evtls__pins_parse("", pins, 4), -1);
    assert_int_equal(evtls__pins_parse(";", pins, 4), -1);
    /* SPKI: a hand-made certificate skeleton with and without [0] version. */
    static const uint8_t cert[] = {
        0x30, 0x18,                                     /* Certificate */
        0x30, 0x14,                                     /* tbsCertificate */
        0xa0, 0x03, 0x02, 0x01, 0x02,                   /* [0] version */
        0x02, 0x01, 0x07,                               /* serial */
        0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, /* sig, issuer, validity, subject */
        0x30, 0x02, 0x05, 0x00,                         /* subjectPublicKeyInfo */
        0x30, 0x00,                                     /* signatureAlgorithm (outside tbs) */
    };
    const uint8_t *spki;
    size_t spki_len;
    assert_int_equal(evtls__cert_spki(cert, sizeof cert, &spki, &spki_len), 0);
    assert_int_equal(spki - cert, 20);
    assert_int_equal(spki_len, 4);
    assert_int_equal(evtls__cert_spki(cert, 10, &spki, &spki_len), -1); /* truncated */
    static const uint8_t not_cert[] = {0x04, 0x02, 0x30, 0x00};
    assert_int_equal(evtls__cert_spki(not_cert, sizeof not_cert, &spki, &spki_len), -1);
    /* Proxy URLs as curl takes them. */
    char *host, *auth;
    uint16_t port;
    assert_int_equal(evtls__proxy_parse("http://proxy.test:3128", &host, &port, &auth), 0);
    assert_string_equal(host, "proxy.test");
    assert_int_equal(port, 3128);
    assert_null(auth);
    free(host);
    assert_int_equal(evtls__proxy_parse("http://ev%40tls:s3%3Acret@[::1]", &host, &port, &auth), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 1080);
    char want[64];
    evtls__b64_encode((const uint8_t *)"ev@tls:s3:cret", 14, want, sizeof want);
    assert_string_equal(auth, want);
    char req[256];
    assert_true(evtls__proxy_request(req, sizeof req, "::1", 443, auth) > 0);
    assert_non_null(strstr(req, "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n"));
    assert_non_null(strstr(req, "Proxy-Authorization: Basic "));
    assert_int_equal(evtls__proxy_request(req, 20, "::1", 443, auth), -1);
    free(host);
    free(auth);
    assert_int_equal(evtls__proxy_parse("proxy.test", &host, &port, &auth), 0); /* no scheme */
    free(host);
    static const char *const bad[] = {"https://p:1",   "socks5://p:1", "http://p:0",
                                      "http://p:x",    "http://:8080", "http://p:1/path",
                                      "http://%zz@p:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(evtls__proxy_parse(bad[i], &host, &port, &auth), EVTLS_ERR_INVALID_ARG);
    /* The proxy's answer. */
    int status = 0;
    size_t used = 0;
    const char *ok = "HTTP/1.1 200 Connection established\r\nX: y\r\n\r\n";
    assert_int_equal(evtls__proxy_answer(ok, strlen(ok), &status, &used), 1);
    assert_int_equal(status, 200);
    assert_int_equal(used, strlen(ok));
    assert_int_equal(evtls__proxy_answer(ok, 20, &status, &used), 0); /* not whole yet */
    assert_int_equal(evtls__proxy_answer("SSH-2.0-x\r\n", 11, &status, &used), -1);
    assert_int_equal(evtls__proxy_answer("HTTP/1.0 407 x\r\n\r\n", 19, &status, &used), 1);
    assert_int_equal(status, 407);
}

/* The level before anything set one: quiet (warnings and errors) unless
 * EVTLS_LOG says otherwise. */
static evtls_log_level level_at_start;
static void test_quiet_by_default(void **state)
{
    (void)state;
    evtls_log_level want = EVTLS_LOG_WARN;
    const char *env = getenv("EVTLS_LOG");
    if (env && evtls_log_level_parse(env, &want) != 0)
        want = EVTLS_LOG_WARN;
    assert_int_equal(level_at_start, want);
}

int main(void)
{
    level_at_start = evtls_log_get_level();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_by_default),
        cmocka_unit_test(test_every_code_is_described),
        cmocka_unit_test(test_retry_classification),
        cmocka_unit_test(test_version_and_build_info),
        cmocka_unit_test(test_retry_policy),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_logging),
        cmocka_unit_test(test_session_cache_ring),
        cmocka_unit_test(test_source_address),
        cmocka_unit_test(test_origin_key),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_pin_and_proxy_parts),
    };
    return cmocka_run_group_tests_name("unit", tests, NULL, NULL);
}
