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
    evtls_conn_free(c);
    evtls_cfg_free(cfg);
    event_base_free(base);
#ifdef ALSO_SYSTEM_WOLFSSL
    wolfSSL_Cleanup();
#endif
    return 0;
}
