/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_null_args.c - NULL where a pointer is expected, for every public
 * function: the table (null_calls.h) is generated from the headers at
 * build time, one call per pointer parameter made NULL with every other
 * argument valid. Each call must return, not crash (the suite runs this
 * under ASan+UBSan and valgrind too), and say so: a function returning int
 * gives an error (< 0), one returning a pointer gives NULL, unless the
 * list below says why NULL is a valid value there. A declared function
 * missing from the table fails the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evtls/evtls.h>

struct null_call {
    const char *fn;
    long (*call)(void);
    int param; /* the parameter made NULL */
    int kind;  /* 0: void or a value; 1: an int status; 2: a pointer */
};

/* ---- valid arguments: objects made fresh for each call, let go after */

static char bytes_buf[256] = "x";
static struct event_base *the_base;

#define KEEP_MAX 16
static void *kept[KEEP_MAX];
static void (*kept_free[KEEP_MAX])(void *);
static int n_kept;

static void keep(void *obj, void (*fr)(void *))
{
    assert_true(n_kept < KEEP_MAX);
    kept[n_kept] = obj;
    kept_free[n_kept++] = fr;
}

/* Let go in the reverse order of making: a client before its cfg. */
static void release_all(void)
{
    while (n_kept > 0) {
        n_kept--;
        kept_free[n_kept](kept[n_kept]);
    }
    /* What a freed object hands to the loop (a cancelled DNS query's
     * answer from libevent) completes on the loop's next turn. */
    event_base_loop(the_base, EVLOOP_NONBLOCK);
}

static void free_cfg(void *o)
{
    evtls_cfg_unref(o);
}
static void free_pool(void *o)
{
    evtls_pool_free(o);
}
static void free_client(void *o)
{
    evtls_client_free(o);
}
static void free_conn(void *o)
{
    evtls_conn_free(o);
}
static void free_resolver(void *o)
{
    evtls_resolver_unref(o);
}
static void free_sessions(void *o)
{
    evtls_session_cache_unref(o);
}
static void free_req(void *o)
{
    evtls_http_req_free(o);
}

static void keep_evtls_cfg(evtls_cfg *o)
{
    keep(o, free_cfg);
}
static void keep_evtls_pool(evtls_pool *o)
{
    keep(o, free_pool);
}
static void keep_evtls_client(evtls_client *o)
{
    keep(o, free_client);
}
static void keep_evtls_conn(evtls_conn *o)
{
    keep(o, free_conn);
}
static void keep_evtls_resolver(evtls_resolver *o)
{
    keep(o, free_resolver);
}
static void keep_evtls_session_cache(evtls_session_cache *o)
{
    keep(o, free_sessions);
}
static void keep_evtls_http_req(evtls_http_req *o)
{
    keep(o, free_req);
}

static struct event_base *make_event_base(void)
{
    return the_base;
}

static evtls_cfg *make_evtls_cfg(void)
{
    evtls_cfg *o = evtls_cfg_new();
    assert_non_null(o);
    keep_evtls_cfg(o);
    return o;
}

static evtls_pool *make_evtls_pool(void)
{
    evtls_pool *o = evtls_pool_new(the_base, NULL);
    assert_non_null(o);
    keep_evtls_pool(o);
    return o;
}

static evtls_client *make_evtls_client(void)
{
    evtls_cfg *cfg = make_evtls_cfg();
    evtls_cfg_set_system_ca(cfg, 0); /* nothing to read: the client builds it */
    evtls_client *o = evtls_client_new(the_base, cfg, NULL);
    assert_non_null(o);
    keep_evtls_client(o);
    return o;
}

static evtls_conn *make_evtls_conn(void)
{
    evtls_conn *o = evtls_conn_new(the_base, make_evtls_cfg());
    assert_non_null(o);
    keep_evtls_conn(o);
    return o;
}

static evtls_resolver *make_evtls_resolver(void)
{
    evtls_resolver *o = evtls_resolver_new(the_base, "127.0.0.1");
    assert_non_null(o);
    keep_evtls_resolver(o);
    return o;
}

static evtls_session_cache *make_evtls_session_cache(void)
{
    evtls_session_cache *o = evtls_session_cache_new(4);
    assert_non_null(o);
    keep_evtls_session_cache(o);
    return o;
}

static evtls_http_req *make_evtls_http_req(void)
{
    evtls_http_req *o = evtls_http_req_new("GET", "localhost", "/");
    assert_non_null(o);
    keep_evtls_http_req(o);
    return o;
}

/* Any callback type's valid value: never called by a call that fails
 * its argument check. */
static void any_callback(void)
{
    fail_msg("a callback was called from a call with a NULL argument");
}

#include "null_calls.h"

