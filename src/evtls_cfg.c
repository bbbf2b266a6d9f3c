/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_cfg.c - the configuration object: setters, references, build. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>

#include "evtls/cfg.h"
#include "evtls_cfg_int.h"
#include "evtls_error_int.h"
#include "evtls_pin.h"
#include "evtls_trust.h"
#include "evtls_proxy.h"
#include "evtls_tlsctx.h"

struct evtls_cfg {
    atomic_int refs;
    atomic_int built;      /* set once, after everything it guards is written */
    pthread_mutex_t build; /* one build at a time: threads may share an unbuilt cfg */
    struct evtls__cfg_values v;
    void *ctx;                 /* WOLFSSL_CTX *, owned */
    struct evtls__pkcs11 *p11; /* the client key's token, when it is in one: owned */
    evtls_last_error err;
    atomic_uint source_turn[2]; /* round robin over the IPv4 and IPv6 sources */
};

static const unsigned default_timeouts[EVTLS__N_TIMEOUTS] = {
    [EVTLS_TIMEOUT_DNS] = 5000,        [EVTLS_TIMEOUT_CONNECT] = 10000,
    [EVTLS_TIMEOUT_HANDSHAKE] = 10000, [EVTLS_TIMEOUT_TOTAL] = 0,
    [EVTLS_TIMEOUT_CLOSE] = 2000,      [EVTLS_TIMEOUT_ATTEMPT_DELAY] = 250,
};

evtls_cfg *evtls_cfg_new(void)
{
    evtls_cfg *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return NULL;
    atomic_init(&cfg->refs, 1);
    atomic_init(&cfg->built, 0);
    pthread_mutex_init(&cfg->build, NULL);
    cfg->v.system_ca = -1;
    cfg->v.min_rsa_bits = EVTLS_MIN_RSA_BITS;
    cfg->v.min_ec_bits = EVTLS_MIN_EC_BITS;
    cfg->v.tls_min = EVTLS_TLS_1_2;
    cfg->v.tls_max = EVTLS_TLS_1_3;
    cfg->v.session_tickets = 1;
    cfg->v.http2_max_streams = 100;
    cfg->v.http2_ping_idle_ms = 60000;
    cfg->v.http2_ping_timeout_ms = 15000;
    cfg->v.race_limit = EVTLS_RACE_LIMIT_DEFAULT;
    memcpy(cfg->v.timeouts_ms, default_timeouts, sizeof default_timeouts);
    evtls__err_clear(&cfg->err);
    return cfg;
}

