/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pkcs11.c - client keys that stay in a PKCS#11 token: a SoftHSM
 * token made by the test in its own directory (softhsm2-util), the test's
 * ECDSA P-256 client key and an RSA 2048 one imported into it, nginx
 * asking for a client certificate and answering with the subject it
 * verified. The key is named by an RFC 7512 URI (label or id; the PIN in
 * the URI, in a file, or given apart); a wrong PIN, a missing object, a
 * missing module and a URI that names no private key fail the build with
 * BAD_CONFIG naming which; two threads share one configuration's token. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/wc_pkcs11.h>

#include "harness.h"
#include "peer.h"
#include "proc.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

static struct peer web;
static char dir[64], pin_file[96], rsa_cert[96], p384_cert[96];

/* The key labelled "nosign" loses its CKA_SIGN (pkcs11-tool and
 * softhsm2-util always set it): through the module itself, before the
 * library loads it. Returns 0 or -1. */
static int take_sign_away(void)
{
    Pkcs11Dev dev;
    if (wc_Pkcs11_Initialize(&dev, MODULE, NULL) != 0)
        return -1;
    CK_FUNCTION_LIST *f = dev.func;
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8;
    CK_SESSION_HANDLE s;
    int rc = -1;
    if (f->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK && n > 0 &&
        f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) == CKR_OK) {
        f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)"1234", 4);
        CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
        CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, "nosign", 6}};
        CK_OBJECT_HANDLE h;
        CK_ULONG found = 0;
        CK_BBOOL no = 0;
        CK_ATTRIBUTE sign = {CKA_SIGN, &no, sizeof no};
        if (f->C_FindObjectsInit(s, t, 2) == CKR_OK) {
            f->C_FindObjects(s, &h, 1, &found);
            f->C_FindObjectsFinal(s);
        }
        if (found == 1 && f->C_SetAttributeValue(s, h, &sign, 1) == CKR_OK)
            rc = 0;
        f->C_CloseSession(s);
    }
    wc_Pkcs11_Finalize(&dev);
    return rc;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evtls-p11-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    char conf[128];
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", dir);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", dir);
    fclose(f);
    setenv("SOFTHSM2_CONF", conf, 1); /* read by the module, in this process and the tools */
    snprintf(pin_file, sizeof pin_file, "%s/pin", dir);
    snprintf(rsa_cert, sizeof rsa_cert, "%s/rsa.pem", dir);
    snprintf(p384_cert, sizeof p384_cert, "%s/p384.pem", dir);
    /* the token, the EC client key (label "ec", id 01), and an RSA client
     * key and certificate from the test CA (label "rsa", id 02) */
    if (sh("cd %s && echo 1234 > pin && "
           "softhsm2-util --init-token --free --label evtls --pin 1234 --so-pin 5678 >/dev/null && "
           "openssl pkcs8 -topk8 -nocrypt -in %s -out ec.p8 && "
           "softhsm2-util --import ec.p8 --token evtls --label ec --id 01 --pin 1234 >/dev/null && "
           "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null "
           "&& "
           "openssl req -new -key rsa.key -subj /CN=evtls-rsa-client -out rsa.csr && "
           "openssl x509 -req -in rsa.csr -CA %s -CAkey %s -days 2 -out rsa.pem 2>/dev/null && "
           "openssl pkcs8 -topk8 -nocrypt -in rsa.key -out rsa.p8 && "
           "softhsm2-util --import rsa.p8 --token evtls --label rsa --id 02 --pin 1234 >/dev/null "
           "&& rm -f ec.p8 rsa.p8 rsa.key",
           dir, pki("client.key"), pki("ca.pem"), pki("ca.key")) != 0)
        return -1;
    /* a P-384 key and certificate (label "p384", id 03), the EC client
     * certificate in the token too (label "ec-cert"), and a key that may
     * not sign (label "nosign") */
    if (sh("cd %s && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key "
           "&& openssl req -new -key p384.key -subj /CN=evtls-p384-client -out p384.csr && "
           "openssl x509 -req -in p384.csr -CA %s -CAkey %s -days 2 -out p384.pem 2>/dev/null && "
           "openssl pkcs8 -topk8 -nocrypt -in p384.key -out p384.p8 && "
           "softhsm2-util --import p384.p8 --token evtls --label p384 --id 03 --pin 1234 "
           ">/dev/null "
           "&& openssl x509 -in %s -outform DER -out ec.der && "
           "pkcs11-tool --module %s --token-label evtls --login --pin 1234 --write-object ec.der "
           "--type cert --label ec-cert --id 11 >/dev/null 2>&1 && "
           "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ns.key && "
           "openssl pkcs8 -topk8 -nocrypt -in ns.key -out ns.p8 && "
           "softhsm2-util --import ns.p8 --token evtls --label nosign --id 09 --pin 1234 "
           ">/dev/null && "
           "softhsm2-util --import ns.p8 --token evtls --label gone --id 0a --pin 1234 >/dev/null "
           "&& rm -f p384.key p384.p8 ns.key ns.p8",
           dir, pki("ca.pem"), pki("ca.key"), pki("client.pem"), MODULE) != 0 ||
        take_sign_away() != 0)
        return -1;
    char directives[512];
    snprintf(directives, sizeof directives,
             "ssl_verify_client on; ssl_client_certificate %s; "
             "location /who { return 200 \"$ssl_client_s_dn\"; }",
             pki("ca.pem"));
    return peer_nginx(&web, directives);
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    if (dir[0])
        sh("rm -rf '%s'", dir);
    return 0;
}