/* Where NULL is a valid value, and what the function then does. */
static const struct {
    const char *fn;
    int param;
    const char *why;
} valid_null[] = {
    {"evtls_client_new_sized", 1, "a NULL cfg is a default one (the system trust store)"},
    {"evtls_client_new_sized", 2, "NULL opts are the defaults"},
    {"evtls_pool_new_sized", 1, "NULL opts are the defaults"},
    {"evtls_conn_new", 1, "a NULL cfg is a default one"},
    {"evtls_resolver_new", 1, "a NULL name server: /etc/resolv.conf's"},
    {"evtls_http_exchange_start_sized", 2, "NULL opts are the defaults"},
    {"evtls_conn_new", 0, "a NULL base: the connection owns a private one (polling)"},
    {"evtls_conn_set_retry_cb", 1, "a NULL callback removes it"},
    {"evtls_conn_set_drain_cb", 1, "a NULL callback removes it"},
    {"evtls_conn_set_session_cache", 1, "NULL: no session cache"},
    {"evtls_conn_set_early_data", 1, "NULL: the bytes speak HTTP/1.1"},
    {"evtls_conn_check_alive", 0, "0: not usable (a value, not a status)"},
    {"evtls_http_method_early_safe", 0, "0: not safe (a value, not a status)"},
    {"evtls_conn_connect_poll", 3, "want is optional"},
    {"evtls_conn_close", 1, "a NULL callback: nobody is told"},
    {"evtls_conn_shutdown", 1, "a NULL callback: nobody is told"},
    {"evtls_last_error_format", 0, "a NULL record formats as no error"},
    {"evtls_cfg_set_ca_file", 1, "NULL: none"},
    {"evtls_cfg_set_ca_dir", 1, "NULL: none"},
    {"evtls_cfg_set_crl_file", 1, "NULL: none"},
    {"evtls_cfg_set_pkcs11_module", 1, "NULL: none"},
    {"evtls_cfg_set_client_cert", 5, "NULL: a key without a password"},
    {"evtls_cfg_set_client_cert_file", 3, "NULL: a key without a password"},
    {"evtls_cfg_set_alpn", 1, "NULL: no ALPN"},
    {"evtls_cfg_set_server_name", 1, "NULL: the host connected to"},
    {"evtls_cfg_set_ciphers", 1, "NULL: the default suites"},
    {"evtls_cfg_set_groups", 1, "NULL: the default groups"},
    {"evtls_cfg_set_psk", 1, "a NULL identity turns TLS-PSK off"},
    {"evtls_cfg_set_proxy", 1, "NULL: no proxy (not even from the environment)"},
    {"evtls_cfg_set_pinned_pubkey", 1, "NULL: no pins"},
    {"evtls_cfg_set_interface", 1, "NULL: no interface"},
    {"evtls_http_req_get_bytes", 1, "len is optional"},
    {"evtls_http_resp_get_status", 0, "0: no response (a value, not a status)"},
    {"evtls_http_resp_get_reason", 0, "\"\": no response"},
    {"evtls_http_resp_get_protocol", 0, "\"\": no response"},
    {"evtls_http_resp_get_minor_version", 0, "0 (a value, not a status)"},
    {"evtls_http_resp_get_keep_alive", 0, "0: not reusable (a value, not a status)"},
    {"evtls_http_retry_safe", 2, "no response at all: the common case of the question"},
    {"evtls_log_set_handler", 0, "NULL restores the default handler (stderr)"},
    {"evtls_pool_set_state_cb", 1, "a NULL callback removes it"},
    {"evtls_resolver_set_hosts_file", 1, "NULL: no hosts file, DNS only"},
};

static const char *why_valid(const char *fn, int param)
{
    for (size_t i = 0; i < sizeof valid_null / sizeof valid_null[0]; i++)
        if (strcmp(valid_null[i].fn, fn) == 0 && valid_null[i].param == param)
            return valid_null[i].why;
    return NULL;
}

static void test_every_function_is_in_the_table(void **state)
{
    (void)state;
    size_t n = sizeof declared_functions / sizeof declared_functions[0];
    assert_true(n >= 100);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = 0; j < sizeof null_calls / sizeof null_calls[0]; j++)
            found |= strcmp(null_calls[j].fn, declared_functions[i]) == 0;
        if (!found)
            fail_msg("%s is declared but not in the NULL table", declared_functions[i]);
    }
}

static void test_null_arguments(void **state)
{
    (void)state;
    int bad = 0, calls = 0;
    for (size_t i = 0; i < sizeof null_calls / sizeof null_calls[0]; i++) {
        const struct null_call *c = &null_calls[i];
        if (c->call == NULL)
            continue; /* no pointer parameter */
        calls++;
        if (getenv("EVTLS_NULL_TRACE")) /* which call, if one crashes */
            fprintf(stderr, "%s, parameter %d NULL\n", c->fn, c->param);
        long r = c->call();
        const char *why = why_valid(c->fn, c->param);
        int refused = c->kind == 1 ? r < 0 : c->kind == 2 ? r == 0 : 1;
        if (!refused && why == NULL) {
            printf("  %s with parameter %d NULL: %s %ld, not refused\n", c->fn, c->param,
                   c->kind == 1 ? "returned" : "returned an object,", r);
            bad++;
        }
    }
    printf("%d calls with a NULL argument, %d not refused\n", calls, bad);
    assert_int_equal(bad, 0);
}

int main(void)
{
    evtls_log_set_level(EVTLS_LOG_ERROR);
    the_base = event_base_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_function_is_in_the_table),
        cmocka_unit_test(test_null_arguments),
    };
    int rc = cmocka_run_group_tests_name("null arguments", tests, NULL, NULL);
    event_base_free(the_base);
    return rc;
}
