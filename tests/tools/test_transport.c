/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_transport.c - what esp-tls and curl users configure, each against a
 * real peer and run as a user runs the tools: TLS-PSK (openssl s_server
 * -nocert -psk, TLS 1.3 and 1.2), plain TCP (nginx's plain listener), an
 * HTTP CONNECT proxy (tinyproxy: flag, environment, no_proxy, credentials,
 * refusal, a dead proxy), public-key pinning and interface binding; each
 * with its bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <evtls/evtls.h>

#include "harness.h"
#include "peer.h"
#include "proc.h"

#define PSK_ID  "device-17"
#define PSK_KEY "00112233445566778899aabbccddeeff"

static struct peer web; /* nginx: TLS on web.port, plain on plain_port */
static uint16_t plain_port;
static struct peer proxy;      /* tinyproxy, open */
static struct peer proxy_auth; /* tinyproxy asking for "evtls s3cret" */
static char url_tls[96], url_plain[96], pin[128];
static struct proc pr;

static int group_setup(void **state)
{
    (void)state;
    unsetenv("EVTLS_LOG");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("http_proxy");
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    plain_port = unused_port();
    char directives[128];
    snprintf(directives, sizeof directives, "listen 127.0.0.1:%u;", plain_port);
    if (peer_nginx(&web, directives) != 0 || peer_tinyproxy(&proxy, NULL) != 0 ||
        peer_tinyproxy(&proxy_auth, "evtls s3cret") != 0)
        return -1;
    snprintf(url_tls, sizeof url_tls, "https://localhost:%u/", web.port);
    snprintf(url_plain, sizeof url_plain, "http://127.0.0.1:%u/", plain_port);
    /* The server key's pin, as curl's documentation computes it. */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl pkey -in %s -pubout -outform DER | openssl dgst -sha256 -binary | "
             "openssl base64",
             pki("server.key"));
    FILE *f = popen(cmd, "r");
    char b64[64] = "";
    if (f == NULL || fgets(b64, sizeof b64, f) == NULL)
        return -1;
    pclose(f);
    b64[strcspn(b64, "\n")] = '\0';
    snprintf(pin, sizeof pin, "sha256//%s", b64);
    return strlen(b64) == 44 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    peer_stop(&web);
    peer_stop(&proxy);
    peer_stop(&proxy_auth);
    return 0;
}

static int run_va(const char *path, unsigned timeout_ms, va_list ap)
{
    int st = proc_run_va(&pr, path, timeout_ms, ap);
    if (st < 0)
        fail_msg("%s did not end in %u ms; stdout:\n%s\nstderr:\n%s", path, timeout_ms, pr.out,
                 pr.err);
    return st;
}

/* Runs evtls-poll (one round, quiet, trusting the test CA) with more
 * arguments (NULL-terminated). */
