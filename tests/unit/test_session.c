/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_session.c - the session cache: single-use TLS 1.3 tickets in a ring, a reusable TLS 1.2
 * session. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <evtls/evtls.h>
#include "evtls_session_int.h"

/* A session of this build's wolfSSL named by tag (its timeout), as
 * wolfSSL serialises it: a session file keeps only such. */
static uint8_t *session_of(uint8_t tag, size_t *len)
{
    WOLFSSL_SESSION *s = wolfSSL_SESSION_new();
    assert_non_null(s);
    assert_int_equal(wolfSSL_SSL_SESSION_set_timeout(s, 1000 + tag), WOLFSSL_SUCCESS);
    int n = wolfSSL_i2d_SSL_SESSION(s, NULL);
    assert_true(n > 0);
    uint8_t *der = malloc((size_t)n), *p = der;
    assert_non_null(der);
    assert_int_equal(wolfSSL_i2d_SSL_SESSION(s, &p), n);
    wolfSSL_SESSION_free(s);
    *len = (size_t)n;
    return der;
}

static int tag_of(const uint8_t *der, size_t len)
{
    const unsigned char *q = der;
    WOLFSSL_SESSION *s = wolfSSL_d2i_SSL_SESSION(NULL, &q, (long)len);
    assert_non_null(s);
    int tag = (int)wolfSSL_SESSION_get_timeout(s) - 1000;
    wolfSSL_SESSION_free(s);
    return tag;
}

static void put_one(evtls_session_cache *sc, const char *key, uint8_t tag, int single)
{
    size_t len;
    uint8_t *der = session_of(tag, &len);
    evtls__session_put(sc, key, der, len, single, "");
}

