/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_addrsel.c - RFC 6724 destination address selection, rule by rule,
 * and the worked examples of RFC 6724 section 10.2; RFC 8305 interleaving. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <evtls/evtls.h>
#include "evtls_addrsel.h"

static evtls__addr A(const char *s)
{
    evtls__addr a;
    int rc = evtls__addr_parse_numeric(s, 443, &a);
    assert_int_equal(rc, 1);
    return a;
}

/* A candidate: destination and source; src NULL means no route. */
static struct evtls__cand C(const char *dst, const char *src) {
    struct evtls__cand c;
    memset(&c, 0, sizeof c);
    c.dst = A(dst);
    if (src)
        c.src = A(src);
    return c;
}

/* Sorts n candidates given best-first-expected in want[] order, starting
 * from the given order and from the reverse order; both must give want. */
static void
check_sort(const struct evtls__cand *in, size_t n, const char *const *want)
{
    for (int reverse = 0; reverse < 2; reverse++) {
        struct evtls__cand c[8];
        for (size_t i = 0; i < n; i++)
            c[i] = in[reverse ? n - 1 - i : i];
        evtls__addrsel_sort(c, n, evtls__policy_default, evtls__policy_default_n);
        for (size_t i = 0; i < n; i++) {
            char buf[48];
            evtls__addr_str(&c[i].dst, buf, sizeof buf);
            if (strcmp(buf, want[i]) != 0)
                fail_msg("position %zu: got %s, want %s (reverse=%d)", i, buf, want[i], reverse);
        }
    }
}

/* --- RFC 6724 section 10.2 --- */

static void test_rfc_prefer_matching_scope(void **state)
{
    (void)state;
    /* Sources 2001:db8:1::2 or fe80::1 or 169.254.13.78. */
    struct evtls__cand a[] = {C("2001:db8:1::1", "2001:db8:1::2"),
                              C("198.51.100.121", "169.254.13.78")};
    const char *wa[] = {"2001:db8:1::1", "198.51.100.121"};
    check_sort(a, 2, wa);
    /* Sources fe80::1 or 198.51.100.117. */
    struct evtls__cand b[] = {C("2001:db8:1::1", "fe80::1"), C("198.51.100.121", "198.51.100.117")};
    const char *wb[] = {"198.51.100.121", "2001:db8:1::1"};
    check_sort(b, 2, wb);
}

static void test_rfc_prefer_higher_precedence(void **state)
{
    (void)state;
    struct evtls__cand a[] = {C("2001:db8:1::1", "2001:db8:1::2"), C("10.1.2.3", "10.1.2.4")};
    const char *wa[] = {"2001:db8:1::1", "10.1.2.3"};
    check_sort(a, 2, wa);
    /* 6to4 source for both... when each has a matching source, native
     * IPv6 (precedence 40) beats 6to4 (30). */
    struct evtls__cand b[] = {C("2002:c633:6401::1", "2002:c633:6401::2"),
                              C("2001:db8:1::1", "2001:db8:1::2")};
    const char *wb[] = {"2001:db8:1::1", "2002:c633:6401::1"};
    check_sort(b, 2, wb);
}

static void test_rfc_prefer_smaller_scope(void **state)
{
    (void)state;
    struct evtls__cand a[] = {C("2001:db8:1::1", "2001:db8:1::2"), C("fe80::1", "fe80::2")};
    const char *wa[] = {"fe80::1", "2001:db8:1::1"};
    check_sort(a, 2, wa);
}

static void test_rfc_prefer_matching_label(void **state)
{
    (void)state;
    /* Only a 6to4 source: the 6to4 destination matches its label. */
    struct evtls__cand a[] = {C("2001:db8:1::1", "2002:c633:6401::2"),
                              C("2002:c633:6401::1", "2002:c633:6401::2")};
    const char *wa[] = {"2002:c633:6401::1", "2001:db8:1::1"};
    check_sort(a, 2, wa);
}

/* --- one rule at a time --- */

static void test_rule1_avoid_unusable(void **state)
{
    (void)state;
    /* ::1 would win on precedence, but has no source address. */
    struct evtls__cand a[] = {C("::1", NULL), C("127.0.0.1", "127.0.0.1")};
    const char *wa[] = {"127.0.0.1", "::1"};
    check_sort(a, 2, wa);
}

