/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_cli.c - what both tools build from their options, from one place
 * (tools/common/cli_tls.c): the request headers and the configuration. The
 * two copies it replaced had drifted apart: header names cut at 128 bytes
 * in one and refused past 256 in the other, a tab after the colon kept by
 * one, setter errors or-ed together in one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli_tls.h"
#include "cli_writeout.h"
#include "peer.h"

static void test_request_headers(void **state)
{
    (void)state;
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/");
    char err[320];
    const char *good[] = {"X-A: one", "X-B:\ttwo", "X-C:three", "X-Empty:"};
    assert_int_equal(cli_request_headers(req, good, 4, err, sizeof err), 0);
    size_t len;
    const char *bytes = (const char *)evtls_http_req_get_bytes(req, &len);
    assert_non_null(strstr(bytes, "\r\nX-A: one\r\n"));
    assert_non_null(strstr(bytes, "\r\nX-B: two\r\n")); /* the tab skipped, as a space */
    assert_non_null(strstr(bytes, "\r\nX-C: three\r\n"));
    char long_name[300];
    memset(long_name, 'n', 255);
    strcpy(long_name + 255, ": v");
    const char *longest[] = {long_name};
    assert_int_equal(cli_request_headers(req, longest, 1, err, sizeof err), 0); /* 255: kept */
    long_name[255] = 'n';
    strcpy(long_name + 256, ": v");
    assert_int_equal(cli_request_headers(req, longest, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "too long"));
    const char *bad[][1] = {{"no colon"}, {": no name"}, {"Bad Name: x"}, {"X: a\r\nInjected: b"}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(cli_request_headers(req, bad[i], 1, err, sizeof err), -1);
        assert_non_null(strstr(err, "--header"));
    }
    evtls_http_req_free(req);
}

static void test_tls_build(void **state)
{
    (void)state;
    char err[400];
    evtls_cfg *cfg = NULL;
    struct cli_net net;
    memset(&net, 0, sizeof net);
    net.proxy = "";
    struct cli_tls t = {.cacert = pki("ca.pem"), .tls_min = 13, .race_limit = -1, .net = &net};
    assert_int_equal(cli_tls_build(&t, 0, "localhost", &cfg, err, sizeof err), 0);
    assert_non_null(cfg);
    evtls_cfg_unref(cfg);
    /* Each refusal names its option's value and leaves nothing. */
    struct cli_tls bad = t;
    bad.cacert = "/nonexistent/ca.pem";
    assert_int_equal(cli_tls_build(&bad, 0, "localhost", &cfg, err, sizeof err), -1);
    assert_null(cfg);
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));
    bad = t;
    bad.ciphers = "NO-SUCH-CIPHER";
    assert_int_equal(cli_tls_build(&bad, 0, "localhost", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "NO-SUCH-CIPHER"));
    bad = t;
    bad.tls_min = 13;
    bad.tls_max = 12;
    assert_int_equal(cli_tls_build(&bad, 0, "localhost", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "tls_versions"));
}

/* The TLS and connection options both tools take from one table: each
 * stored as given, a time with a unit or in bare seconds (curl's habit; one
 * tool used to read a bare number as milliseconds), a bad value named, and
 * the checks across options. */
static void test_tls_options(void **state)
{
    (void)state;
    struct cli_tls t;
    cli_tls_init(&t);
    assert_int_equal(t.race_limit, -1);
    char err[300];
    const struct option table[] = {CLI_TLS_LONG_OPTIONS(1)};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *v = table[i].has_arg == no_argument          ? NULL
                        : strstr(table[i].name, "timeout")       ? "2"
                        : strcmp(table[i].name, "family") == 0   ? "6"
                        : strcmp(table[i].name, "retries") == 0  ? "3"
                        : strncmp(table[i].name, "tls-", 4) == 0 ? "1.3"
                                                                 : "value";
        if (cli_tls_option(&t, table[i].name, v, err, sizeof err) != 1)
            fail_msg("--%s not taken: %s", table[i].name, err);
    }
    assert_string_equal(t.cacert, "value");
    assert_string_equal(t.key_password, "value");
    assert_string_equal(t.groups, "value");
    assert_int_equal(t.insecure, 1);
    assert_int_equal(t.no_verify_name, 1);
    assert_int_equal(t.family, 6);
    assert_int_equal(t.tls_min, 13);
    assert_int_equal(t.connect_ms, 2000);
    assert_int_equal(t.handshake_ms, 2000);
    assert_int_equal(t.retries, 3);
    assert_int_equal(cli_tls_option(&t, "connect-timeout", "250ms", err, sizeof err), 1);
    assert_int_equal(t.connect_ms, 250);
    assert_int_equal(cli_tls_option(&t, "handshake-timeout", "1.5", err, sizeof err), 1);
    assert_int_equal(t.handshake_ms, 1500);
    assert_int_equal(cli_tls_option(&t, "resolver", "x", err, sizeof err), 0); /* not one */
    const char *bad[][3] = {{"connect-timeout", "0", "--connect-timeout: '0'"},
                            {"handshake-timeout", "2h", "--handshake-timeout: '2h'"},
                            {"connect-timeout", "5x", "--connect-timeout: '5x'"},
                            {"tls-max", "1.1", "--tls-max: '1.1'"},
                            {"family", "7", "--family: '7'"},
                            {"retries", "1001", "--retries: '1001'"},
                            {"retries", "-1", "--retries: '-1'"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cli_tls_option(&t, bad[i][0], bad[i][1], err, sizeof err), -1);
        if (strstr(err, bad[i][2]) == NULL)
            fail_msg("--%s %s: '%s'", bad[i][0], bad[i][1], err);
    }
    /* Across options: the versions, a certificate and its key, one CA source. */
    struct cli_tls c;
    cli_tls_init(&c);
    assert_int_equal(cli_tls_check(&c, err, sizeof err), 0);
    c.tls_min = 13;
    c.tls_max = 12;
    assert_int_equal(cli_tls_check(&c, err, sizeof err), -1);
    assert_string_equal(err, "--tls-min 1.3 is above --tls-max 1.2");
    cli_tls_init(&c);
    c.cert = "c.pem";
    assert_int_equal(cli_tls_check(&c, err, sizeof err), -1);
    assert_string_equal(err, "--cert needs --key as well");
    c.key = "k.pem";
    assert_int_equal(cli_tls_check(&c, err, sizeof err), 0);
    c.cacert = "a";
    c.capath = "b";
    assert_int_equal(cli_tls_check(&c, err, sizeof err), -1);
    assert_string_equal(err, "--cacert and --capath: give one of them");
    cli_tls_init(&c);
    c.key_password = "p";
    assert_int_equal(cli_tls_check(&c, err, sizeof err), -1);
}

