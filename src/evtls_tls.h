/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_tls.h - the TLS state machine over a connected, non-blocking fd.
 *
 * Sans-event: no timers and no libevent here. Every call makes as much
 * progress as the socket allows and says what it is blocked on
 * (EVTLS__TLS_WANT_READ / _WANT_WRITE), like s2n_negotiate's "blocked"
 * out-parameter; the connection layer maps that to EV_READ / EV_WRITE.
 * A read can block on a write and the reverse. */
#ifndef EVTLS_TLS_H
#define EVTLS_TLS_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/conn.h"
#include "evtls/error.h"

typedef struct evtls__tls evtls__tls;

typedef enum evtls__tls_status {
    EVTLS__TLS_DONE = 0,   /* the operation completed */
    EVTLS__TLS_WANT_READ,  /* call again when the fd is readable */
    EVTLS__TLS_WANT_WRITE, /* call again when the fd is writable */
    EVTLS__TLS_EOF,        /* read: the peer sent close_notify */
    EVTLS__TLS_FAIL        /* failed: the error record says why */
} evtls__tls_status;

struct evtls__tls_params {
    const char *name;     /* host name or IP literal for SNI and verification */
    int name_is_ip;       /* name is an IP literal: no SNI, check IP SANs */
    int skip_common_name; /* do not check the name */
    int insecure;         /* verify nothing (cfg's insecure_skip_verify) */
    const char *alpn;     /* comma-separated, or NULL */
    int alpn_fail_on_mismatch;
    unsigned long id;       /* connection number, for log lines */
    const uint8_t *session; /* a serialised session to offer (DER), or NULL */
    size_t session_len;
    int want_session; /* watch for sessions to take with evtls__tls_take_session */
    int plain;        /* no TLS: the calls below are recv/send on the fd */
    /* TLS-PSK (identity NULL: none); the configuration's, outliving t */
    const char *psk_identity;
    const uint8_t *psk_key;
    size_t psk_key_len;
    /* public-key pins (SHA-256 of the SubjectPublicKeyInfo), n_pins 0: none */
    const uint8_t (*pins)[32];
    unsigned n_pins;
    /* the trust policy's key floors, in bits */
    unsigned min_rsa_bits, min_ec_bits;
    int cert_status; /* ask for a stapled OCSP response (evtls_cert_status) */
    /* TLS 1.3 early data: sent with the ClientHello when the offered
     * session's ticket allows at least early_len bytes (and early_max, the
     * configuration's limit, does too); the bytes outlive t */
    const uint8_t *early;
    size_t early_len, early_max;
};

/* Creates the TLS side of a connection on fd with ctx (a WOLFSSL_CTX *;
 * NULL with p->plain, where every call below is a plain recv or send).
 * Returns NULL and fills e on failure. */
/* Writes wolfSSL's text for an error code into buf. */
void evtls__tls_error_text(int code, char *buf, size_t size);

/* Sets what every connection made from the wolfSSL context ctx relies on
 * (its alert watch); called once when the context is built. */
void evtls__tls_ctx_prepare(void *ctx);

evtls__tls *evtls__tls_new(void *ctx, int fd, const struct evtls__tls_params *p,
                           evtls_last_error *e);

/* Advances the handshake. */
evtls__tls_status evtls__tls_handshake(evtls__tls *t, evtls_last_error *e);

/* Reads decrypted data into buf; *n is set when DONE. */
evtls__tls_status evtls__tls_read(evtls__tls *t, uint8_t *buf, size_t cap, size_t *n,
                                  evtls_last_error *e);

/* Writes len bytes; DONE means all were taken. After WANT_*, call again with
 * the same bytes. */
evtls__tls_status evtls__tls_write(evtls__tls *t, const uint8_t *buf, size_t len,
                                   evtls_last_error *e);

/* Sends close_notify (does not wait for the peer's). */
evtls__tls_status evtls__tls_shutdown(evtls__tls *t, evtls_last_error *e);

/* Fills the TLS facts of info (version, cipher, group, ALPN, resumed, bytes). */
void evtls__tls_get_info(evtls__tls *t, evtls_conn_info *info);

/* The early data's fate (EVTLS_EARLY_DATA_*): NOT_SENT until it went,
 * then REJECTED until the server's EncryptedExtensions accept it. */
int evtls__tls_early_status(const evtls__tls *t);

/* Writes the build's serialised-session layout into buf, e.g.
 * "wolfssl-5.5.4/-3TEX" (the version, and which optional fields it has:
 * peer certificates, TLS 1.3, tickets, early data, OpenSSL extras), for
 * the session file's header. */
void evtls__tls_session_layout(char *buf, size_t size);

/* Returns 1 when der is a session this build reads back to the same
 * bytes (a session from another layout does not). */
int evtls__tls_session_sound(const uint8_t *der, size_t len);

/* Returns 1 when a session was offered for resumption. */
int evtls__tls_offered(const evtls__tls *t);

/* When a new resumable session exists (TLS 1.2: once, after the
 * handshake; TLS 1.3: each time a ticket has arrived), returns 1 with a
 * malloc'd DER copy (*single_use set for TLS 1.3 tickets). Else 0. */
int evtls__tls_take_session(evtls__tls *t, uint8_t **der, size_t *len, int *single_use);

/* Frees the TLS state (the fd is not closed). NULL is ignored. */
void evtls__tls_free(evtls__tls *t);

/* The TLS bytes received and sent on the wire so far. */
void evtls__tls_bytes(const evtls__tls *t, uint64_t *in, uint64_t *out);

#endif