static void test_rule6_loopback_v6_first(void **state)
{
    (void)state;
    /* The dual-stack localhost case: ::1 (precedence 50) before the mapped
     * IPv4 loopback (35); scopes and labels match for both. */
    struct evtls__cand a[] = {C("127.0.0.1", "127.0.0.1"), C("::1", "::1")};
    const char *wa[] = {"::1", "127.0.0.1"};
    check_sort(a, 2, wa);
}

static void test_rule9_longest_prefix_v6_only(void **state)
{
    (void)state;
    struct evtls__cand a[] = {C("2001:db8:2::1", "2001:db8:1::2"),
                              C("2001:db8:1::1", "2001:db8:1::2")};
    const char *wa[] = {"2001:db8:1::1", "2001:db8:2::1"};
    check_sort(a, 2, wa);
    /* Not for IPv4: a 10/8 source does not make 10/8-ish neighbours better
     * (Go issue 13283): the order is kept (rule 10). */
    struct evtls__cand b[] = {C("54.83.193.112", "10.2.3.4"), C("23.23.172.185", "10.2.3.4"),
                              C("10.2.3.5", "10.2.3.4")};
    struct evtls__cand c[3];
    memcpy(c, b, sizeof b);
    evtls__addrsel_sort(c, 3, evtls__policy_default, evtls__policy_default_n);
    for (int i = 0; i < 3; i++)
        assert_memory_equal(&c[i].dst, &b[i].dst, sizeof b[i].dst);
}

static void test_rule10_keeps_order(void **state)
{
    (void)state;
    struct evtls__cand b[] = {C("2001:db8::5", "2001:db8::9"), C("2001:db8::3", "2001:db8::9"),
                              C("2001:db8::4", "2001:db8::9")};
    struct evtls__cand c[3];
    memcpy(c, b, sizeof b);
    evtls__addrsel_sort(c, 3, evtls__policy_default, evtls__policy_default_n);
    for (int i = 0; i < 3; i++)
        assert_memory_equal(&c[i].dst, &b[i].dst, sizeof b[i].dst);
}

static void test_injected_policy_table(void **state)
{
    (void)state;
    /* RFC 6724 section 10.3 style: a table that prefers IPv4. */
    static const struct evtls__policy v4first[] = {
        {{0}, 0, 40, 1},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, 100, 4},
    };
    struct evtls__cand c[] = {C("2001:db8:1::1", "2001:db8:1::2"), C("10.1.2.3", "10.1.2.4")};
    evtls__addrsel_sort(c, 2, v4first, 2);
    char buf[48];
    assert_string_equal(evtls__addr_str(&c[0].dst, buf, sizeof buf), "10.1.2.3");
}

