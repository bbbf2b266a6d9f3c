/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_trust.c - what a session's trust rests on is the content of the
 * trust sources, not their names; and the trust policy's settings. Real
 * nginx on loopback with the test PKI (scripts/mkcerts.sh). The
 * verification matrix itself (weak keys and signatures, names, chains,
 * revocation, groups) is tests/trust_matrix.sh, against openssl and gnutls
 * servers, beside curl. */
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

static struct peer web;

static int group_setup(void **state)
{
    (void)state;
    return peer_nginx(&web, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    return 0;
}

/* Copies the file at from over to. */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* A TLS 1.2 configuration trusting the CA file at path (TLS 1.2: the
 * session is there when the handshake ends). */
static evtls_cfg *cfg_trusting(const char *path)
{
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_ca_file(cfg, path), 0);
    assert_int_equal(evtls_cfg_set_tls_versions(cfg, EVTLS_TLS_1_2, EVTLS_TLS_1_2), 0);
    return cfg;
}

/* Connects with cfg and the sessions saved at file (none if NULL, and
 * saves them there after). Returns the connect's error; *resumed set. */
static int connect_with(struct loop_fx *f, evtls_cfg *cfg, const char *load, const char *save,
                        int *resumed)
{
    evtls_session_cache *sc = evtls_session_cache_new(0);
    if (load)
        assert_true(evtls_session_cache_load(sc, load) > 0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    evtls_conn_set_session_cache(c, sc);
    struct connect_result r;
    int rc = connect_wait(f->base, c, "localhost", web.port, &r);
    *resumed = rc == 0 && evtls_conn_get_info(c)->resumed;
    evtls_conn_free(c);
    if (save)
        assert_true(evtls_session_cache_save(sc, save) >= 0);
    evtls_session_cache_unref(sc);
    return rc;
}

/* Sessions saved under one CA file; the file is then replaced, under the
 * same path, by a CA that does not sign the server. A session made under
 * the old trust must not be offered: resumption does not verify the
 * server again, so it would accept what a full handshake refuses. */
static void test_changed_ca_file_never_resumes(void **state)
{
    struct loop_fx *f = *state;
    char ca[] = "/tmp/evtls-trust-ca-XXXXXX", sessions[] = "/tmp/evtls-trust-sess-XXXXXX";
    close(mkstemp(ca));
    close(mkstemp(sessions));
    copy_file(pki("ca.pem"), ca);
    int resumed;
    evtls_cfg *cfg = cfg_trusting(ca);
    assert_int_equal(connect_with(f, cfg, NULL, sessions, &resumed), 0);
    assert_false(resumed);
    evtls_cfg_unref(cfg);
    /* The same bytes under the same path: the session is offered, and taken. */
    cfg = cfg_trusting(ca);
    assert_int_equal(connect_with(f, cfg, sessions, NULL, &resumed), 0);
    assert_true(resumed);
    evtls_cfg_unref(cfg);
    /* Other bytes under the same path: a full handshake, which refuses. */
    copy_file(pki("other-ca.pem"), ca);
    cfg = cfg_trusting(ca);
    assert_int_equal(connect_with(f, cfg, sessions, NULL, &resumed), EVTLS_ERR_CERT_UNTRUSTED);
    assert_false(resumed);
    evtls_cfg_unref(cfg);
    unlink(ca);
    unlink(sessions);
}

/* A server whose certificate has an RSA-1024 key: refused by default,
 * naming the key; accepted once the configuration lowers the floor. */
static void test_key_floor_lowered(void **state)
{
    struct loop_fx *f = *state;
    char dir[] = "/tmp/evtls-weak-XXXXXX", cmd[1024], cert[300], key[300];
    assert_non_null(mkdtemp(dir));
    snprintf(cert, sizeof cert, "%s/weak.pem", dir);
    snprintf(key, sizeof key, "%s/weak.key", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:1024 -nodes -keyout %s -out %s -days 2 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null",
             key, cert);
    assert_int_equal(system(cmd), 0);
    const char *args[] = {"-cert", cert, "-key", key, "-cipher", "DEFAULT@SECLEVEL=0", NULL};
    struct peer p;
    assert_int_equal(peer_s_server(&p, args), 0);
    for (int lowered = 0; lowered < 2; lowered++) {
        evtls_cfg *cfg = evtls_cfg_new();
        assert_int_equal(evtls_cfg_set_ca_file(cfg, cert), 0);
        if (lowered)
            assert_int_equal(evtls_cfg_set_min_key_bits(cfg, 1024, 0), 0);
        evtls_conn *c = evtls_conn_new(f->base, cfg);
        struct connect_result r;
        int rc = connect_wait(f->base, c, "localhost", p.port, &r);
        if (lowered) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, EVTLS_ERR_CERT_WEAK_KEY);
            assert_non_null(strstr(r.last.detail, "RSA-1024"));
        }
        evtls_conn_free(c);
        evtls_cfg_unref(cfg);
    }
    peer_stop(&p);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Lowering the key floor is a setting of its own; a CRL file that does not
 * exist or holds no CRL fails the build, naming the field. */
static void test_policy_settings(void **state)
{
    (void)state;
    evtls_cfg *cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_min_key_bits(cfg, 100000, 0), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_min_key_bits(cfg, 1024, 0), 0);
    assert_int_equal(evtls_cfg_set_crl_file(cfg, "/nonexistent/crl.pem"), 0);
    assert_int_equal(evtls_cfg_build(cfg), EVTLS_ERR_BAD_CONFIG);
    assert_non_null(strstr(evtls_cfg_get_last_error(cfg)->detail, "crl_file"));
    evtls_cfg_unref(cfg);
    cfg = evtls_cfg_new();
    assert_int_equal(evtls_cfg_set_crl_file(cfg, pki("ca.pem")), 0); /* a certificate, no CRL */
    assert_int_equal(evtls_cfg_build(cfg), EVTLS_ERR_BAD_CONFIG);
    assert_non_null(strstr(evtls_cfg_get_last_error(cfg)->detail, "crl_file"));
    evtls_cfg_unref(cfg);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, loop_fx_setup, loop_fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_changed_ca_file_never_resumes),
        T(test_key_floor_lowered),
        T(test_policy_settings),
    };
#undef T
    return cmocka_run_group_tests_name("trust", tests, group_setup, group_teardown);
}