evtls_cfg *evtls_cfg_ref(evtls_cfg *cfg)
{
    if (cfg)
        atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void evtls_cfg_unref(evtls_cfg *cfg)
{
    if (cfg == NULL || atomic_fetch_sub(&cfg->refs, 1) != 1)
        return;
    evtls__tlsctx_free(cfg->ctx, cfg->p11);
    struct evtls__cfg_values *v = &cfg->v;
    free(v->pkcs11_module);
    free(v->ca_buf);
    free(v->ca_file);
    free(v->ca_dir);
    free(v->crl_file);
    free(v->cert_buf);
    free(v->key_buf);
    free(v->cert_file);
    free(v->key_file);
    if (v->key_password) {
        /* Do not leave the password in freed memory. */
        memset(v->key_password, 0, strlen(v->key_password));
        free(v->key_password);
    }
    free(v->alpn);
    free(v->server_name);
    free(v->ciphers);
    free(v->groups);
    if (v->psk_key) {
        memset(v->psk_key, 0, v->psk_key_len); /* do not leave the key in freed memory */
        free(v->psk_key);
    }
    free(v->psk_identity);
    free(v->proxy_host);
    free(v->proxy_auth);
    free(v->interface);
    pthread_mutex_destroy(&cfg->build);
    free(cfg);
}

/* Common entry check of every setter: usable object, not frozen yet. */
static int setter_check(evtls_cfg *cfg, const char *field)
{
    if (cfg == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (atomic_load_explicit(&cfg->built, memory_order_acquire))
        return evtls__err_set(&cfg->err, EVTLS_ERR_STATE, "%s: configuration already built", field);
    return 0;
}

/* Replaces *slot with a copy of s (NULL or "" clears it). */
static int set_string(evtls_cfg *cfg, char **slot, const char *s, const char *field)
{
    int rc = setter_check(cfg, field);
    if (rc)
        return rc;
    char *copy = NULL;
    if (s && *s) {
        copy = strdup(s);
        if (copy == NULL)
            return evtls__err_set(&cfg->err, EVTLS_ERR_NOMEM, "%s", field);
    }
    free(*slot);
    *slot = copy;
    return 0;
}

/* Replaces a buffer slot with a copy of buf. */
static int set_buffer(evtls_cfg *cfg, uint8_t **slot, size_t *slot_len, const void *buf, size_t len,
                      const char *field)
{
    if (buf == NULL || len == 0)
        return cfg ? evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "%s: empty buffer", field)
                   : EVTLS_ERR_INVALID_ARG;
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return evtls__err_set(&cfg->err, EVTLS_ERR_NOMEM, "%s", field);
    memcpy(copy, buf, len);
    free(*slot);
    *slot = copy;
    *slot_len = len;
    return 0;
}

int evtls_cfg_set_ca_buffer(evtls_cfg *cfg, const void *buf, size_t len)
{
    int rc = setter_check(cfg, "ca_buffer");
    return rc ? rc
              : set_buffer(cfg, cfg ? &cfg->v.ca_buf : NULL, cfg ? &cfg->v.ca_len : NULL, buf, len,
                           "ca_buffer");
}

int evtls_cfg_set_ca_file(evtls_cfg *cfg, const char *path)
{
    return set_string(cfg, cfg ? &cfg->v.ca_file : NULL, path, "ca_file");
}

int evtls_cfg_set_crl_file(evtls_cfg *cfg, const char *path)
{
    return set_string(cfg, cfg ? &cfg->v.crl_file : NULL, path, "crl_file");
}

int evtls_cfg_set_ca_dir(evtls_cfg *cfg, const char *path)
{
    return set_string(cfg, cfg ? &cfg->v.ca_dir : NULL, path, "ca_dir");
}

int evtls_cfg_set_system_ca(evtls_cfg *cfg, int on)
{
    int rc = setter_check(cfg, "system_ca");
    if (rc == 0)
        cfg->v.system_ca = on ? 1 : 0;
    return rc;
}

int evtls_cfg_set_client_cert(evtls_cfg *cfg, const void *cert, size_t cert_len, const void *key,
                              size_t key_len, const char *password)
{
    int rc = setter_check(cfg, "client_cert");
    if (rc == 0)
        rc = set_buffer(cfg, cfg ? &cfg->v.cert_buf : NULL, cfg ? &cfg->v.cert_len : NULL, cert,
                        cert_len, "client_cert");
    if (rc == 0)
        rc = set_buffer(cfg, cfg ? &cfg->v.key_buf : NULL, cfg ? &cfg->v.key_len : NULL, key,
                        key_len, "client_key");
    if (rc == 0)
        rc = set_string(cfg, cfg ? &cfg->v.key_password : NULL, password, "client_key_password");
    return rc;
}

int evtls_cfg_set_client_cert_file(evtls_cfg *cfg, const char *cert_path, const char *key_path,
                                   const char *password)
{
    if (cfg && (cert_path == NULL || key_path == NULL))
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "client_cert_file: both certificate and key are needed");
    int rc = set_string(cfg, cfg ? &cfg->v.cert_file : NULL, cert_path, "client_cert_file");
    if (rc == 0)
        rc = set_string(cfg, cfg ? &cfg->v.key_file : NULL, key_path, "client_key_file");
    if (rc == 0)
        rc = set_string(cfg, cfg ? &cfg->v.key_password : NULL, password, "client_key_password");
    return rc;
}

int evtls_cfg_set_pkcs11_module(evtls_cfg *cfg, const char *path)
{
    return set_string(cfg, cfg ? &cfg->v.pkcs11_module : NULL, path, "pkcs11_module");
}

int evtls_cfg_set_alpn(evtls_cfg *cfg, const char *protocols, int fail_on_mismatch)
{
    int rc = set_string(cfg, cfg ? &cfg->v.alpn : NULL, protocols, "alpn");
    if (rc == 0)
        cfg->v.alpn_fail_on_mismatch = fail_on_mismatch ? 1 : 0;
    return rc;
}

int evtls_cfg_set_server_name(evtls_cfg *cfg, const char *name)
{
    if (cfg && name && strlen(name) > 253)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "server_name: too long");
    return set_string(cfg, cfg ? &cfg->v.server_name : NULL, name, "server_name");
}

