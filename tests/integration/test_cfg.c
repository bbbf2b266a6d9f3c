/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_cfg.c - configurations: every bad input fails at build time with an
 * error naming the field; good ones shape the handshake (ciphers, groups,
 * versions, DER trust) as a real peer sees it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <wolfssl/options.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "peer.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(65536);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

/* Builds cfg, expects failure with code and a detail containing needle. */
static void expect_build_error(evtls_cfg *cfg, int code, const char *needle)
{
    assert_int_equal(evtls_cfg_build(cfg), code);
    const evtls_last_error *e = evtls_cfg_get_last_error(cfg);
    assert_int_equal(e->code, code);
    if (strstr(e->detail, needle) == NULL)
        fail_msg("detail '%s' does not name '%s'", e->detail, needle);
    /* A connection cannot be made from a broken configuration. */
    assert_null(evtls_conn_new(NULL, cfg));
    evtls_cfg_unref(cfg);
}

static void test_missing_files(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_file(cfg, "/nonexistent/ca.pem"), 0);
    assert_int_equal(evtls_cfg_build(cfg), EVTLS_ERR_BAD_CONFIG);
    assert_int_equal(evtls_cfg_get_last_error(cfg)->sys_errno, ENOENT);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "ca_file");

    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_dir(cfg, "/nonexistent"), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "ca_dir");

    cfg = evtls_cfg_new();
    assert_int_equal(
        evtls_cfg_set_client_cert_file(cfg, pki("client.pem"), "/nonexistent.key", NULL), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "client_key_file");
}

static void test_malformed_pem(void **state)
{
    (void)state;
    static const char bad[] =
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_buffer(cfg, bad, sizeof bad - 1), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "ca_buffer");

    /* A key file given as the CA file is no certificate. */
    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_file(cfg, pki("ca.key")), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "ca_file");

    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_client_cert(cfg, bad, sizeof bad - 1, bad, sizeof bad - 1, NULL),
                     0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "client_cert");

    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_buffer(cfg, NULL, 0), EVTLS_ERR_INVALID_ARG);
    evtls_cfg_unref(cfg);
}

static void test_key_problems(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(
        evtls_cfg_set_client_cert_file(cfg, pki("client.pem"), pki("server.key"), NULL), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "does not match");

    cfg = evtls_cfg_new();
    assert_int_equal(
        evtls_cfg_set_client_cert_file(cfg, pki("client.pem"), pki("client-enc.key"), NULL), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "client_key");

    cfg = evtls_cfg_new();
    assert_int_equal(
        evtls_cfg_set_client_cert_file(cfg, pki("client.pem"), pki("client-enc.key"), "wrong"), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "client_key");

    size_t clen, klen;
    char *cert = slurp(pki("client.pem"), &clen), *key = slurp(pki("client-enc.key"), &klen);
    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_client_cert(cfg, cert, clen, key, klen, "secret"), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    evtls_cfg_unref(cfg);
    free(cert);
    free(key);
}

static void test_unknown_names(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA256:BOGUS-CIPHER"), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "BOGUS-CIPHER");

    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_groups(cfg, "X25519:P-999"), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "P-999");

    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_groups(cfg, "X25519::P-256"), 0);
    expect_build_error(cfg, EVTLS_ERR_BAD_CONFIG, "groups");
}

static void test_setter_rules(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_tls_versions(cfg, EVTLS_TLS_1_3, EVTLS_TLS_1_2),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_tls_versions(cfg, (evtls_tls_version)11, EVTLS_TLS_1_3),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_family(cfg, (evtls_family)5), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_keepalive(cfg, 10, 0, 3), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_keepalive(cfg, 10, 5, 3), 0);
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_ATTEMPT_DELAY, 1), 0);
    assert_int_equal(evtls_cfg_get_timeout(cfg, EVTLS_TIMEOUT_ATTEMPT_DELAY), 10);
    assert_int_equal(evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_ATTEMPT_DELAY, 99999), 0);
    assert_int_equal(evtls_cfg_get_timeout(cfg, EVTLS_TIMEOUT_ATTEMPT_DELAY), 2000);
    assert_int_equal(evtls_cfg_set_ca_file(cfg, pki("ca.pem")), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    assert_int_equal(evtls_cfg_build(cfg), 0); /* idempotent */
    /* Frozen once built. */
    assert_int_equal(evtls_cfg_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA256"), EVTLS_ERR_STATE);
    assert_int_equal(evtls_cfg_set_insecure_skip_verify(cfg, 1), EVTLS_ERR_STATE);
    /* Connections hold their own reference. */
    evtls_conn *c = evtls_conn_new(NULL, cfg);
    assert_non_null(c);
    evtls_cfg_unref(cfg);
    evtls_conn_free(c);
}

static evtls_conn *connect_to(struct event_base *base, evtls_cfg *cfg, uint16_t port, int expect)
{
    evtls_conn *c = evtls_conn_new(base, cfg);
    struct connect_result r;
    assert_int_equal(connect_wait(base, c, "localhost", port, &r), expect);
    return c;
}

static void test_ciphers_groups_der(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct peer p;
    const char *args[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), "-tls1_2", NULL};
    assert_int_equal(peer_s_server(&p, args), 0);

    /* Trust from a DER buffer; one cipher and one group offered. */
    size_t len;
    char *der = slurp(pki("ca.der"), &len);
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_buffer(cfg, der, len), 0);
    free(der);
    assert_int_equal(evtls_cfg_set_ciphers(cfg, "ECDHE-ECDSA-CHACHA20-POLY1305"), 0);
    assert_int_equal(evtls_cfg_set_groups(cfg, "P-256"), 0);
    evtls_conn *c = connect_to(base, cfg, p.port, 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_string_equal(i->cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
    assert_non_null(strstr(i->group, "256"));
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);

    /* Trust from a directory of PEM files (keys and other files in it are
     * skipped). */
    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_dir(cfg, pki_dir()), 0);
    c = connect_to(base, cfg, p.port, 0);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);

    /* A cipher the TLS 1.2 server cannot use with its ECDSA key. */
    cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_ciphers(cfg, "ECDHE-RSA-AES128-GCM-SHA256"), 0);
    c = connect_to(base, cfg, p.port, EVTLS_ERR_HANDSHAKE_FAILED);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    peer_stop(&p);
    event_base_free(base);
}