/* A configuration with the client certificate cert and the key at uri
 * (through the SoftHSM module unless module says otherwise). */
static evtls_cfg *p11_cfg(const char *cert, const char *uri, const char *pin, const char *module)
{
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_non_null(cfg);
    assert_int_equal(evtls_cfg_set_client_cert_file(cfg, cert, uri, pin), 0);
    if (module)
        assert_int_equal(evtls_cfg_set_pkcs11_module(cfg, module), 0);
    return cfg;
}

struct who {
    int done, err, status;
    char body[256];
};

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct who *w = arg;
    w->done = 1;
    w->err = err;
    w->status = evtls_http_resp_get_status(r);
    size_t len = 0;
    const uint8_t *b = evtls_http_resp_get_body(r, &len);
    if (len >= sizeof w->body)
        len = sizeof w->body - 1;
    if (len)
        memcpy(w->body, b, len);
    w->body[len] = '\0';
}

/* Connects with cfg on base, asks nginx who it verified. */
static void who_am_i(struct event_base *base, evtls_cfg *cfg, struct who *w)
{
    memset(w, 0, sizeof *w);
    evtls_conn *c = evtls_conn_new(base, cfg);
    assert_non_null(c);
    struct connect_result cr;
    int rc = connect_wait(base, c, "localhost", web.port, &cr);
    if (rc != 0)
        fail_msg("connect: %s: %s", evtls_err_name(rc), cr.last.detail);
    evtls_http_req *req = evtls_http_req_new("GET", "localhost", "/who");
    evtls_http_cbs cbs = {NULL, NULL, on_done};
    assert_int_equal(evtls_http_exchange_start(c, req, NULL, &cbs, w, NULL), 0);
    evtls_http_req_free(req);
    run_until(base, &w->done, 15000);
    assert_true(w->done);
    evtls_conn_free(c);
}

/* The EC key by label with the PIN in the URI, and by id with the PIN in
 * a file; the RSA key by label with the PIN given apart, over TLS 1.3
 * (RSA-PSS) and TLS 1.2: nginx verified each certificate, so the token
 * signed each handshake. */
static void test_keys_in_the_token(void **state)
{
    struct loop_fx *f = *state;
    char uri[256];
    struct who w;
    evtls_cfg *cfg =
        p11_cfg(pki("client.pem"), "pkcs11:token=evtls;object=ec;type=private?pin-value=1234", NULL,
                MODULE);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    who_am_i(f->base, cfg, &w);
    assert_int_equal(w.status, 200);
    assert_non_null(strstr(w.body, "CN=evtls test client"));
    evtls_cfg_unref(cfg);
    snprintf(uri, sizeof uri, "pkcs11:token=evtls;id=%%01?pin-source=file:%s", pin_file);
    cfg = p11_cfg(pki("client.pem"), uri, NULL, MODULE);
    who_am_i(f->base, cfg, &w);
    assert_int_equal(w.status, 200);
    evtls_cfg_unref(cfg);
    /* P-384; and the certificate read from the token as well */
    cfg = p11_cfg(p384_cert, "pkcs11:token=evtls;object=p384", "1234", MODULE);
    who_am_i(f->base, cfg, &w);
    assert_non_null(strstr(w.body, "CN=evtls-p384-client"));
    evtls_cfg_unref(cfg);
    cfg = p11_cfg("pkcs11:token=evtls;object=ec-cert;type=cert", "pkcs11:token=evtls;id=%01",
                  "1234", MODULE);
    who_am_i(f->base, cfg, &w);
    assert_non_null(strstr(w.body, "CN=evtls test client"));
    evtls_cfg_unref(cfg);
    for (int tls12 = 0; tls12 <= 1; tls12++) {
        snprintf(uri, sizeof uri, "pkcs11:token=evtls;object=rsa?module-path=%s", MODULE);
        cfg = p11_cfg(rsa_cert, uri, "1234", NULL);
        if (tls12)
            assert_int_equal(evtls_cfg_set_tls_versions(cfg, EVTLS_TLS_1_2, EVTLS_TLS_1_2), 0);
        who_am_i(f->base, cfg, &w);
        assert_int_equal(w.status, 200);
        assert_non_null(strstr(w.body, "CN=evtls-rsa-client"));
        evtls_cfg_unref(cfg);
    }
}

