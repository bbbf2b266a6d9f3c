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

#include <evtls/evtls.h>
#include "evtls_session_int.h"

/* A fake session: one byte naming it. */
static void put_one(evtls_session_cache *sc, const char *key, uint8_t tag, int single)
{
    uint8_t *der = malloc(1);
    assert_non_null(der);
    der[0] = tag;
    evtls__session_put(sc, key, der, 1, single, "");
}

/* Returns the tag of the session the cache offers next, or -1. */
static int take_one(evtls_session_cache *sc, const char *key)
{
    uint8_t *der = NULL;
    size_t len = 0;
    if (!evtls__session_get(sc, key, &der, &len, NULL))
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

/* Each session keeps the ALPN protocol of its connection, through the
 * file too; a file of the first format (no ALPN) still loads; a bad ALPN
 * field loads nothing. */
static void test_session_alpn(void **state)
{
    (void)state;
    evtls_session_cache *sc = evtls_session_cache_new(0);
    uint8_t *der = malloc(1);
    der[0] = 7;
    evtls__session_put(sc, "o", der, 1, 1, "h2");
    der = malloc(1);
    der[0] = 8;
    evtls__session_put(sc, "o", der, 1, 0, "http/1.1");
    const char *path = file_of("");
    assert_int_equal(evtls_session_cache_save(sc, path), 0);
    evtls_session_cache *sc2 = evtls_session_cache_new(0);
    assert_int_equal(evtls_session_cache_load(sc2, path), 2);
    char alpn[16];
    size_t len;
    uint8_t *got = NULL;
    assert_true(evtls__session_get(sc2, "o", &got, &len, alpn)); /* the newer: reusable */
    assert_int_equal(got[0], 8);
    assert_string_equal(alpn, "http/1.1");
    free(got);
    evtls_session_cache_clear(sc2);
    assert_int_equal(evtls_session_cache_load(sc2, file_of("evtls-sessions 1\nk\t1\t0a\n")), 1);
    assert_true(evtls__session_get(sc2, "k", &got, &len, alpn));
    assert_string_equal(alpn, "");
    free(got);
    assert_int_equal(evtls_session_cache_load(sc2, file_of("evtls-sessions 2\nk\t1\th 2\t0a\n")),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_session_cache_load(sc2, file_of("evtls-sessions 2\nk\t1\t0a\n")),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_session_cache_load(sc2, file_of("evtls-sessions 2\nk\t1\th2\t0a\n")), 1);
    assert_true(evtls__session_get(sc2, "k", &got, &len, alpn));
    assert_string_equal(alpn, "h2");
    free(got);
    unlink(path);
    evtls_session_cache_unref(sc2);
    evtls_session_cache_unref(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_cache_ring),
        cmocka_unit_test(test_session_alpn),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