/* curl's --resolve HOST:PORT:ADDR, as both tools read it. */
static void test_resolve(void **state)
{
    (void)state;
    struct cli_resolve r[3];
    char err[300];
    assert_int_equal(cli_parse_resolve("Example.COM:443:127.0.0.2", &r[0], err, sizeof err), 0);
    assert_int_equal(cli_parse_resolve("h.test:8443:[::1]", &r[1], err, sizeof err), 0);
    assert_string_equal(r[1].addr, "::1");
    assert_int_equal(r[1].port, 8443);
    assert_int_equal(cli_parse_resolve("*:80:::1", &r[2], err, sizeof err), 0);
    assert_string_equal(cli_resolve_find(r, 3, "example.com", 443), "127.0.0.2"); /* no case */
    assert_null(cli_resolve_find(r, 3, "example.com", 8443));                     /* another port */
    assert_string_equal(cli_resolve_find(r, 3, "any.test", 80), "::1");           /* "*" */
    assert_null(cli_resolve_find(r, 2, "other.test", 443));
    const char *bad[][2] = {{"x:1", "is not HOST:PORT:ADDR"},
                            {"x:0:127.0.0.1", "is not HOST:PORT:ADDR"},
                            {"x:65536:127.0.0.1", "is not HOST:PORT:ADDR"},
                            {":1:127.0.0.1", "is not HOST:PORT:ADDR"},
                            {"x:1:", "is not HOST:PORT:ADDR"},
                            {"x:1:host.test", "'host.test' is not an IP address"},
                            {"x:1:127.0.0.1,127.0.0.2", "one address per --resolve"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cli_parse_resolve(bad[i][0], &r[0], err, sizeof err), -1);
        if (strstr(err, bad[i][1]) == NULL)
            fail_msg("--resolve %s: '%s'", bad[i][0], err);
    }
}

/* curl's --connect-to HOST1:PORT1:HOST2:PORT2, empty parts included. */
static void test_connect_to(void **state)
{
    (void)state;
    struct cli_connect_to c[3];
    char err[300];
    assert_int_equal(cli_parse_connect_to("a.test:443:b.test:8443", &c[0], err, sizeof err), 0);
    assert_string_equal(c[0].to_host, "b.test");
    assert_int_equal(c[0].to_port, 8443);
    assert_int_equal(cli_parse_connect_to("[::1]:80:[::2]:", &c[1], err, sizeof err), 0);
    assert_string_equal(c[1].from_host, "::1");
    assert_string_equal(c[1].to_host, "::2");
    assert_int_equal(c[1].to_port, 0); /* the same port */
    assert_int_equal(cli_parse_connect_to("::127.0.0.1:9", &c[2], err, sizeof err), 0);
    assert_ptr_equal(cli_connect_to_find(c, 3, "A.TEST", 443), &c[0]); /* no case */
    assert_ptr_equal(cli_connect_to_find(c, 3, "a.test", 444), &c[2]); /* any host, any port */
    assert_ptr_equal(cli_connect_to_find(c, 2, "::1", 80), &c[1]);
    assert_null(cli_connect_to_find(c, 2, "a.test", 444));
    const char *bad[] = {"x", "a:1:b", "a:0:b:1", "a:1:b:65536", "[::1:80:b:1", "a:1:b:1:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cli_parse_connect_to(bad[i], &c[0], err, sizeof err), -1);
        if (strstr(err, "is not HOST1:PORT1:HOST2:PORT2") == NULL)
            fail_msg("--connect-to %s: '%s'", bad[i], err);
    }
}