/* Returns the tag of the session the cache offers next, or -1. */
static int take_one(evtls_session_cache *sc, const char *key)
{
    uint8_t *der = NULL;
    size_t len = 0;
    if (!evtls__session_get(sc, key, &der, &len, NULL))
        return -1;
    int tag = tag_of(der, len);
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

/* Writes text as a session file of this user's own; returns its path. */
static const char *file_of(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/evtls-sess-alpn-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    return path;
}

/* A session file's line: key, single use, ALPN (unless NULL: format 1)
 * and the session tagged tag in hex. */
static const char *line_of(const char *key, const char *alpn, uint8_t tag)
{
    static char line[1024];
    size_t len;
    uint8_t *der = session_of(tag, &len);
    int n = snprintf(line, sizeof line, "%s\t1\t%s%s", key, alpn ? alpn : "", alpn ? "\t" : "");
    for (size_t i = 0; i < len && (size_t)n + 3 < sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%02x", der[i]);
    snprintf(line + n, sizeof line - (size_t)n, "\n");
    free(der);
    return line;
}

static const char *text_of(const char *head, const char *line)
{
    static char text[1200];
    snprintf(text, sizeof text, "%s\n%s", head, line);
    return text;
}

/* Each session keeps the ALPN protocol of its connection, through the
 * file too; files of the first formats (no ALPN, no layout) still load
 * what this build reads back whole; a bad ALPN field loads nothing; a
 * file of another build's session layout is refused. */
static void test_session_alpn(void **state)
{
    (void)state;
    evtls_session_cache *sc = evtls_session_cache_new(0);
    size_t n;
    uint8_t *der = session_of(7, &n);
    evtls__session_put(sc, "o", der, n, 1, "h2");
    der = session_of(8, &n);
    evtls__session_put(sc, "o", der, n, 0, "http/1.1");
    const char *path = file_of("");
    assert_int_equal(evtls_session_cache_save(sc, path), 0);
    evtls_session_cache *sc2 = evtls_session_cache_new(0);
    assert_int_equal(evtls_session_cache_load(sc2, path), 2);
    char alpn[16];
    size_t len;
    uint8_t *got = NULL;
    assert_true(evtls__session_get(sc2, "o", &got, &len, alpn)); /* the newer: reusable */
    assert_int_equal(tag_of(got, len), 8);
    assert_string_equal(alpn, "http/1.1");
    free(got);
    evtls_session_cache_clear(sc2);
    assert_int_equal(
        evtls_session_cache_load(sc2, file_of(text_of("evtls-sessions 1", line_of("k", NULL, 3)))),
        1);
    assert_true(evtls__session_get(sc2, "k", &got, &len, alpn));
    assert_string_equal(alpn, "");
    free(got);
    assert_int_equal(
        evtls_session_cache_load(sc2, file_of(text_of("evtls-sessions 2", line_of("k", "h 2", 3)))),
        EVTLS_ERR_INVALID_ARG);
    assert_int_equal(
        evtls_session_cache_load(sc2, file_of(text_of("evtls-sessions 2", line_of("k", NULL, 3)))),
        EVTLS_ERR_INVALID_ARG);
    assert_int_equal(
        evtls_session_cache_load(sc2, file_of(text_of("evtls-sessions 2", line_of("k", "h2", 4)))),
        1);
    assert_true(evtls__session_get(sc2, "k", &got, &len, alpn));
    assert_string_equal(alpn, "h2");
    free(got);
    /* A session this build does not read back whole (another build's
     * layout, or damaged) is left out; the others load. */
    char two[2400];
    snprintf(two, sizeof two, "%s", line_of("k", "h2", 5));
    snprintf(two + strlen(two), sizeof two - strlen(two), "%s", "k\t1\th2\t0a0b0c\n");
    assert_int_equal(evtls_session_cache_load(sc2, file_of(text_of("evtls-sessions 2", two))), 1);
    /* Format 3 names the layout: another one is refused whole. */
    char head[160];
    assert_int_equal(evtls_session_cache_save(sc, path), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    assert_int_equal(strncmp(head, "evtls-sessions 3 wolfssl-", 25), 0);
    head[strcspn(head, "\n")] = '\0';
    assert_true(evtls_session_cache_load(sc2, file_of(text_of(head, line_of("k", "h2", 6)))) == 1);
    char other[200];
    snprintf(other, sizeof other, "%s", head);
    other[strlen(other) - 1] = other[strlen(other) - 1] == '-' ? 'Z' : '-'; /* one field differs */
    assert_int_equal(evtls_session_cache_load(sc2, file_of(text_of(other, line_of("k", "h2", 7)))),
                     EVTLS_ERR_INVALID_ARG);
    unlink(path);
    evtls_session_cache_unref(sc2);
    evtls_session_cache_unref(sc);
}

/* A file split between threads: each share's sessions once, none twice;
 * the threads' caches merged back into one, oldest first. */
static void test_share_and_merge(void **state)
{
    (void)state;
    evtls_session_cache *sc = evtls_session_cache_new(0);
    assert_int_equal(evtls_session_cache_set_capacity(sc, 8), 0);
    for (uint8_t tag = 1; tag <= 5; tag++)
        put_one(sc, "k", tag, 1);
    const char *path = file_of("");
    assert_int_equal(evtls_session_cache_save(sc, path), 0);
    evtls_session_cache *a = evtls_session_cache_new(0), *b = evtls_session_cache_new(0);
    assert_int_equal(evtls_session_cache_set_capacity(a, 8), 0);
    assert_int_equal(evtls_session_cache_set_capacity(b, 8), 0);
    assert_int_equal(evtls_session_cache_load_share(a, path, 0, 2), 3); /* 1, 3, 5 */
    assert_int_equal(evtls_session_cache_load_share(b, path, 1, 2), 2); /* 2, 4 */
    assert_int_equal(evtls_session_cache_load_share(b, path, 2, 2), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(take_one(a, "k"), 5);
    assert_int_equal(take_one(b, "k"), 4);
    /* merged: a's then b's, each oldest first: b's newest is taken first */
    evtls_session_cache *m = evtls_session_cache_new(0);
    assert_int_equal(evtls_session_cache_set_capacity(m, 8), 0);
    assert_int_equal(evtls_session_cache_merge(m, a), 2);
    assert_int_equal(evtls_session_cache_merge(m, b), 1);
    assert_int_equal(evtls_session_cache_merge(m, m), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(take_one(m, "k"), 2);
    assert_int_equal(take_one(m, "k"), 3);
    assert_int_equal(take_one(m, "k"), 1);
    assert_int_equal(take_one(m, "k"), -1);
    assert_int_equal(take_one(a, "k"), 3); /* the sources keep theirs */
    unlink(path);
    evtls_session_cache_unref(m);
    evtls_session_cache_unref(a);
    evtls_session_cache_unref(b);
    evtls_session_cache_unref(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_cache_ring),
        cmocka_unit_test(test_session_alpn),
        cmocka_unit_test(test_share_and_merge),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