/* Without --ciphers evtls offers AEAD suites with forward secrecy only:
 * a server that has nothing else (here CBC with SHA-1) is refused, though
 * the client could speak it when asked; and a server honouring the
 * client's order gets ChaCha20-Poly1305 first when wolfSSL has no AES
 * instructions. */
/* Threads sharing one unbuilt configuration build it at once: each gets
 * 0 and exactly one WOLFSSL_CTX is made (the allocator's count, when its
 * layer is on; a second one would leak, which ASan and valgrind report).
 * Before, every thread built its own and all but one leaked. */
struct racer {
    evtls_cfg *cfg;
    pthread_barrier_t *go;
    int rc;
};

static void *build_racer(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->go);
    r->rc = evtls_cfg_build(r->cfg);
    return NULL;
}

static size_t config_bytes(void)
{
    evtls_mem_stats st;
    evtls_mem_get_stats(&st);
    return st.enabled ? st.bytes[EVTLS_MEM_TLS_CONFIG] : 0;
}

static void test_build_raced_by_threads(void **state)
{
    (void)state;
    enum { N = 6 };
    /* One build alone, for its size. */
    size_t before = config_bytes();
    evtls_cfg *one = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_file(one, pki("ca.pem")), 0);
    assert_int_equal(evtls_cfg_build(one), 0);
    size_t single = config_bytes() - before;
    evtls_cfg_unref(one);
    for (int round = 0; round < 20; round++) {
        evtls_cfg *cfg = evtls_cfg_new();
        assert_int_equal(evtls_cfg_set_ca_file(cfg, pki("ca.pem")), 0);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, N);
        pthread_t t[N];
        struct racer r[N];
        before = config_bytes();
        for (int i = 0; i < N; i++) {
            r[i] = (struct racer){cfg, &go, -1};
            assert_int_equal(pthread_create(&t[i], NULL, build_racer, &r[i]), 0);
        }
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            assert_int_equal(r[i].rc, 0);
        }
        assert_int_equal(config_bytes() - before, single);
        pthread_barrier_destroy(&go);
        evtls_cfg_unref(cfg);
    }
}

static void test_default_ciphers(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct peer p;
    const char *cbc[] = {"-cert",   pki("server.pem"),        "-key", pki("server.key"), "-tls1_2",
                         "-cipher", "ECDHE-ECDSA-AES128-SHA", NULL};
    assert_int_equal(peer_s_server(&p, cbc), 0);
    evtls_cfg *cfg = test_cfg(0, 0);
    evtls_conn *c = connect_to(base, cfg, p.port, EVTLS_ERR_HANDSHAKE_FAILED);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_ciphers(cfg, "ECDHE-ECDSA-AES128-SHA"), 0);
    c = connect_to(base, cfg, p.port, 0);
    assert_string_equal(evtls_conn_get_info(c)->cipher, "ECDHE-ECDSA-AES128-SHA");
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    peer_stop(&p);

    const char *tls13[] = {"-cert", pki("server.pem"), "-key", pki("server.key"), "-tls1_3", NULL};
    assert_int_equal(peer_s_server(&p, tls13), 0);
    cfg = test_cfg(0, 0);
    c = connect_to(base, cfg, p.port, 0);
#ifdef WOLFSSL_AESNI
    assert_string_equal(evtls_conn_get_info(c)->cipher, "TLS13-AES128-GCM-SHA256");
#else
    assert_string_equal(evtls_conn_get_info(c)->cipher, "TLS13-CHACHA20-POLY1305-SHA256");
#endif
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    peer_stop(&p);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_files),   cmocka_unit_test(test_malformed_pem),
        cmocka_unit_test(test_key_problems),    cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_setter_rules),    cmocka_unit_test(test_ciphers_groups_der),
        cmocka_unit_test(test_default_ciphers), cmocka_unit_test(test_build_raced_by_threads),
    };
    return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