int evtls_cfg_set_skip_common_name(evtls_cfg *cfg, int on)
{
    int rc = setter_check(cfg, "skip_common_name");
    if (rc == 0)
        cfg->v.skip_common_name = on ? 1 : 0;
    return rc;
}

int evtls_cfg_set_insecure_skip_verify(evtls_cfg *cfg, int on)
{
    int rc = setter_check(cfg, "insecure_skip_verify");
    if (rc == 0)
        cfg->v.insecure_skip_verify = on ? 1 : 0;
    return rc;
}

int evtls_cfg_set_tls_versions(evtls_cfg *cfg, evtls_tls_version min, evtls_tls_version max)
{
    int rc = setter_check(cfg, "tls_versions");
    if (rc)
        return rc;
    int ok_min = min == EVTLS_TLS_1_2 || min == EVTLS_TLS_1_3;
    int ok_max = max == EVTLS_TLS_1_2 || max == EVTLS_TLS_1_3;
    if (!ok_min || !ok_max || min > max)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "tls_versions: min and max must be 1.2 or 1.3, min <= max");
    cfg->v.tls_min = (int)min;
    cfg->v.tls_max = (int)max;
    return 0;
}

int evtls_cfg_set_ciphers(evtls_cfg *cfg, const char *list)
{
    return set_string(cfg, cfg ? &cfg->v.ciphers : NULL, list, "ciphers");
}

int evtls_cfg_set_groups(evtls_cfg *cfg, const char *list)
{
    return set_string(cfg, cfg ? &cfg->v.groups : NULL, list, "groups");
}

int evtls_cfg_set_keepalive(evtls_cfg *cfg, int idle_s, int interval_s, int count)
{
    int rc = setter_check(cfg, "keepalive");
    if (rc)
        return rc;
    if (idle_s < 0 || interval_s < 0 || count < 0 ||
        (idle_s > 0 && (interval_s == 0 || count == 0)))
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "keepalive: idle, interval and count must be positive");
    cfg->v.ka_idle = idle_s;
    cfg->v.ka_interval = interval_s;
    cfg->v.ka_count = count;
    return 0;
}

int evtls_cfg_set_socket_buffers(evtls_cfg *cfg, unsigned sndbuf, unsigned rcvbuf)
{
    int rc = setter_check(cfg, "socket_buffers");
    if (rc)
        return rc;
    if (sndbuf > 64u << 20 || rcvbuf > 64u << 20)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "socket_buffers: %u/%u bytes is more than 64 MiB", sndbuf, rcvbuf);
    cfg->v.sndbuf = (int)sndbuf;
    cfg->v.rcvbuf = (int)rcvbuf;
    return 0;
}

int evtls_cfg_set_family(evtls_cfg *cfg, evtls_family family)
{
    int rc = setter_check(cfg, "family");
    if (rc)
        return rc;
    if (family != EVTLS_FAMILY_ANY && family != EVTLS_FAMILY_IPV4 && family != EVTLS_FAMILY_IPV6)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "family: must be any, 4 or 6");
    cfg->v.family = (int)family;
    return 0;
}

int evtls_cfg_set_race_limit(evtls_cfg *cfg, unsigned n)
{
    int rc = setter_check(cfg, "race_limit");
    if (rc)
        return rc;
    if (n > EVTLS_RACE_LIMIT_MAX)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "race_limit: at most %u",
                              EVTLS_RACE_LIMIT_MAX);
    cfg->v.race_limit = n;
    return 0;
}

int evtls_cfg_add_source_address(evtls_cfg *cfg, const char *ip)
{
    int rc = setter_check(cfg, "source_address");
    if (rc)
        return rc;
    if (ip == NULL)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "source_address: NULL");
    if (cfg->v.n_sources == EVTLS__MAX_SOURCES)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "source_address: at most %d addresses", EVTLS__MAX_SOURCES);
    struct evtls__source *src = &cfg->v.sources[cfg->v.n_sources];
    memset(src, 0, sizeof *src);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&src->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&src->ss;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        src->len = sizeof *v4;
    } else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        src->len = sizeof *v6;
    } else {
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "source_address: '%s' is not an IPv4 or IPv6 address", ip);
    }
    cfg->v.n_sources++;
    return 0;
}