/* Each failure at build time, BAD_CONFIG naming what is wrong. */
static void test_refusals_name_the_cause(void **state)
{
    (void)state;
    static const struct {
        const char *uri, *pin, *module, *says;
    } cases[] = {
        {"pkcs11:token=evtls;object=ec", "4321", MODULE, "wrong PIN"},
        {"pkcs11:token=evtls;object=nothing", "1234", MODULE, "no private key labelled 'nothing'"},
        {"pkcs11:token=other;object=ec", "1234", MODULE, "no token labelled 'other'"},
        {"pkcs11:token=evtls;object=ec", "1234", "/nonexistent/libp11.so", "no such file"},
        {"pkcs11:token=evtls;object=ec", "1234", NULL, "no module"},
        {"pkcs11:token=evtls;object=ec", NULL, MODULE, "no PIN"},
        {"pkcs11:token=evtls;object=ec;type=cert", "1234", MODULE, "names a certificate"},
        {"pkcs11:token=evtls;object=nosign", "1234", MODULE, "cannot sign"},
        {"pkcs11:token=evtls;object=ec", "1234", "/etc/hostname", "could not be loaded"},
        {"pkcs11:token=evtls;object=ec;colour=blue", "1234", MODULE, "unknown path attribute"},
        {"pkcs11:token=evtls;id=%zz", "1234", MODULE, "does not decode"},
        {"pkcs11:token=evtls", "1234", MODULE, "names no key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        evtls_cfg *cfg = p11_cfg(pki("client.pem"), cases[i].uri, cases[i].pin, cases[i].module);
        assert_int_equal(evtls_cfg_build(cfg), EVTLS_ERR_BAD_CONFIG);
        const char *d = evtls_cfg_get_last_error(cfg)->detail;
        if (strstr(d, cases[i].says) == NULL)
            fail_msg("%s: '%s' does not say '%s'", cases[i].uri, d, cases[i].says);
        evtls_cfg_unref(cfg);
    }
}

/* The key goes from the token after the build (another process deletes
 * it, as a token pulled out): the next handshake fails with the device's
 * own error, not a generic TLS one. */
static void test_key_gone_fails_the_handshake(void **state)
{
    struct loop_fx *f = *state;
    evtls_cfg *cfg = p11_cfg(pki("client.pem"), "pkcs11:token=evtls;object=gone", "1234", MODULE);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    assert_int_equal(sh("pkcs11-tool --module %s --token-label evtls --login --pin 1234 "
                        "--delete-object --type privkey --label gone >/dev/null 2>&1",
                        MODULE),
                     0);
    evtls_conn *c = evtls_conn_new(f->base, cfg);
    struct connect_result cr;
    int rc = connect_wait(f->base, c, "localhost", web.port, &cr);
    assert_int_equal(rc, EVTLS_ERR_KEY_DEVICE);
    assert_int_equal(evtls_err_get_class(rc), EVTLS_CLASS_TLS);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
}

/* Two threads, each its own loop and pool, share one configuration and its
 * token: 1,000 full handshakes, every one signed (the token's session
 * taken in turn). */
struct worker {
    evtls_cfg *cfg;
    int n, ok;
};

static void *worker_run(void *arg)
{
    struct worker *wk = arg;
    struct event_base *base = event_base_new();
    /* a pool per thread, each connection let go after its checkout and no
     * resumption: every checkout is a full handshake the token signs */
    evtls_pool_opts po;
    evtls_pool_opts_default(&po);
    po.resumption = 0;
    evtls_pool *pool = evtls_pool_new(base, &po);
    for (int i = 0; i < wk->n; i++) {
        struct got g;
        if (pool_checkout_wait(base, pool, wk->cfg, "localhost", web.port, &g) == 0) {
            wk->ok += !g.info.reused && !g.info.resumed;
            evtls_pool_release(pool, g.c);
        }
    }
    evtls_pool_free(pool);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    evtls_thread_cleanup(); /* the thread's ECC caches (Debian's wolfSSL keeps some) */
    return NULL;
}

static void test_threads_share_the_token(void **state)
{
    (void)state;
    evtls_cfg *cfg = p11_cfg(pki("client.pem"), "pkcs11:token=evtls;object=ec", "1234", MODULE);
    assert_int_equal(evtls_cfg_build(cfg), 0);
    /* 1,000 full handshakes, each signed by the token (under valgrind, an
     * eighth of them: the work, not a time, is scaled) */
    int n = (int)(500 / test_time_scale());
    struct worker wk[2] = {{cfg, n, 0}, {cfg, n, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &wk[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(wk[0].ok + wk[1].ok, 2 * n);
    evtls_cfg_unref(cfg);
}

/* The tools, as curl users write it: --key pkcs11:URI with
 * --pkcs11-module and --pin-file (evtls-poll) or the PIN in the URI
 * (evtls-load, ten threads: ten configurations on one token and one
 * wolfSSL device, where wolfSSL holds eight); a wrong PIN is a
 * configuration error (exit 2) naming it. */
static void test_tools_take_a_token_key(void **state)
{
    (void)state;
    static struct proc pr;
    char url[96];
    snprintf(url, sizeof url, "https://localhost:%u/who", web.port);
    /* the certificate from the token too, as curl's --cert pkcs11: */
    const char *poll[] = {EVTLS_POLL_PATH,
                          "--count",
                          "1",
                          "-s",
                          "--cacert",
                          pki("ca.pem"),
                          "--cert",
                          "pkcs11:token=evtls;object=ec-cert;type=cert",
                          "--key",
                          "pkcs11:token=evtls;object=ec",
                          "--pkcs11-module",
                          MODULE,
                          "--pin-file",
                          pin_file,
                          url,
                          NULL};
    assert_int_equal(proc_run(&pr, poll, 30000), 0);
    assert_non_null(strstr(pr.out, "CN=evtls test client"));
    char uri[256];
    snprintf(uri, sizeof uri, "pkcs11:token=evtls;object=rsa?pin-value=1234&module-path=%s",
             MODULE);
    const char *load[] = {EVTLS_LOAD_PATH,
                          "--cacert",
                          pki("ca.pem"),
                          "--cert",
                          rsa_cert,
                          "--key",
                          uri,
                          "-t",
                          "10",
                          "-c",
                          "10",
                          "-n",
                          "40",
                          "--requests-per-conn",
                          "1",
                          url,
                          NULL};
    if (proc_run(&pr, load, 60000) != 0)
        fail_msg("evtls-load: %s\n%s", pr.err, pr.out);
    assert_non_null(strstr(pr.out, "connections: 40 succeeded, 0 failed"));
    const char *wrong[] = {EVTLS_POLL_PATH,
                           "--count",
                           "1",
                           "--cacert",
                           pki("ca.pem"),
                           "--cert",
                           pki("client.pem"),
                           "--key",
                           "pkcs11:token=evtls;object=ec",
                           "--pkcs11-module",
                           MODULE,
                           "--key-password",
                           "9999",
                           url,
                           NULL};
    assert_int_equal(proc_run(&pr, wrong, 30000), 2);
    assert_non_null(strstr(pr.err, "wrong PIN"));
    const char *stray[] = {EVTLS_POLL_PATH, "--pin-file", pin_file, url, NULL};
    assert_int_equal(proc_run(&pr, stray, 30000), 2);
    assert_non_null(strstr(pr.err, "--pin-file is for a --key pkcs11:URI"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, loop_fx_setup, loop_fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_keys_in_the_token),
        cmocka_unit_test(test_refusals_name_the_cause),
        cmocka_unit_test(test_threads_share_the_token),
        cmocka_unit_test(test_tools_take_a_token_key),
        T(test_key_gone_fails_the_handshake),
    };
    return cmocka_run_group_tests_name("pkcs11", tests, group_setup, group_teardown);
}
