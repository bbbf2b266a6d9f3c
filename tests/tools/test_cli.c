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

int main(void)
{
    evtls_log_set_level(EVTLS_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_headers),
        cmocka_unit_test(test_tls_build),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
