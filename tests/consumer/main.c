/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A tiny out-of-tree application: builds a configuration, makes a
 * connection on its own event_base and prints a few library answers. */
#include <event2/event.h>
#include <evtls/evtls.h>
#include <stdio.h>
#include <string.h>
#ifdef ALSO_SYSTEM_WOLFSSL
/* A program that uses the system's wolfSSL itself, beside a libevtls that
 * carries its own (the tuned build): each keeps to its own. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#endif

int main(int argc, char **argv)
{
#ifdef ALSO_SYSTEM_WOLFSSL
    if (wolfSSL_Init() != WOLFSSL_SUCCESS)
        return 1;
    printf("system wolfSSL %s loaded beside evtls\n", wolfSSL_lib_version());
#endif
    struct event_base *base = event_base_new();
    evtls_cfg *cfg = evtls_cfg_new();
    if (argc > 1 && evtls_cfg_set_ca_file(cfg, argv[1]) != 0)
        return 1;
    if (evtls_cfg_build(cfg) != 0)
        return 1;
    evtls_conn *c = evtls_conn_new(base, cfg);
    if (c == NULL || strcmp(evtls_err_name(EVTLS_ERR_CERT_EXPIRED), "CERT_EXPIRED") != 0)
        return 1;
    printf("evtls %s: %s\n", EVTLS_VERSION_STRING, evtls_strerror(EVTLS_ERR_DNS_NXDOMAIN));
    /* One call into every public header, through the shared library: each
     * must be exported (the library is built with -fvisibility=hidden). */
    evtls_log_level lvl; /* log.h */
    if (evtls_log_level_parse("warn", &lvl) != 0 || lvl != EVTLS_LOG_WARN)
        return 1;
    evtls_resolver *r = evtls_resolver_new(base, NULL); /* resolver.h */
    if (evtls_resolver_ref(r) != r || evtls_conn_set_resolver(c, r) != 0)
        return 1;
    evtls_resolver_unref(r);                              /* the connection's reference keeps it */
    evtls_session_cache *sc = evtls_session_cache_new(0); /* session.h */
    evtls_pool *p = evtls_pool_new(base, NULL);           /* pool.h */
    evtls_url u;                                          /* http.h */
    evtls_http_req *req = evtls_http_req_new("GET", "example.test", "/");
    evtls_client_opts co; /* client.h */
    evtls_client_opts_default(&co);
    evtls_client *cl = evtls_client_new(base, cfg, &co);
    if (cl == NULL || evtls_client_get_pool(cl) == NULL)
        return 1;
    evtls_client_free(cl);
    evtls_mem_stats ms; /* mem.h */
    evtls_mem_get_stats(&ms);
    evtls_poll_fd fds[4]; /* conn.h, the foreign-loop call */
    if (r == NULL || sc == NULL || p == NULL || req == NULL ||
        evtls_url_parse("https://example.test:8443/x", 0, &u) != 0 || u.port != 8443 ||
        evtls_conn_poll_fds(c, fds, 4, NULL) != -1 || /* c runs on the caller's base */
        strcmp(evtls_mem_owner_name(EVTLS_MEM_EVTLS), "evtls") != 0)
        return 1;
    evtls_http_req_free(req);
    evtls_pool_free(p);
    evtls_session_cache_unref(sc);
    evtls_resolver_unref(r);
    evtls_conn_free(c);
    evtls_cfg_unref(cfg);
    event_base_free(base);
#ifdef ALSO_SYSTEM_WOLFSSL
    wolfSSL_Cleanup();
#endif
    return 0;
}