static void test_classify_and_scope(void **state)
{
    (void)state;
    struct {
        const char *ip;
        int prec, label, scope;
    } t[] = {
        {"127.0.0.1", 35, 4, EVTLS__SCOPE_LINK},     {"169.254.1.2", 35, 4, EVTLS__SCOPE_LINK},
        {"10.0.0.1", 35, 4, EVTLS__SCOPE_GLOBAL},    {"::1", 50, 0, EVTLS__SCOPE_LINK},
        {"2002::ab12", 30, 2, EVTLS__SCOPE_GLOBAL},  {"2001::1", 5, 5, EVTLS__SCOPE_GLOBAL},
        {"fd00::1", 3, 13, EVTLS__SCOPE_GLOBAL},     {"fec0::1", 1, 11, EVTLS__SCOPE_SITE},
        {"3ffe::1", 1, 12, EVTLS__SCOPE_GLOBAL},     {"::10.1.2.3", 1, 3, EVTLS__SCOPE_GLOBAL},
        {"fe80::1", 40, 1, EVTLS__SCOPE_LINK},       {"ff05::1", 40, 1, EVTLS__SCOPE_SITE},
        {"2001:db8::1", 40, 1, EVTLS__SCOPE_GLOBAL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        evtls__addr a = A(t[i].ip);
        const struct evtls__policy *p =
            evtls__addrsel_classify(&a, evtls__policy_default, evtls__policy_default_n);
        assert_non_null(p);
        if (p->precedence != t[i].prec || p->label != t[i].label)
            fail_msg("%s: precedence %d label %d", t[i].ip, p->precedence, p->label);
        if (evtls__addrsel_scope(&a) != t[i].scope)
            fail_msg("%s: scope %d", t[i].ip, evtls__addrsel_scope(&a));
    }
    evtls__addr x = A("fe80::1"), y = A("fe80::2"), z = A("fe81::1"), v4 = A("127.0.0.1");
    assert_int_equal(evtls__addrsel_common_prefix(&x, &y), 64);
    assert_int_equal(evtls__addrsel_common_prefix(&z, &y), 15);
    assert_int_equal(evtls__addrsel_common_prefix(&v4, &y), 0);
}

static void test_interleave(void **state)
{
    (void)state;
    evtls__addr a[] = {A("2001:db8::1"), A("2001:db8::2"), A("2001:db8::3"), A("192.0.2.1"),
                       A("192.0.2.2")};
    evtls__addrsel_interleave(a, 5);
    const char *want[] = {"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"};
    for (int i = 0; i < 5; i++) {
        char buf[48];
        assert_string_equal(evtls__addr_str(&a[i], buf, sizeof buf), want[i]);
    }
    evtls__addr b[] = {A("192.0.2.1"), A("2001:db8::1"), A("2001:db8::2")};
    evtls__addrsel_interleave(b, 3);
    const char *wantb[] = {"192.0.2.1", "2001:db8::1", "2001:db8::2"};
    for (int i = 0; i < 3; i++) {
        char buf[48];
        assert_string_equal(evtls__addr_str(&b[i], buf, sizeof buf), wantb[i]);
    }
}

static void test_source_from_kernel(void **state)
{
    (void)state;
    /* Loopback only: connecting a UDP socket sends nothing. */
    evtls__addr d4 = A("127.0.0.1"), d6 = A("::1"), src;
    char buf[48];
    assert_int_equal(evtls__addrsel_source(&d4, &src), 0);
    assert_string_equal(evtls__addr_str(&src, buf, sizeof buf), "127.0.0.1");
    assert_int_equal(evtls__addrsel_source(&d6, &src), 0);
    assert_string_equal(evtls__addr_str(&src, buf, sizeof buf), "::1");
}

static char logbuf[4096];
static void capture(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)level;
    (void)ms;
    (void)arg;
    strncat(logbuf, msg, sizeof logbuf - strlen(logbuf) - 2);
    strcat(logbuf, "\n");
}

static void test_debug_log_names_the_rule(void **state)
{
    (void)state;
    logbuf[0] = '\0';
    evtls_log_set_handler(capture, NULL);
    evtls_log_set_level(EVTLS_LOG_DEBUG);
    struct evtls__cand c[] = {C("2001:db8:1::1", "2001:db8:1::2"),
                              C("198.51.100.121", "169.254.13.78")};
    evtls__addrsel_sort(c, 2, evtls__policy_default, evtls__policy_default_n);
    evtls_log_set_level(EVTLS_LOG_INFO);
    evtls_log_set_handler(NULL, NULL);
    assert_non_null(strstr(logbuf, "rule 2, cand_1 scope (14) match 0, cand_0 scope (14) match 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_prefer_matching_scope),
        cmocka_unit_test(test_rfc_prefer_higher_precedence),
        cmocka_unit_test(test_rfc_prefer_smaller_scope),
        cmocka_unit_test(test_rfc_prefer_matching_label),
        cmocka_unit_test(test_rule1_avoid_unusable),
        cmocka_unit_test(test_rule6_loopback_v6_first),
        cmocka_unit_test(test_rule9_longest_prefix_v6_only),
        cmocka_unit_test(test_rule10_keeps_order),
        cmocka_unit_test(test_injected_policy_table),
        cmocka_unit_test(test_classify_and_scope),
        cmocka_unit_test(test_interleave),
        cmocka_unit_test(test_source_from_kernel),
        cmocka_unit_test(test_debug_log_names_the_rule),
    };
    return cmocka_run_group_tests_name("addrsel", tests, NULL, NULL);
}
