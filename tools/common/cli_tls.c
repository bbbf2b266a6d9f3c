/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli_tls.c - the configuration and the request both tools build (see
 * cli_tls.h). */
#include "cli_tls.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cli_tls_usage[] =
    "  --cacert FILE          trust the CA certificates in FILE (PEM or DER)\n"
    "  --capath DIR           trust the CA certificates in DIR\n"
    "                         (default for both: the system store)\n"
    "  --cert FILE --key FILE client certificate and key for mutual TLS\n"
    "  --key-password PASS    password of an encrypted --key (or a token's PIN)\n"
    "  --key pkcs11:URI       a key that stays in a PKCS#11 token (RFC 7512, as curl:\n"
    "                         'pkcs11:token=T;object=O;type=private?pin-value=PIN')\n"
    "  --pkcs11-module PATH   the PKCS#11 module for it (e.g. SoftHSM's, a TPM's)\n"
    "  --pin-file FILE        the token's PIN, the file's first line\n"
    "  --insecure             DANGEROUS: do not verify the server at all (warns)\n"
    "  --no-verify-name       verify the chain but not that it names the host (warns)\n"
    "  --servername NAME      name to send in SNI and to verify instead of the host\n"
    "  --alpn LIST            ALPN protocols, comma-separated (e.g. http/1.1)\n"
    "  --tls-min 1.2|1.3      lowest TLS version (default 1.2)\n"
    "  --tls-max 1.2|1.3      highest TLS version (default 1.3)\n"
    "  --ciphers LIST         cipher suites, wolfSSL names, colon-separated\n"
    "  --groups LIST          key-exchange groups, e.g. X25519:P-256 (the default)\n"
    "  --family any|4|6       address family (default any: RFC 6724 order, Happy\n"
    "                         Eyeballs v2 between IPv6 and IPv4)\n"
    "  --connect-timeout TIME TCP connect timeout (default 10s; a bare number is\n"
    "                         in seconds, as curl's)\n"
    "  --handshake-timeout TIME  TLS handshake timeout (default 10s)\n"
    "  --retries N            retry a failed connect up to N times (0 to 1000) with\n"
    "                         exponential backoff from 250 ms (default 0)\n"
    "  --http2                HTTP/2 where the server offers it (ALPN h2, else\n"
    "                         HTTP/1.1), as curl's --http2\n"
    "  --http2-prior-knowledge  HTTP/2 only: over TLS the server must choose h2; an\n"
    "                         http:// URL speaks it from the first byte\n";

void cli_tls_init(struct cli_tls *t)
{
    memset(t, 0, sizeof *t);
    t->race_limit = -1;
}

