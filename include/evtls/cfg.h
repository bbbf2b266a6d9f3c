/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/cfg.h - TLS client configuration, modelled on esp-tls's
 * esp_tls_cfg_t but built through setters so that it can grow.
 *
 * Life of a configuration: evtls_cfg_new(), any number of setters, then
 * evtls_cfg_build() compiles it once into one shared WOLFSSL_CTX (files are
 * read and keys checked here, never on the event loop's hot path). After a
 * successful build the configuration is frozen: setters return
 * EVTLS_ERR_STATE. A configuration is reference-counted; every connection
 * made with it holds a reference, so evtls_cfg_unref() may be called as soon
 * as the application no longer needs its own handle.
 *
 * Threads: one thread sets a configuration up (setters are not for
 * sharing); a built one is read-only and may be used by any number of
 * threads' connections, pools and clients. The build itself may be raced:
 * threads sharing an unbuilt configuration build it once, under its lock
 * (each connection, pool and client builds it on first use).
 *
 * Security defaults: the peer's certificate chain and host name are
 * verified against the system trust store, TLS 1.2 is the minimum and
 * nothing older is ever offered. Turning verification off is a loud opt-in.
 */
#ifndef EVTLS_CFG_H
#define EVTLS_CFG_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct evtls_cfg evtls_cfg;

typedef enum evtls_tls_version { EVTLS_TLS_1_2 = 12, EVTLS_TLS_1_3 = 13 } evtls_tls_version;

typedef enum evtls_family {
    EVTLS_FAMILY_ANY = 0, /* both, best first (RFC 6724 order) */
    EVTLS_FAMILY_IPV4 = 4,
    EVTLS_FAMILY_IPV6 = 6
} evtls_family;

typedef enum evtls_timeout {
    EVTLS_TIMEOUT_DNS = 0,      /* name resolution (default 5000 ms) */
    EVTLS_TIMEOUT_CONNECT,      /* TCP connect, all attempts (default 10000 ms) */
    EVTLS_TIMEOUT_HANDSHAKE,    /* TLS handshake (default 10000 ms) */
    EVTLS_TIMEOUT_TOTAL,        /* whole connect from call to ready (default 0: none) */
    EVTLS_TIMEOUT_CLOSE,        /* graceful close: flushing close_notify (default 2000 ms) */
    EVTLS_TIMEOUT_ATTEMPT_DELAY /* Happy Eyeballs connection attempt delay (default 250 ms,
                                   then learnt per destination from connect times; a
                                   value set here is kept as set) */
} evtls_timeout;

/* Creates an empty configuration with the defaults above, holding one
 * reference. Returns NULL when out of memory. */
EVTLS_API evtls_cfg *evtls_cfg_new(void);

/* Adds a reference and returns cfg. */
EVTLS_API evtls_cfg *evtls_cfg_ref(evtls_cfg *cfg);

/* Drops a reference; the last one frees the configuration and its
 * WOLFSSL_CTX. NULL is ignored. */
EVTLS_API void evtls_cfg_unref(evtls_cfg *cfg);

/* Trust: any number of sources may be combined. When none is given, the
 * system store is used. */

/* Trusts the CA certificates in buf (PEM, possibly several, or one DER
 * certificate). The bytes are copied. */
EVTLS_API int evtls_cfg_set_ca_buffer(evtls_cfg *cfg, const void *buf, size_t len);
/* Trusts the CA certificates in a PEM file, read at build time. */
EVTLS_API int evtls_cfg_set_ca_file(evtls_cfg *cfg, const char *path);
/* Trusts every PEM CA certificate in a directory, read at build time. */
EVTLS_API int evtls_cfg_set_ca_dir(evtls_cfg *cfg, const char *path);
/* Also trusts the system store (the default when no other source is set). */
EVTLS_API int evtls_cfg_set_system_ca(evtls_cfg *cfg, int on);

/* Mutual TLS: the client certificate chain and its private key, as PEM or
 * DER buffers (copied), with an optional password for an encrypted key. */
EVTLS_API int evtls_cfg_set_client_cert(evtls_cfg *cfg, const void *cert, size_t cert_len,
                                        const void *key, size_t key_len, const char *password);
/* The same from files, read at build time. key_path may instead be an RFC
 * 7512 PKCS#11 URI naming a private key that never leaves its token (a
 * TPM, a smart card, an HSM): "pkcs11:token=T;object=O;type=private" (or
 * id=%01), with the PIN as pin-value= or pin-source=FILE in its query, or
 * as password. The module is evtls_cfg_set_pkcs11_module's (or the URI's
 * module-path=); evtls_cfg_build loads it, logs in to the token and finds
 * the key, so build the configuration before using it on a loop (a module
 * may block). The handshake's signature (RSA with PKCS#1 or PSS padding,
 * ECDSA) is made by the token, one operation at a time per configuration.
 * A missing module, token or key and a wrong PIN fail the build with
 * EVTLS_ERR_BAD_CONFIG naming which. */
EVTLS_API int evtls_cfg_set_client_cert_file(evtls_cfg *cfg, const char *cert_path,
                                             const char *key_path, const char *password);

/* ALPN protocols to offer, comma-separated in preference order, e.g.
 * "h2,http/1.1". When fail_on_mismatch is set, a server that picks none of
 * them fails the handshake with EVTLS_ERR_HANDSHAKE_FAILED. */
EVTLS_API int evtls_cfg_set_alpn(evtls_cfg *cfg, const char *protocols, int fail_on_mismatch);

/* Overrides the name sent as SNI and checked against the certificate
 * (esp-tls's common_name). By default the host given to connect is used. */
EVTLS_API int evtls_cfg_set_server_name(evtls_cfg *cfg, const char *name);

/* Opt-in: accept a certificate that does not name the host (the chain is
 * still verified). Logs a warning on every connection. */
EVTLS_API int evtls_cfg_set_skip_common_name(evtls_cfg *cfg, int on);

/* Opt-in: verify nothing about the peer's certificate. Any active attacker
 * can read and change the traffic. Logs a warning on every connection. */
EVTLS_API int evtls_cfg_set_insecure_skip_verify(evtls_cfg *cfg, int on);

/* Certificate revocation lists (PEM, one or several in the file), checked
 * for the leaf and every intermediate: a revoked certificate fails the
 * handshake with EVTLS_ERR_CERT_REVOKED, and a CRL past its nextUpdate is
 * an error too (EVTLS_ERR_CERT_INVALID) rather than ignored. NULL for none.
 * A build of wolfSSL without CRL support fails evtls_cfg_build with
 * EVTLS_ERR_BAD_CONFIG naming HAVE_CRL. */
EVTLS_API int evtls_cfg_set_crl_file(evtls_cfg *cfg, const char *path);

/* OCSP stapling (RFC 6066 section 8, RFC 8446 section 4.4.2.1): OFF asks
 * nothing; REQUEST asks the server for its certificate's status and checks
 * a stapled response (signature, validity, status: a revoked certificate
 * fails with EVTLS_ERR_CERT_REVOKED) but goes on without one; REQUIRE also
 * fails when none is stapled (EVTLS_ERR_CERT_INVALID), as curl's
 * --cert-status. A wolfSSL build without stapling fails evtls_cfg_build
 * with EVTLS_ERR_BAD_CONFIG. Default OFF. */
typedef enum evtls_cert_status {
    EVTLS_CERT_STATUS_OFF = 0,
    EVTLS_CERT_STATUS_REQUEST = 1,
    EVTLS_CERT_STATUS_REQUIRE = 2
} evtls_cert_status;
EVTLS_API int evtls_cfg_set_cert_status(evtls_cfg *cfg, evtls_cert_status mode);

/* The trust policy's key floors: every certificate of the verified path
 * (leaf and intermediates) needs an RSA or DSA key of at least
 * EVTLS_MIN_RSA_BITS and an EC key of at least EVTLS_MIN_EC_BITS, else the
 * handshake fails with EVTLS_ERR_CERT_WEAK_KEY naming the depth and the
 * key. A certificate signed with MD5 or SHA-1 (other than a trust anchor's
 * own self-signature) fails with EVTLS_ERR_CERT_WEAK_SIGNATURE, always.
 * This lowers (or raises) the floors, in bits; 0 keeps a default. A floor
 * below the default is logged as a warning on every connection, like
 * insecure_skip_verify. Returns 0 or EVTLS_ERR_INVALID_ARG. */
#define EVTLS_MIN_RSA_BITS 2048u
#define EVTLS_MIN_EC_BITS  256u
EVTLS_API int evtls_cfg_set_min_key_bits(evtls_cfg *cfg, unsigned rsa_bits, unsigned ec_bits);

/* The range of TLS versions to offer (default 1.2 to 1.3). */
EVTLS_API int evtls_cfg_set_tls_versions(evtls_cfg *cfg, evtls_tls_version min,
                                         evtls_tls_version max);

/* Cipher suites, colon-separated wolfSSL/OpenSSL names (e.g.
 * "TLS13-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"). Every name
 * must be known, or the build fails naming it. */
EVTLS_API int evtls_cfg_set_ciphers(evtls_cfg *cfg, const char *list);

/* Key-exchange groups in preference order, colon-separated, among X25519,
 * X448, P-256, P-384, P-521, ffdhe2048, ffdhe3072 (default "X25519:P-256").
 * The first one gets the TLS 1.3 key share. */
EVTLS_API int evtls_cfg_set_groups(evtls_cfg *cfg, const char *list);

/* The sockets' send and receive buffers in bytes (SO_SNDBUF, SO_RCVBUF),
 * set before connecting; 0 keeps the kernel's (autotuned) size, the
 * default. A load generator holding many connections bounds their kernel
 * memory with them; a small send buffer makes writes block sooner. Each
 * at most 64 MiB. */
EVTLS_API int evtls_cfg_set_socket_buffers(evtls_cfg *cfg, unsigned sndbuf, unsigned rcvbuf);

/* TCP keep-alive: idle seconds before probing, seconds between probes, and
 * probes before giving up. idle_s 0 turns keep-alive off (the default). */
EVTLS_API int evtls_cfg_set_keepalive(evtls_cfg *cfg, int idle_s, int interval_s, int count);

/* The address family to use (default EVTLS_FAMILY_ANY). */
EVTLS_API int evtls_cfg_set_family(evtls_cfg *cfg, evtls_family family);

/* Happy Eyeballs' racing attempts (a connection's second socket and more,
 * opened while an earlier attempt still connects) in flight at once per
 * destination (name and port), across the connections that share a
 * resolver (a pool's, a load generator's): each one the server accepts is
 * a connection, often a handshake, it has to carry. Past the limit a
 * connection waits for its attempt to fail before trying the next address.
 * 0 never races. Default EVTLS_RACE_LIMIT_DEFAULT, at most
 * EVTLS_RACE_LIMIT_MAX. */
#define EVTLS_RACE_LIMIT_DEFAULT 8
#define EVTLS_RACE_LIMIT_MAX     100000
EVTLS_API int evtls_cfg_set_race_limit(evtls_cfg *cfg, unsigned n);

/* TLS-PSK (esp-tls's psk_hint_key): an identity (1 to EVTLS_PSK_IDENTITY_MAX
 * characters) and a key (1 to EVTLS_PSK_KEY_MAX bytes) shared with the
 * server; NULL identity turns it off. The handshake then needs no
 * certificate: TLS 1.3 external PSK (with an (EC)DHE key exchange where
 * the server agrees) and the TLS 1.2 PSK suites. A key or identity the
 * server does not know fails the handshake with EVTLS_ERR_PSK. */
#define EVTLS_PSK_IDENTITY_MAX 128
#define EVTLS_PSK_KEY_MAX      64
EVTLS_API int evtls_cfg_set_psk(evtls_cfg *cfg, const char *identity, const void *key,
                                size_t key_len);

/* Plain TCP (esp-tls's is_plain_tcp): connections made with this
 * configuration speak no TLS; the same Happy Eyeballs, retries, pool (apart
 * from TLS connections: a pool keys origins by configuration) and HTTP. */
EVTLS_API int evtls_cfg_set_plain_tcp(evtls_cfg *cfg, int on);

/* HTTP/2 (RFC 9113) for the HTTP exchanges made on these connections
 * (curl's --http2, --http2-prior-knowledge):
 *   OFF     HTTP/1.1 only (the default)
 *   AUTO    ALPN offers "h2,http/1.1" and the exchanges speak what the
 *           server chose; plain TCP stays HTTP/1.1
 *   REQUIRE ALPN offers "h2" alone: a server that does not choose it fails
 *           the handshake
 *   PRIOR_KNOWLEDGE  as REQUIRE over TLS; over plain TCP, HTTP/2 from the
 *           first byte (RFC 9113 section 3.3)
 * An ALPN list set with evtls_cfg_set_alpn is kept as given. max_streams
 * caps the streams open at once on one connection (the server's
 * MAX_CONCURRENT_STREAMS caps them too; 100 are assumed until its SETTINGS
 * come); 0 keeps the default, 100. */
typedef enum evtls_http2_mode {
    EVTLS_HTTP2_OFF = 0,
    EVTLS_HTTP2_AUTO = 1,
    EVTLS_HTTP2_REQUIRE = 2,
    EVTLS_HTTP2_PRIOR_KNOWLEDGE = 3
} evtls_http2_mode;
EVTLS_API int evtls_cfg_set_http2(evtls_cfg *cfg, evtls_http2_mode mode, unsigned max_streams);

/* HTTP/2 liveness: a connection that has read nothing for idle_ms sends a
 * PING (at most one per idle period); when its ACK has not come within
 * timeout_ms the connection is failed (its streams end with
 * EVTLS_ERR_H2_CONNECTION, a pool closes it). Defaults 60000 and 15000;
 * idle_ms 0 sends none. */
EVTLS_API int evtls_cfg_set_http2_ping(evtls_cfg *cfg, unsigned idle_ms, unsigned timeout_ms);

/* The PKCS#11 module (a shared library, e.g. /usr/lib/softhsm/libsofthsm2.so)
 * through which a client key named by a pkcs11: URI is used
 * (evtls_cfg_set_client_cert_file). NULL: none. */
EVTLS_API int evtls_cfg_set_pkcs11_module(evtls_cfg *cfg, const char *path);

/* TLS 1.3 early data (0-RTT, RFC 8446 section 2.3): up to max_bytes of a
 * connection's first bytes may go with the ClientHello of a resumed
 * handshake, one round trip sooner, when the connection was given them
 * (evtls_conn_set_early_data; evtls_http_req_send_early for a request;
 * evtls_request.early_data for a fetch) and the server's ticket allows as
 * many. 0 (the default) sends none. Early data can be replayed by an
 * attacker: only requests that are safe to repeat may go early (RFC 8470).
 * It needs a wolfSSL built with early data (evtls_build_info.early_data:
 * the tuned build has it); on another, evtls_cfg_build fails with
 * EVTLS_ERR_BAD_CONFIG naming the build option. */
EVTLS_API int evtls_cfg_set_early_data(evtls_cfg *cfg, size_t max_bytes);
#define EVTLS_EARLY_DATA_MAX 16384 /* the most: one TLS record, sent in one call */

/* An HTTP proxy, as curl's --proxy: "http://[user:password@]host[:port]"
 * (port 1080 when left out; user and password may be percent-encoded);
 * NULL or "" for none. Connections dial the proxy (Happy Eyeballs and
 * retries as usual), ask it for a tunnel (CONNECT host:port) and speak TLS
 * to the origin through it: SNI, verification, sessions and pooling are
 * the origin's. A proxy that cannot be reached fails with
 * EVTLS_ERR_PROXY_CONNECT, one that refuses with EVTLS_ERR_PROXY_REFUSED
 * (its status line in the detail). The library reads no environment
 * variable; evtls-poll and evtls-load read https_proxy as curl does. */
EVTLS_API int evtls_cfg_set_proxy(evtls_cfg *cfg, const char *url);

/* Public-key pinning, as curl's --pinnedpubkey: "sha256//BASE64" digests of
 * the server's SubjectPublicKeyInfo, several separated by ';' (at most 16);
 * NULL or "" for none. A leaf whose key matches none fails the handshake
 * with EVTLS_ERR_PIN_MISMATCH, even when its chain verifies (and also with
 * insecure_skip_verify). */
EVTLS_API int evtls_cfg_set_pinned_pubkey(evtls_cfg *cfg, const char *pins);

/* Binds every socket to a network interface (esp-tls's if_name;
 * SO_BINDTODEVICE); NULL for none. A name no interface has fails the build
 * with EVTLS_ERR_BAD_CONFIG naming it. */
EVTLS_API int evtls_cfg_set_interface(evtls_cfg *cfg, const char *name);

/* Adds a local address to connect from (an IPv4 or IPv6 literal, up to
 * 16). Connections take the addresses of the destination's family in turn,
 * one per connection; a destination of a family with none is dialled from
 * the system's choice. Each source address has its own range of ephemeral
 * ports, so several let one process hold more connections to one server
 * than one address allows. The port is picked at connect time
 * (IP_BIND_ADDRESS_NO_PORT where the kernel has it). */
EVTLS_API int evtls_cfg_add_source_address(evtls_cfg *cfg, const char *ip);

/* Sets one timeout in milliseconds (0 means none, except for the attempt
 * delay, which is clamped to 10..2000 ms). */
EVTLS_API int evtls_cfg_set_timeout(evtls_cfg *cfg, evtls_timeout which, unsigned ms);

/* Returns the timeout currently set for which. */
EVTLS_API unsigned evtls_cfg_get_timeout(const evtls_cfg *cfg, evtls_timeout which);

/* Retrying a failed connect (off by default). A connect that fails for a
 * retryable reason (name server timeout or failure, every address refused,
 * unreachable or timed out, a peer that closes or stalls during the
 * handshake) is started again from name resolution; certificate,
 * configuration, version and NXDOMAIN failures are final at once.
 * max_attempts counts every try (1: no retry; 0: no limit but
 * EVTLS_TIMEOUT_TOTAL, which bounds the whole loop when set). */
typedef enum evtls_retry_mode {
    EVTLS_RETRY_NONE = 0,
    EVTLS_RETRY_COUNTDOWN, /* fixed wait with a log line a second: "10...", "9...", ... "0..." */
    EVTLS_RETRY_BACKOFF    /* exponential backoff with full jitter */
} evtls_retry_mode;

/* The classic countdown: wait seconds (e.g. 10) between tries, logging the
 * seconds left once a second. */
EVTLS_API int evtls_cfg_set_retry_countdown(evtls_cfg *cfg, unsigned seconds,
                                            unsigned max_attempts);

/* Backoff: before try k+1 wait a uniformly random time in
 * [0, min(cap_ms, base_ms * 2^(k-1))] ("full jitter"). */
EVTLS_API int evtls_cfg_set_retry_backoff(evtls_cfg *cfg, unsigned base_ms, unsigned cap_ms,
                                          unsigned max_attempts);

/* No retries (the default). */
EVTLS_API int evtls_cfg_set_retry_off(evtls_cfg *cfg);

/* TLS 1.2 session tickets (RFC 5077) on or off (default on). */
EVTLS_API int evtls_cfg_set_session_tickets(evtls_cfg *cfg, int on);

/* Compiles the configuration into its shared WOLFSSL_CTX. Reads the files
 * named above, checks the key against the certificate, every cipher and
 * group name. Returns 0, or EVTLS_ERR_BAD_CONFIG / EVTLS_ERR_NOMEM with
 * evtls_cfg_get_last_error() naming the field. Calling it again after success
 * is a no-op that returns 0. */
EVTLS_API EVTLS_MUST_CHECK int evtls_cfg_build(evtls_cfg *cfg);

/* Returns the record of the last failure of a setter or of the build. */
EVTLS_API const evtls_last_error *evtls_cfg_get_last_error(const evtls_cfg *cfg);

/* Frees what the TLS library keeps per thread (wolfSSL's cache of
 * precomputed ECC points, a few hundred KiB after the first handshakes).
 * A thread that ran evtls connections calls it before it exits, after
 * its last connection is gone; the main thread need not. */
EVTLS_API void evtls_thread_cleanup(void);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_CFG_H */