static int poll(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    const char *argv[24] = {EVTLS_POLL_PATH, "--count", "1", "--quiet", "--cacert", pki("ca.pem")};
    int n = 6;
    for (const char *a = first; a && n < 23; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int st = proc_run(&pr, argv, 60000);
    if (st < 0)
        fail_msg("evtls-poll did not end; stdout:\n%s\nstderr:\n%s", pr.out, pr.err);
    return st;
}

static int load(unsigned timeout_ms, ...)
{
    va_list ap;
    va_start(ap, timeout_ms);
    int st = run_va(EVTLS_LOAD_PATH, timeout_ms, ap);
    va_end(ap);
    return st;
}

/* The exit status, and a needle in stdout or stderr (NULL: none). */
static void expect(int st, int want, const char *needle)
{
    if (st != want || (needle && strstr(pr.out, needle) == NULL && strstr(pr.err, needle) == NULL))
        fail_msg("exit %d (expected %d), '%s' expected in\nstdout:\n%s\nstderr:\n%s", st, want,
                 needle ? needle : "", pr.out, pr.err);
}

static int log_lines(const struct peer *p, const char *needle)
{
    char path[300], line[1024];
    snprintf(path, sizeof path, "%s/tinyproxy.log", p->dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* ---- TLS-PSK */

static void test_psk(void **state)
{
    (void)state;
    const char *tls13[] = {"-nocert", "-psk", PSK_KEY, "-psk_identity", PSK_ID, "-tls1_3", NULL};
    const char *tls12[] = {"-nocert", "-psk", PSK_KEY, "-psk_identity", PSK_ID, "-tls1_2",
                           "-cipher", "PSK",  NULL};
    struct peer s13, s12;
    assert_int_equal(peer_s_server(&s13, tls13), 0);
    assert_int_equal(peer_s_server(&s12, tls12), 0);
    char u13[64], u12[64];
    snprintf(u13, sizeof u13, "https://127.0.0.1:%u/", s13.port);
    snprintf(u12, sizeof u12, "https://127.0.0.1:%u/", s12.port);
    /* No certificate anywhere: the key is the trust. */
    expect(poll("--psk-identity", PSK_ID, "--psk-key", PSK_KEY, u13, NULL), 0, "HTTP/1.0 200");
    expect(poll("--psk-identity", PSK_ID, "--psk-key", PSK_KEY, "--tls-max", "1.2", u12, NULL), 0,
           "HTTP/1.0 200");
    /* A TLS 1.2-only PSK server without --tls-max: wolfSSL 5.5 cannot take
     * the downgrade after a TLS 1.3 PSK offer; the error says what to set. */
    expect(poll("--psk-identity", PSK_ID, "--psk-key", PSK_KEY, u12, NULL), 35,
           "(PROTOCOL_VERSION): the server answered a TLS 1.3 PSK offer with TLS 1.2");
    /* A key the server does not share: its own error, both versions. */
    expect(
        poll("--psk-identity", PSK_ID, "--psk-key", "00112233445566778899aabbccddee00", u13, NULL),
        35, "(PSK)"); /* curl's TLS failure */
    expect(poll("--psk-identity", PSK_ID, "--psk-key", "00112233445566778899aabbccddee00",
                "--tls-max", "1.2", u12, NULL),
           35, "(PSK)");
    /* Without a PSK the certificate-less server cannot be talked to. */
    expect(poll(u13, NULL), 35, "round 1 failed");
    /* Bad input: usage errors naming the option. */
    expect(poll("--psk-identity", PSK_ID, "--psk-key", "xyz", u13, NULL), 2, "--psk-key");
    expect(poll("--psk-identity", PSK_ID, u13, NULL), 2, "--psk-identity needs --psk-key");
    /* evtls-load: handshakes with the PSK. */
    /* evtls-load names a bad key too. */
    expect(load(60000, "--psk-identity", PSK_ID, "--psk-key", "0g", "127.0.0.1:1", NULL), 2,
           "--psk-key: '0g'");
    char hp[32];
    snprintf(hp, sizeof hp, "127.0.0.1:%u", s13.port);
    expect(
        load(60000, "--psk-identity", PSK_ID, "--psk-key", PSK_KEY, "-n", "6", "-c", "2", hp, NULL),
        0, "connections: 6 succeeded");
    peer_stop(&s13);
    peer_stop(&s12);
}

/* ---- plain TCP */

static void test_plain_tcp(void **state)
{
    (void)state;
    expect(poll(url_plain, NULL), 0, "HTTP/1.1 200");
    expect(poll("--json", url_plain, NULL), 0, "\"status\":200");
    expect(load(60000, "-m", "request", "-n", "20", "-c", "2", url_plain, NULL), 0,
           "requests: 20 succeeded");
    expect(poll(url_plain, NULL), 0, "plain TCP, no TLS");
    /* Plain HTTP at the TLS port: nginx's own answer to that, 400. */
    char wrong[96];
    snprintf(wrong, sizeof wrong, "http://127.0.0.1:%u/", web.port);
    expect(poll(wrong, NULL), 22, "400 Bad Request"); /* a 4xx fails the round, as curl -f */
    /* The library: the same pool keeps plain and TLS connections to one
     * host apart (origins are per configuration). */
    struct event_base *base = event_base_new();
    evtls_pool *p = evtls_pool_new(base, NULL);
    evtls_cfg *plain = test_cfg(0, 0), *tls = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_plain_tcp(plain, 1), 0);
    struct got g1 = {0}, g2 = {0};
    assert_int_equal(pool_checkout_wait(base, p, plain, "127.0.0.1", plain_port, &g1), 0);
    assert_int_equal(pool_checkout_wait(base, p, tls, "127.0.0.1", web.port, &g2), 0);
    assert_string_equal(evtls_conn_get_info(g1.c)->tls_version, "none");
    assert_string_equal(evtls_conn_get_info(g2.c)->tls_version, "TLSv1.3");
    evtls_pool_stats st;
    evtls_pool_get_stats(p, &st);
    assert_int_equal(st.origins, 2);
    evtls_pool_release(p, g1.c);
    evtls_pool_release(p, g2.c);
    evtls_pool_free(p);
    /* plain TCP with a PSK or a pin is a configuration error. */
    evtls_cfg *bad = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_plain_tcp(bad, 1), 0);
    assert_int_equal(evtls_cfg_set_pinned_pubkey(bad, pin), 0);
    assert_int_equal(evtls_cfg_build(bad), EVTLS_ERR_BAD_CONFIG);
    assert_non_null(strstr(evtls_cfg_get_last_error(bad)->detail, "plain_tcp"));
    evtls_cfg_unref(bad);
    evtls_cfg_unref(plain);
    evtls_cfg_unref(tls);
    event_base_free(base);
}

/* ---- HTTP CONNECT proxy */

static void test_proxy(void **state)
{
    (void)state;
    char purl[64], pauth[96], pauth_bad[96], dead[64];
    snprintf(purl, sizeof purl, "http://127.0.0.1:%u", proxy.port);
    snprintf(pauth, sizeof pauth, "http://evtls:s3cret@127.0.0.1:%u", proxy_auth.port);
    snprintf(pauth_bad, sizeof pauth_bad, "http://evtls:wrong@127.0.0.1:%u", proxy_auth.port);
    snprintf(dead, sizeof dead, "http://127.0.0.1:%u", unused_port());
    int before = log_lines(&proxy, "Request (file descriptor");
    /* The flag: TLS to the origin through the tunnel, verified as usual. */
    expect(poll("--proxy", purl, url_tls, NULL), 0, "HTTP/1.1 200");
    assert_int_equal(log_lines(&proxy, "Request (file descriptor"), before + 1);
    /* The environment, as curl reads it. */
    setenv("https_proxy", purl, 1);
    expect(poll(url_tls, NULL), 0, "HTTP/1.1 200");
    assert_int_equal(log_lines(&proxy, "Request (file descriptor"), before + 2);
    setenv("no_proxy", "example.test,localhost", 1); /* localhost goes direct */
    expect(poll(url_tls, NULL), 0, "HTTP/1.1 200");
    assert_int_equal(log_lines(&proxy, "Request (file descriptor"), before + 2);
    unsetenv("no_proxy");
    expect(poll("--proxy", "", url_tls, NULL), 0, "HTTP/1.1 200"); /* "" wins */
    assert_int_equal(log_lines(&proxy, "Request (file descriptor"), before + 2);
    unsetenv("https_proxy");
    setenv("HTTPS_PROXY", purl, 1);
    expect(poll(url_tls, NULL), 0, "HTTP/1.1 200");
    assert_int_equal(log_lines(&proxy, "Request (file descriptor"), before + 3);
    unsetenv("HTTPS_PROXY");
    /* http_proxy serves http:// URLs (plain TCP through the tunnel). */
    setenv("http_proxy", purl, 1);
    expect(poll(url_plain, NULL), 0, "HTTP/1.1 200");
    assert_int_equal(log_lines(&proxy, "Request (file descriptor"), before + 4);
    unsetenv("http_proxy");
    /* Credentials: accepted; wrong ones are the proxy's refusal, with its
     * status line; a dead proxy is another error. */
    expect(poll("--proxy", pauth, url_tls, NULL), 0, "HTTP/1.1 200");
    expect(poll("--proxy", pauth_bad, url_tls, NULL), 56, "(PROXY_REFUSED)"); /* curl's 56 */
    expect(1, 1, "HTTP/1.0 401"); /* the proxy's status line (tinyproxy's 401) is in the error */
    expect(poll("--proxy", dead, url_tls, NULL), 7, "(PROXY_CONNECT)");
    expect(poll("--proxy", "https://127.0.0.1:3128", url_tls, NULL), 2, "--proxy");
    /* evtls-load through the proxy: every connection is a tunnel. */
    int was = log_lines(&proxy, "Request (file descriptor");
    expect(load(60000, "--cacert", pki("ca.pem"), "--proxy", purl, "-m", "request", "-n", "10",
                "-c", "2", url_tls, NULL),
           0, "requests: 10 succeeded");
    assert_int_equal(log_lines(&proxy, "Request (file descriptor"), was + 2);
}

/* The library: the state machine goes through PROXYING, and the session
 * and the pool are the origin's. */
static void test_proxy_library(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    evtls_cfg *cfg = test_cfg(0, 0);
    char purl[64];
    snprintf(purl, sizeof purl, "http://127.0.0.1:%u", proxy.port);
    assert_int_equal(evtls_cfg_set_proxy(cfg, purl), 0);
    assert_int_equal(evtls_cfg_set_proxy(cfg, "socks5://x:1"), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_cfg_set_proxy(cfg, "http://h:99999"), EVTLS_ERR_INVALID_ARG);
    evtls_conn *c = evtls_conn_new(base, cfg);
    struct connect_result r;
    assert_int_equal(connect_wait(base, c, "localhost", web.port, &r), 0);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    assert_string_equal(i->peer_addr, "127.0.0.1"); /* the proxy's */
    assert_true(i->proxy_us > 0);
    assert_string_equal(i->tls_version, "TLSv1.3");
    char buf[4096];
    size_t len;
    exchange(base, c, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", buf, sizeof buf, &len);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    event_base_free(base);
}

/* ---- public-key pinning */

static void test_pinning(void **state)
{
    (void)state;
    static const char zero_pin[] = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    char two[256];
    snprintf(two, sizeof two, "%s; %s", zero_pin, pin);
    expect(poll("--pinnedpubkey", pin, url_tls, NULL), 0, "HTTP/1.1 200");
    expect(poll("--pinnedpubkey", two, url_tls, NULL), 0, "HTTP/1.1 200");
    /* The chain verifies, the key is not the pinned one. */
    expect(poll("--pinnedpubkey", zero_pin, url_tls, NULL), 90, "(PIN_MISMATCH)");
    /* Even with verification off, the pin is checked. */
    expect(poll("--insecure", "--pinnedpubkey", zero_pin, url_tls, NULL), 90, "(PIN_MISMATCH)");
    expect(poll("--insecure", "--pinnedpubkey", pin, url_tls, NULL), 0, "HTTP/1.1 200");
    expect(poll("--pinnedpubkey", "sha1//abc", url_tls, NULL), 2, "--pinnedpubkey");
    expect(poll("--pinnedpubkey", "sha256//!!!!", url_tls, NULL), 2, "--pinnedpubkey");
    char hp[32];
    snprintf(hp, sizeof hp, "localhost:%u", web.port);
    expect(load(60000, "--cacert", pki("ca.pem"), "--pinnedpubkey", zero_pin, "-n", "3", "-c", "1",
                hp, NULL),
           1, "PIN_MISMATCH");
}

/* ---- interface binding */

static void test_interface(void **state)
{
    (void)state;
    expect(poll("--interface", "lo", url_tls, NULL), 0, "HTTP/1.1 200");
    expect(poll("--interface", "nosuch0", url_tls, NULL), 2, "'nosuch0'");
    /* The library binds every socket (SO_BINDTODEVICE). */
    struct event_base *base = event_base_new();
    evtls_cfg *cfg = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_interface(cfg, "lo"), 0);
    evtls_conn *c = evtls_conn_new(base, cfg);
    struct connect_result r;
    assert_int_equal(connect_wait(base, c, "127.0.0.1", web.port, &r), 0);
    char dev[IFNAMSIZ] = "";
    socklen_t dlen = sizeof dev;
    assert_int_equal(getsockopt(evtls_conn_get_fd(c), SOL_SOCKET, SO_BINDTODEVICE, dev, &dlen), 0);
    assert_string_equal(dev, "lo");
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    evtls_cfg *too_long = test_cfg(0, 0);
    assert_int_equal(evtls_cfg_set_interface(too_long, "a-name-longer-than-sixteen"),
                     EVTLS_ERR_INVALID_ARG);
    evtls_cfg_unref(too_long);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psk),     cmocka_unit_test(test_plain_tcp),
        cmocka_unit_test(test_proxy),   cmocka_unit_test(test_proxy_library),
        cmocka_unit_test(test_pinning), cmocka_unit_test(test_interface),
    };
    return cmocka_run_group_tests_name("transport", tests, group_setup, group_teardown);
}