int cli_tls_option(struct cli_tls *t, const char *name, const char *value, char *err, size_t errlen)
{
    const struct {
        const char *name;
        const char **slot;
    } strings[] = {
        {"cacert", &t->cacert},
        {"capath", &t->capath},
        {"cert", &t->cert},
        {"key", &t->key},
        {"key-password", &t->key_password},
        {"pkcs11-module", &t->pkcs11_module},
        {"pin-file", &t->pin_file},
        {"servername", &t->servername},
        {"alpn", &t->alpn},
        {"ciphers", &t->ciphers},
        {"groups", &t->groups},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (strcmp(name, strings[i].name) == 0) {
            *strings[i].slot = value;
            return 1;
        }
    if (strcmp(name, "insecure") == 0)
        t->insecure = 1;
    else if (strcmp(name, "http2") == 0)
        t->http2 = EVTLS_HTTP2_AUTO;
    else if (strcmp(name, "http2-prior-knowledge") == 0)
        t->http2 = EVTLS_HTTP2_PRIOR_KNOWLEDGE;
    else if (strcmp(name, "no-verify-name") == 0)
        t->no_verify_name = 1;
    else if (strcmp(name, "tls-min") == 0 || strcmp(name, "tls-max") == 0) {
        if (cli_parse_tls_version(value,
                                  strcmp(name, "tls-min") == 0 ? &t->tls_min : &t->tls_max) != 0) {
            snprintf(err, errlen, "--%s: '%s' is not a TLS version (1.2 or 1.3)", name, value);
            return -1;
        }
    } else if (strcmp(name, "family") == 0) {
        if (cli_parse_family(value, &t->family) != 0) {
            snprintf(err, errlen, "--family: '%s' is not any, 4 or 6", value);
            return -1;
        }
    } else if (strcmp(name, "connect-timeout") == 0 || strcmp(name, "handshake-timeout") == 0) {
        if (cli_parse_timeout_ms(value, strcmp(name, "connect-timeout") == 0
                                            ? &t->connect_ms
                                            : &t->handshake_ms) != 0) {
            snprintf(err, errlen, "--%s: '%s' is not a time from 1ms to 1h (e.g. 500ms, 2s, 1.5)",
                     name, value);
            return -1;
        }
    } else if (strcmp(name, "retries") == 0) {
        char *end;
        unsigned long n = value[0] >= '0' && value[0] <= '9' ? strtoul(value, &end, 10) : 1001;
        if (n > 1000 || *end != '\0') {
            snprintf(err, errlen, "--retries: '%s' is not a number from 0 to 1000", value);
            return -1;
        }
        t->retries = (unsigned)n;
    } else {
        return 0;
    }
    return 1;
}

void cli_tls_warn(const struct cli_tls *t, const char *prog)
{
    if (t->insecure)
        fprintf(stderr,
                "%s: WARNING: --insecure: the server's certificate is NOT verified; anyone on "
                "the path can impersonate it\n",
                prog);
    if (t->no_verify_name)
        fprintf(stderr,
                "%s: WARNING: --no-verify-name: the certificate is not checked against the host "
                "name\n",
                prog);
}

int cli_tls_check(const struct cli_tls *t, char *err, size_t errlen)
{
    int lo = t->tls_min ? t->tls_min : 12, hi = t->tls_max ? t->tls_max : 13;
    if (lo > hi) {
        snprintf(err, errlen, "--tls-min %s is above --tls-max %s", lo == 13 ? "1.3" : "1.2",
                 hi == 13 ? "1.3" : "1.2");
        return -1;
    }
    if ((t->cert == NULL) != (t->key == NULL)) {
        snprintf(err, errlen, "%s needs %s as well", t->cert ? "--cert" : "--key",
                 t->cert ? "--key" : "--cert");
        return -1;
    }
    if (t->key_password && t->key == NULL) {
        snprintf(err, errlen, "--key-password needs --cert and --key");
        return -1;
    }
    int p11 = t->key && strncmp(t->key, "pkcs11:", 7) == 0;
    if ((t->pkcs11_module || t->pin_file) && !p11) {
        snprintf(err, errlen, "%s is for a --key pkcs11:URI",
                 t->pkcs11_module ? "--pkcs11-module" : "--pin-file");
        return -1;
    }
    if (t->pin_file && t->key_password) {
        snprintf(err, errlen, "--pin-file and --key-password: give one of them");
        return -1;
    }
    if (t->cacert && t->capath) {
        snprintf(err, errlen, "--cacert and --capath: give one of them");
        return -1;
    }
    return 0;
}

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
    char pin[128] = "";
    if (t->pin_file) { /* the PIN given apart: the file's first line */
        FILE *pf = fopen(t->pin_file, "re");
        int ok = pf && fgets(pin, sizeof pin, pf) != NULL;
        if (pf)
            fclose(pf);
        if (!ok) {
            snprintf(err, errlen, "--pin-file: cannot read '%s'", t->pin_file);
            evtls_cfg_unref(cfg);
            return -1;
        }
        pin[strcspn(pin, "\r\n")] = '\0';
    }
    if (rc == 0 && t->cert)
        rc = evtls_cfg_set_client_cert_file(cfg, t->cert, t->key,
                                            t->pin_file ? pin : t->key_password);
    memset(pin, 0, sizeof pin);
    if (rc == 0 && t->pkcs11_module)
        rc = evtls_cfg_set_pkcs11_module(cfg, t->pkcs11_module);
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
    if (rc == 0 && t->http2)
        rc = evtls_cfg_set_http2(cfg, (evtls_http2_mode)t->http2, t->max_streams);
    if (rc == 0 && t->retries)
        rc = evtls_cfg_set_retry_backoff(cfg, 250, 4000, t->retries + 1);
    if (rc == 0 && t->early_data)
        rc = evtls_cfg_set_early_data(cfg, t->early_data);
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
