/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_cfg_int.h - what the other modules may read of a configuration. */
#ifndef EVTLS_CFG_INT_H
#define EVTLS_CFG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "evtls/cfg.h"

#define EVTLS__N_TIMEOUTS  6
#define EVTLS__MAX_SOURCES 16
#define EVTLS__MAX_PINS    16

/* A local address to bind before connecting (port 0). */
struct evtls__source {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* The most early data a configuration may allow: one TLS record, sent in
 * one call. */
#define EVTLS__EARLY_DATA_MAX ((unsigned)EVTLS_EARLY_DATA_MAX)

/* The plain values of a configuration. Owned by the configuration; the
 * strings and buffers live as long as it does. Read-only once built. */
struct evtls__cfg_values {
    uint8_t *ca_buf;
    size_t ca_len;
    char *ca_file;
    char *ca_dir;
    int system_ca; /* -1: only when no other trust source is set */
    uint8_t *cert_buf, *key_buf;
    size_t cert_len, key_len;
    char *cert_file, *key_file;
    char *key_password;
    char *pkcs11_module; /* the PKCS#11 module a pkcs11: key URI is used through, or NULL */
    char *alpn;
    int alpn_fail_on_mismatch;
    char *server_name;
    int skip_common_name;
    int insecure_skip_verify;
    int tls_min, tls_max; /* 12 or 13 */
    char *ciphers;
    char *groups;
    int ka_idle, ka_interval, ka_count;
    int sndbuf, rcvbuf;  /* SO_SNDBUF, SO_RCVBUF (0: the kernel's) */
    int family;          /* 0, 4 or 6 */
    unsigned race_limit; /* racing connect attempts in flight per destination */
    unsigned timeouts_ms[EVTLS__N_TIMEOUTS];
    int attempt_delay_set; /* the user set the attempt delay: it is not learnt */
    int session_tickets;
    evtls_retry_mode retry_mode;
    unsigned retry_countdown_s;
    unsigned retry_base_ms, retry_cap_ms;
    unsigned retry_max_attempts; /* all tries counted; 0: until the deadline */
    struct evtls__source sources[EVTLS__MAX_SOURCES];
    unsigned n_sources;
    /* TLS-PSK: identity and key, or NULL */
    char *psk_identity;
    uint8_t *psk_key;
    size_t psk_key_len;
    int plain_tcp;              /* no TLS at all */
    int http2;                  /* an evtls_http2_mode */
    unsigned http2_max_streams; /* the client's cap on open streams per connection */
    unsigned http2_ping_idle_ms, http2_ping_timeout_ms; /* liveness PINGs (0: none) */
    size_t early_data_max; /* TLS 1.3 early data: the most sent (0: none) */
    /* HTTP CONNECT proxy: host (NULL: none), port, "Basic ..." credentials or NULL */
    char *proxy_host;
    uint16_t proxy_port;
    char *proxy_auth;
    /* public-key pins: SHA-256 digests of the SubjectPublicKeyInfo */
    uint8_t pins[EVTLS__MAX_PINS][32];
    unsigned n_pins;
    char *interface; /* SO_BINDTODEVICE, or NULL */
    /* the trust policy's key floors, in bits (RSA and DSA; EC) */
    unsigned min_rsa_bits, min_ec_bits;
    char *crl_file;  /* PEM CRLs checked for the leaf and intermediates, or NULL */
    int cert_status; /* an evtls_cert_status */
    /* A fingerprint of what a session's trust rests on (evtls_trust.h), set
     * when built: a session is only offered under the one it was made with
     * (resumption does not verify the server again). */
    uint64_t trust_tag;
};

/* Returns the values of cfg. */
const struct evtls__cfg_values *evtls__cfg_values(const evtls_cfg *cfg);

/* The next source address of family 4 or 6 in turn, or NULL when none of
 * that family was added. Safe to call from several threads. */
const struct evtls__source *evtls__cfg_next_source(evtls_cfg *cfg, int family);

/* Returns the built WOLFSSL_CTX (a `WOLFSSL_CTX *`), or NULL before a
 * successful build. Typed void to keep wolfSSL out of this header. */
void *evtls__cfg_wolfssl_ctx(const evtls_cfg *cfg);

#endif