const struct evtls__source *evtls__cfg_next_source(evtls_cfg *cfg, int family)
{
    int af = family == 6 ? AF_INET6 : AF_INET;
    unsigned have = 0;
    for (unsigned i = 0; i < cfg->v.n_sources; i++)
        have += cfg->v.sources[i].ss.ss_family == af;
    if (have == 0)
        return NULL;
    unsigned k =
        atomic_fetch_add_explicit(&cfg->source_turn[family == 6], 1, memory_order_relaxed) % have;
    for (unsigned i = 0; i < cfg->v.n_sources; i++)
        if (cfg->v.sources[i].ss.ss_family == af && k-- == 0)
            return &cfg->v.sources[i];
    return NULL;
}

int evtls_cfg_set_timeout(evtls_cfg *cfg, evtls_timeout which, unsigned ms)
{
    int rc = setter_check(cfg, "timeout");
    if (rc)
        return rc;
    if ((unsigned)which >= EVTLS__N_TIMEOUTS)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "timeout: unknown kind %d",
                              (int)which);
    if (which == EVTLS_TIMEOUT_ATTEMPT_DELAY) { /* RFC 8305 section 5: 10 ms .. 2 s */
        ms = ms < 10 ? 10 : ms > 2000 ? 2000 : ms;
        cfg->v.attempt_delay_set = 1;
    }
    cfg->v.timeouts_ms[which] = ms;
    return 0;
}

unsigned evtls_cfg_get_timeout(const evtls_cfg *cfg, evtls_timeout which)
{
    if (cfg == NULL || (unsigned)which >= EVTLS__N_TIMEOUTS)
        return 0;
    return cfg->v.timeouts_ms[which];
}

int evtls_cfg_set_retry_countdown(evtls_cfg *cfg, unsigned seconds, unsigned max_attempts)
{
    int rc = setter_check(cfg, "retry");
    if (rc)
        return rc;
    if (seconds > 3600)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "retry: countdown must be 0..3600 seconds");
    cfg->v.retry_mode = EVTLS_RETRY_COUNTDOWN;
    cfg->v.retry_countdown_s = seconds;
    cfg->v.retry_max_attempts = max_attempts;
    return 0;
}

int evtls_cfg_set_retry_backoff(evtls_cfg *cfg, unsigned base_ms, unsigned cap_ms,
                                unsigned max_attempts)
{
    int rc = setter_check(cfg, "retry");
    if (rc)
        return rc;
    if (base_ms == 0 || cap_ms < base_ms || cap_ms > 3600000)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "retry: backoff needs 0 < base <= cap <= 3600000 ms");
    cfg->v.retry_mode = EVTLS_RETRY_BACKOFF;
    cfg->v.retry_base_ms = base_ms;
    cfg->v.retry_cap_ms = cap_ms;
    cfg->v.retry_max_attempts = max_attempts;
    return 0;
}

int evtls_cfg_set_retry_off(evtls_cfg *cfg)
{
    int rc = setter_check(cfg, "retry");
    if (rc == 0)
        cfg->v.retry_mode = EVTLS_RETRY_NONE;
    return rc;
}

int evtls_cfg_set_session_tickets(evtls_cfg *cfg, int on)
{
    int rc = setter_check(cfg, "session_tickets");
    if (rc == 0)
        cfg->v.session_tickets = on ? 1 : 0;
    return rc;
}

int evtls_cfg_set_psk(evtls_cfg *cfg, const char *identity, const void *key, size_t key_len)
{
    int rc = setter_check(cfg, "psk");
    if (rc)
        return rc;
    if (identity == NULL) { /* off */
        if (cfg->v.psk_key)
            memset(cfg->v.psk_key, 0, cfg->v.psk_key_len);
        free(cfg->v.psk_key);
        free(cfg->v.psk_identity);
        cfg->v.psk_key = NULL;
        cfg->v.psk_identity = NULL;
        cfg->v.psk_key_len = 0;
        return 0;
    }
    size_t idlen = strlen(identity);
    if (idlen == 0 || idlen > EVTLS_PSK_IDENTITY_MAX)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "psk: the identity must have 1 to %d characters",
                              EVTLS_PSK_IDENTITY_MAX);
    if (key == NULL || key_len == 0 || key_len > EVTLS_PSK_KEY_MAX)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "psk: the key must have 1 to %d bytes", EVTLS_PSK_KEY_MAX);
    rc = set_string(cfg, cfg ? &cfg->v.psk_identity : NULL, identity, "psk");
    return rc ? rc
              : set_buffer(cfg, cfg ? &cfg->v.psk_key : NULL, cfg ? &cfg->v.psk_key_len : NULL, key,
                           key_len, "psk");
}