/* evtls-poll's exit status is curl's for the same failure. */
static void test_curl_exit(void **state)
{
    (void)state;
    static const struct {
        int err, status, want;
    } cases[] = {
        {EVTLS_OK, 200, 0},
        {EVTLS_OK, 404, 22},
        {EVTLS_ERR_DNS_NXDOMAIN, 0, 6},
        {EVTLS_ERR_DNS_SERVFAIL, 0, 6},
        {EVTLS_ERR_DNS_TIMEOUT, 0, 28},
        {EVTLS_ERR_CONN_REFUSED, 0, 7},
        {EVTLS_ERR_NET_UNREACH, 0, 7},
        {EVTLS_ERR_CONNECT_TIMEOUT, 0, 28},
        {EVTLS_ERR_HANDSHAKE_TIMEOUT, 0, 28},
        {EVTLS_ERR_HTTP_TTFB_TIMEOUT, 0, 28},
        {EVTLS_ERR_CERT_UNTRUSTED, 0, 60},
        {EVTLS_ERR_CERT_HOSTNAME, 0, 60},
        {EVTLS_ERR_CERT_EXPIRED, 0, 60},
        {EVTLS_ERR_CERT_REVOKED, 0, 60},
        {EVTLS_ERR_CERT_WEAK_KEY, 0, 60},
        {EVTLS_ERR_CERT_STATUS, 0, 91},
        {EVTLS_ERR_PIN_MISMATCH, 0, 90},
        {EVTLS_ERR_HANDSHAKE_FAILED, 0, 35},
        {EVTLS_ERR_PROTOCOL_VERSION, 0, 35},
        {EVTLS_ERR_PEER_ALERT, 0, 35},
        {EVTLS_ERR_PEER_RESET, 0, 56},
        {EVTLS_ERR_PROXY_REFUSED, 0, 56},
        {EVTLS_ERR_PROXY_CONNECT, 0, 7},
        {EVTLS_ERR_HTTP_MALFORMED, 0, 8},
        {EVTLS_ERR_HTTP_TRUNCATED, 0, 18},
        {EVTLS_ERR_HTTP_BODY_TOO_LARGE, 0, 63},
        {EVTLS_ERR_HTTP_TOO_MANY_REDIRECTS, 0, 47},
        {EVTLS_ERR_NOMEM, 0, 27},
        {EVTLS_ERR_INTERNAL, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (cli_curl_exit(cases[i].err, cases[i].status) != cases[i].want)
            fail_msg("%s, status %d: exit %d, curl's is %d", evtls_err_name(cases[i].err),
                     cases[i].status, cli_curl_exit(cases[i].err, cases[i].status), cases[i].want);
}

/* curl's -w: the times add up from the start, a phase not reached is 0,
 * plain http has no appconnect; escapes, %% and an unknown name as curl. */
static void test_write_out(void **state)
{
    (void)state;
    char buf[512];
    struct cli_round r = {.http_code = 200,
                          .http_minor = 1,
                          .dns_us = 1000,
                          .tcp_us = 2000,
                          .tls_us = 3000,
                          .ttfb_us = 4000,
                          .total_us = 12000,
                          .size_download = 2400,
                          .remote_ip = "::1",
                          .remote_port = 443,
                          .url = "https://h/",
                          .scheme = "https",
                          .num_connects = 1};
    const char *unknown = NULL;
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_int_equal(cli_write_out(f,
                                   "%{http_code} %{time_namelookup} %{time_connect} "
                                   "%{time_appconnect} %{time_starttransfer} %{time_total} "
                                   "%{speed_download} [%{remote_ip}]:%{remote_port}\\t100%%\\n",
                                   &r, &unknown),
                     0);
    fclose(f);
    assert_string_equal(buf, "200 0.001000 0.003000 0.006000 0.010000 0.012000 200000 "
                             "[::1]:443\t100%\n");
    r.scheme = "http"; /* no TLS: appconnect 0, the request after TCP */
    r.tls_us = 0;
    f = fmemopen(buf, sizeof buf, "w");
    assert_int_equal(cli_write_out(f, "%{time_appconnect} %{time_starttransfer}", &r, &unknown), 0);
    fclose(f);
    assert_string_equal(buf, "0.000000 0.007000");
    struct cli_round failed = {.dns_us = 500,
                               .scheme = "https",
                               .exitcode = 7,
                               .errormsg = "refused"}; /* connect never done */
    f = fmemopen(buf, sizeof buf, "w");
    assert_int_equal(cli_write_out(f, "%{http_code} %{time_connect} %{exitcode} %{errormsg} %{x}",
                                   &failed, &unknown),
                     -1);
    fclose(f);
    assert_string_equal(buf, "000 0.000000 7 refused %{x}");
    assert_int_equal(strncmp(unknown, "%{x}", 4), 0);
}

int main(void)
{
    evtls_log_set_level(EVTLS_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_headers), cmocka_unit_test(test_tls_build),
        cmocka_unit_test(test_tls_options),     cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_connect_to),      cmocka_unit_test(test_curl_exit),
        cmocka_unit_test(test_write_out),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
