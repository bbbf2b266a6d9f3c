/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli_tls.c - the configuration and the request both tools build (see
 * cli_tls.h). */
#include "cli_tls.h"

#include <stdio.h>
#include <string.h>

/* Fills err with the setter's record. Returns -1. */
static int refused(evtls_cfg *cfg, int rc, char *err, size_t errlen)
{
    const evtls_last_error *e = evtls_cfg_get_last_error(cfg);
    snprintf(err, errlen, "TLS configuration refused: %s",
             e && e->code ? e->detail[0] ? e->detail : evtls_strerror(e->code)
                          : evtls_strerror(rc));
    return -1;
}

int cli_tls_build(const struct cli_tls *t, int plain, const char *host, evtls_cfg **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    evtls_cfg *cfg = evtls_cfg_new();
    if (cfg == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    if (t->cacert)
        rc = evtls_cfg_set_ca_file(cfg, t->cacert);
    if (rc == 0 && t->capath)
        rc = evtls_cfg_set_ca_dir(cfg, t->capath);
    if (rc == 0 && t->cert)
        rc = evtls_cfg_set_client_cert_file(cfg, t->cert, t->key, t->key_password);
    if (rc == 0 && t->insecure)
        rc = evtls_cfg_set_insecure_skip_verify(cfg, 1);
    if (rc == 0 && t->no_verify_name)
        rc = evtls_cfg_set_skip_common_name(cfg, 1);
    if (rc == 0 && t->servername)
        rc = evtls_cfg_set_server_name(cfg, t->servername);
    if (rc == 0 && t->alpn)
        rc = evtls_cfg_set_alpn(cfg, t->alpn, 0);
    if (rc == 0 && (t->tls_min || t->tls_max))
        rc = evtls_cfg_set_tls_versions(cfg, (evtls_tls_version)(t->tls_min ? t->tls_min : 12),
                                        (evtls_tls_version)(t->tls_max ? t->tls_max : 13));
    if (rc == 0 && t->ciphers)
        rc = evtls_cfg_set_ciphers(cfg, t->ciphers);
    if (rc == 0 && t->groups)
        rc = evtls_cfg_set_groups(cfg, t->groups);
    if (rc == 0 && t->family)
        rc = evtls_cfg_set_family(cfg, (evtls_family)t->family);
    if (rc == 0 && t->race_limit >= 0)
        rc = evtls_cfg_set_race_limit(cfg, (unsigned)t->race_limit);
    if (rc == 0 && t->connect_ms)
        rc = evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_CONNECT, t->connect_ms);
    if (rc == 0 && t->handshake_ms)
        rc = evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_HANDSHAKE, t->handshake_ms);
    if (rc == 0 && t->retries)
        rc = evtls_cfg_set_retry_backoff(cfg, 250, 4000, t->retries + 1);
    for (size_t i = 0; rc == 0 && i < t->n_sources; i++)
        rc = evtls_cfg_add_source_address(cfg, t->sources[i]);
    if (rc == 0 && t->net && cli_net_apply(t->net, cfg, plain, host, err, errlen) != 0) {
        evtls_cfg_unref(cfg);
        return -1;
    }
    if (rc == 0)
        rc = evtls_cfg_build(cfg);
    if (rc != 0) {
        refused(cfg, rc, err, errlen);
        evtls_cfg_unref(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int cli_request_headers(evtls_http_req *req, const char *const *headers, size_t n, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(headers[i], ':');
        char name[256];
        size_t len = colon ? (size_t)(colon - headers[i]) : 0;
        if (colon == NULL || len == 0) {
            snprintf(err, errlen, "--header: '%s' is not 'Name: value'", headers[i]);
            return -1;
        }
        if (len >= sizeof name) {
            snprintf(err, errlen, "--header: '%.40s...': the name is too long", headers[i]);
            return -1;
        }
        memcpy(name, headers[i], len);
        name[len] = '\0';
        const char *value = colon + 1 + strspn(colon + 1, " \t");
        if (evtls_http_req_add_header(req, name, value) != 0) {
            snprintf(err, errlen, "--header: '%s' is refused (a name or value that is not allowed)",
                     headers[i]);
            return -1;
        }
    }
    return 0;
}