int evtls_cfg_set_plain_tcp(evtls_cfg *cfg, int on)
{
    int rc = setter_check(cfg, "plain_tcp");
    if (rc)
        return rc;
    cfg->v.plain_tcp = on != 0;
    return 0;
}

int evtls_cfg_set_http2(evtls_cfg *cfg, evtls_http2_mode mode, unsigned max_streams)
{
    int rc = setter_check(cfg, "http2");
    if (rc)
        return rc;
    if ((int)mode < EVTLS_HTTP2_OFF || mode > EVTLS_HTTP2_PRIOR_KNOWLEDGE)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "http2: no mode %d", (int)mode);
    if (max_streams > (1u << 30))
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "http2: max_streams %u is more than 2^30", max_streams);
    cfg->v.http2 = (int)mode;
    cfg->v.http2_max_streams = max_streams ? max_streams : 100;
    return 0;
}

int evtls_cfg_set_http2_ping(evtls_cfg *cfg, unsigned idle_ms, unsigned timeout_ms)
{
    int rc = setter_check(cfg, "http2_ping");
    if (rc)
        return rc;
    if (idle_ms > 24u * 3600u * 1000u || (idle_ms && (timeout_ms == 0 || timeout_ms > 3600000u)))
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "http2_ping: an idle time up to a day and a timeout from 1 ms "
                              "to an hour");
    cfg->v.http2_ping_idle_ms = idle_ms;
    cfg->v.http2_ping_timeout_ms = timeout_ms;
    return 0;
}

int evtls_cfg_set_early_data(evtls_cfg *cfg, size_t max_bytes)
{
    int rc = setter_check(cfg, "early_data");
    if (rc)
        return rc;
    if (max_bytes > EVTLS__EARLY_DATA_MAX)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "early_data: %zu bytes is more than one record (%u)", max_bytes,
                              EVTLS__EARLY_DATA_MAX);
    cfg->v.early_data_max = max_bytes;
    return 0;
}

int evtls_cfg_set_interface(evtls_cfg *cfg, const char *name)
{
    if (name && strlen(name) >= IFNAMSIZ)
        return cfg ? evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                                    "interface: '%s' is longer than an interface name can be", name)
                   : EVTLS_ERR_INVALID_ARG;
    return set_string(cfg, cfg ? &cfg->v.interface : NULL, name, "interface");
}

int evtls_cfg_set_proxy(evtls_cfg *cfg, const char *url)
{
    int rc = setter_check(cfg, "proxy");
    if (rc)
        return rc;
    char *host = NULL, *auth = NULL;
    uint16_t port = 0;
    if (url && *url) {
        rc = evtls__proxy_parse(url, &host, &port, &auth);
        if (rc == EVTLS_ERR_NOMEM)
            return evtls__err_set(&cfg->err, rc, "proxy");
        if (rc)
            return evtls__err_set(&cfg->err, rc,
                                  "proxy: '%s' is not http://[user:password@]host[:port]", url);
    }
    free(cfg->v.proxy_host);
    free(cfg->v.proxy_auth);
    cfg->v.proxy_host = host;
    cfg->v.proxy_port = port;
    cfg->v.proxy_auth = auth;
    return 0;
}

int evtls_cfg_set_pinned_pubkey(evtls_cfg *cfg, const char *pins)
{
    int rc = setter_check(cfg, "pinned_pubkey");
    if (rc)
        return rc;
    uint8_t got[EVTLS__MAX_PINS][32];
    int n = 0;
    if (pins && *pins && (n = evtls__pins_parse(pins, got, EVTLS__MAX_PINS)) < 0)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "pinned_pubkey: '%s' is not sha256//BASE64[;sha256//BASE64...] "
                              "(at most %d pins)",
                              pins, EVTLS__MAX_PINS);
    memcpy(cfg->v.pins, got, (size_t)n * sizeof got[0]);
    cfg->v.n_pins = (unsigned)n;
    return 0;
}

int evtls_cfg_set_cert_status(evtls_cfg *cfg, evtls_cert_status mode)
{
    int rc = setter_check(cfg, "cert_status");
    if (rc)
        return rc;
    if (mode != EVTLS_CERT_STATUS_OFF && mode != EVTLS_CERT_STATUS_REQUEST &&
        mode != EVTLS_CERT_STATUS_REQUIRE)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG, "cert_status: %d is no mode",
                              (int)mode);
    cfg->v.cert_status = (int)mode;
    return 0;
}

int evtls_cfg_set_min_key_bits(evtls_cfg *cfg, unsigned rsa_bits, unsigned ec_bits)
{
    int rc = setter_check(cfg, "min_key_bits");
    if (rc)
        return rc;
    if (rsa_bits > 16384 || ec_bits > 521)
        return evtls__err_set(&cfg->err, EVTLS_ERR_INVALID_ARG,
                              "min_key_bits: %u/%u is above any key (RSA 16384, EC 521 at most)",
                              rsa_bits, ec_bits);
    cfg->v.min_rsa_bits = rsa_bits ? rsa_bits : EVTLS_MIN_RSA_BITS;
    cfg->v.min_ec_bits = ec_bits ? ec_bits : EVTLS_MIN_EC_BITS;
    return 0;
}

int evtls_cfg_build(evtls_cfg *cfg)
{
    if (cfg == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (atomic_load_explicit(&cfg->built, memory_order_acquire))
        return 0;
    /* Threads sharing an unbuilt cfg: the first builds, the others wait
     * for it and find it built (before, each built its own WOLFSSL_CTX and
     * all but one leaked). */
    pthread_mutex_lock(&cfg->build);
    int rc = 0;
    if (atomic_load_explicit(&cfg->built, memory_order_relaxed))
        goto out;
    if (cfg->v.interface && if_nametoindex(cfg->v.interface) == 0) {
        rc = evtls__err_set(&cfg->err, EVTLS_ERR_BAD_CONFIG, "interface: no interface named '%s'",
                            cfg->v.interface);
        goto out;
    }
#ifndef WOLFSSL_EARLY_DATA
    if (cfg->v.early_data_max) {
        rc = evtls__err_set(&cfg->err, EVTLS_ERR_BAD_CONFIG,
                            "early_data: this build's wolfSSL has no TLS 1.3 early data (built "
                            "without --enable-earlydata, WOLFSSL_EARLY_DATA; evtls's tuned build "
                            "has it)");
        goto out;
    }
#endif
    if (cfg->v.plain_tcp && (cfg->v.psk_identity || cfg->v.n_pins)) {
        rc = evtls__err_set(&cfg->err, EVTLS_ERR_BAD_CONFIG,
                            "plain_tcp: a PSK or a pinned key needs TLS");
        goto out;
    }
    /* HTTP/2 over TLS is chosen by ALPN (RFC 9113 section 3.2) */
    if (!cfg->v.plain_tcp && cfg->v.http2 != EVTLS_HTTP2_OFF && cfg->v.alpn == NULL) {
        int only = cfg->v.http2 != EVTLS_HTTP2_AUTO;
        cfg->v.alpn = strdup(only ? "h2" : "h2,http/1.1");
        if (cfg->v.alpn == NULL) {
            rc = evtls__err_set(&cfg->err, EVTLS_ERR_NOMEM, "http2: ALPN list");
            goto out;
        }
        cfg->v.alpn_fail_on_mismatch = only;
    }
    rc = cfg->v.plain_tcp ? 0 : evtls__tlsctx_build(&cfg->v, &cfg->ctx, &cfg->p11, &cfg->err);
    if (rc == 0) {
        cfg->v.trust_tag = evtls__trust_fingerprint(&cfg->v);
        evtls__err_clear(&cfg->err);
        atomic_store_explicit(&cfg->built, 1, memory_order_release);
    }
out:
    pthread_mutex_unlock(&cfg->build);
    return rc;
}

const evtls_last_error *evtls_cfg_get_last_error(const evtls_cfg *cfg)
{
    return cfg ? &cfg->err : NULL;
}

const struct evtls__cfg_values *evtls__cfg_values(const evtls_cfg *cfg)
{
    return &cfg->v;
}

void *evtls__cfg_wolfssl_ctx(const evtls_cfg *cfg)
{
    return atomic_load_explicit(&cfg->built, memory_order_acquire) ? cfg->ctx : NULL;
}
