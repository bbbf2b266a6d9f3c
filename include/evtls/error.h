/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/error.h - one error enum for the whole library, and the last-error
 * record (modelled on esp-tls's esp_tls_last_error_t) that every failing
 * connection or configuration fills in.
 */
#ifndef EVTLS_ERROR_H
#define EVTLS_ERROR_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define EVTLS_API        __attribute__((visibility("default")))
#define EVTLS_MUST_CHECK __attribute__((warn_unused_result))
#else
#define EVTLS_API
#define EVTLS_MUST_CHECK
#endif

/* Every evtls function that can fail returns 0 (EVTLS_OK) or one of these
 * negative codes. The values are stable: new codes are only appended. */
typedef enum evtls_err {
    EVTLS_OK = 0,
    /* usage and resources */
    EVTLS_ERR_INVALID_ARG = -1, /* a bad argument (NULL, out of range, bad host) */
    EVTLS_ERR_STATE = -2,       /* the call is not valid in the object's state */
    EVTLS_ERR_NOMEM = -3,       /* out of memory */
    EVTLS_ERR_BAD_CONFIG = -4,  /* the configuration could not be built; see detail */
    EVTLS_ERR_INTERNAL = -5,    /* a bug or an unexpected library failure */
    EVTLS_ERR_CANCELLED = -6,   /* the operation was cancelled by the caller */
    EVTLS_ERR_WOULDBLOCK = -7,  /* the write buffer is full: wait for the drain callback */
    /* name resolution */
    EVTLS_ERR_DNS = -20,          /* other resolver failure */
    EVTLS_ERR_DNS_NXDOMAIN = -21, /* the name does not exist */
    EVTLS_ERR_DNS_SERVFAIL = -22, /* the name server failed */
    EVTLS_ERR_DNS_NODATA = -23,   /* the name exists but has no address of the wanted family */
    EVTLS_ERR_DNS_TIMEOUT = -24,  /* no answer from the resolver in time */
    /* TCP */
    EVTLS_ERR_CONN_REFUSED = -30,    /* every address refused the connection */
    EVTLS_ERR_HOST_UNREACH = -31,    /* host unreachable */
    EVTLS_ERR_NET_UNREACH = -32,     /* network unreachable (or address family unusable) */
    EVTLS_ERR_CONNECT_TIMEOUT = -33, /* the TCP connect did not complete in time */
    EVTLS_ERR_SOCKET = -34,          /* another socket error; see sys_errno */
    /* TLS handshake */
    EVTLS_ERR_HANDSHAKE_TIMEOUT = -40,  /* the TLS handshake did not complete in time */
    EVTLS_ERR_CERT_UNTRUSTED = -41,     /* no trusted CA signs the peer's chain */
    EVTLS_ERR_CERT_EXPIRED = -42,       /* a certificate in the chain has expired */
    EVTLS_ERR_CERT_NOT_YET_VALID = -43, /* a certificate in the chain is not yet valid */
    EVTLS_ERR_CERT_HOSTNAME = -44,      /* the certificate does not name the host */
    EVTLS_ERR_CERT_INVALID = -45,       /* other verification failure (signature, usage...) */
    EVTLS_ERR_PEER_ALERT = -46,         /* the peer sent a fatal alert; see alert */
    EVTLS_ERR_PROTOCOL_VERSION = -47,   /* no TLS version in common */
    EVTLS_ERR_HANDSHAKE_FAILED = -48,   /* no cipher suite, group or ALPN in common */
    EVTLS_ERR_PROTOCOL = -49,           /* the peer sent malformed or unexpected data */
    EVTLS_ERR_TLS = -50,                /* another TLS failure; see tls_error */
    /* established connections */
    EVTLS_ERR_PEER_CLOSED = -60, /* the peer closed without close_notify */
    EVTLS_ERR_PEER_RESET = -61,  /* the peer reset the connection */
    EVTLS_ERR_TIMEOUT = -62,     /* the overall deadline passed */
    EVTLS_EOF = -63,             /* not an error: the peer sent close_notify */
    /* pools */
    EVTLS_ERR_POOL_WAIT_TIMEOUT = -70, /* no connection became free within the wait timeout */
    EVTLS_ERR_POOL_CLOSED = -71,       /* the pool is shutting down */
    EVTLS_ERR_POOL_FREED = -72,        /* the pool was freed before serving this checkout or
                                          under this checked-out connection */
    /* HTTP/1.1 exchanges (http.h) */
    EVTLS_ERR_HTTP_MALFORMED = -80,          /* the response is not valid HTTP/1.x */
    EVTLS_ERR_HTTP_HEADERS_TOO_LARGE = -81,  /* status line and headers exceed the limit */
    EVTLS_ERR_HTTP_BODY_TOO_LARGE = -82,     /* the body exceeds the limit */
    EVTLS_ERR_HTTP_TRUNCATED = -83,          /* the connection ended inside the response */
    EVTLS_ERR_HTTP_TTFB_TIMEOUT = -84,       /* no response byte within the TTFB timeout */
    EVTLS_ERR_HTTP_TIMEOUT = -85,            /* the response stalled or took too long */
    EVTLS_ERR_BAD_URL = -86,                 /* a URL that cannot be used; see the detail */
    EVTLS_ERR_HTTP_ALPN = -87,               /* ALPN chose a protocol other than HTTP/1.1 and h2 */
    EVTLS_ERR_HTTP_TOO_MANY_REDIRECTS = -88, /* more redirects than the request follows */
    /* what esp-tls and curl users configure (cfg.h) */
    EVTLS_ERR_PSK = -51,          /* TLS-PSK handshake refused: identity or key do not match */
    EVTLS_ERR_PIN_MISMATCH = -52, /* the server's public key matches no pinned key */
    /* the trust policy (cfg.h); the detail names the certificate's depth */
    EVTLS_ERR_CERT_WEAK_KEY = -53,       /* a certificate's key is below the floor */
    EVTLS_ERR_CERT_WEAK_SIGNATURE = -54, /* a certificate is signed with MD5 or SHA-1 */
    EVTLS_ERR_CERT_REVOKED = -55,        /* a certificate of the chain is revoked */
    EVTLS_ERR_TLS_RENEGOTIATION = -56,   /* the server asked to renegotiate (TLS 1.2), which
                                            evtls never does */
    EVTLS_ERR_CERT_STATUS = -57,         /* OCSP stapling required: no status stapled, an
                                            unknown one, or one that does not verify */
    EVTLS_ERR_KEY_DEVICE = -58,          /* the device holding the client key (a PKCS#11
                                            token) failed to sign: removed, its key gone,
                                            or refusing */
    EVTLS_ERR_PROXY_CONNECT = -90,       /* the proxy could not be reached; see the detail */
    EVTLS_ERR_PROXY_REFUSED = -91,       /* the proxy refused the tunnel (its status line in the
                                            detail) or did not answer in HTTP */
    EVTLS_ERR_INTERFACE = -92,           /* the socket could not be bound to the interface */
    /* HTTP/2 (RFC 9113); the response's evtls_http_resp_get_h2_error gives the code */
    EVTLS_ERR_H2_REFUSED = -100,   /* the server never processed the stream (REFUSED_STREAM, or
                                      above a GOAWAY's last stream id): safe to send again */
    EVTLS_ERR_H2_STREAM = -101,    /* the server reset the stream (RST_STREAM) */
    EVTLS_ERR_H2_CONNECTION = -102 /* a connection error, or a GOAWAY with an error code */
} evtls_err;

/* Broad classes of errors, for counting and for retry decisions. */
typedef enum evtls_err_class {
    EVTLS_CLASS_NONE = 0,
    EVTLS_CLASS_USAGE,
    EVTLS_CLASS_CONFIG,
    EVTLS_CLASS_RESOURCE,
    EVTLS_CLASS_DNS,
    EVTLS_CLASS_NETWORK,
    EVTLS_CLASS_TIMEOUT,
    EVTLS_CLASS_CERT,
    EVTLS_CLASS_TLS,
    EVTLS_CLASS_PEER,
    EVTLS_CLASS_INTERNAL,
    EVTLS_CLASS_HTTP, /* the peer's HTTP response was unusable */
    EVTLS_CLASS_COUNT /* how many classes: the size of an array indexed by class */
} evtls_err_class;

/* Certificate verification flags, set in evtls_last_error.cert_flags. */
#define EVTLS_CERT_UNTRUSTED     0x01u /* no trusted issuer */
#define EVTLS_CERT_EXPIRED       0x02u
#define EVTLS_CERT_NOT_YET_VALID 0x04u
#define EVTLS_CERT_NAME_MISMATCH 0x08u
#define EVTLS_CERT_BAD_SIGNATURE 0x10u
#define EVTLS_CERT_REVOKED       0x20u
#define EVTLS_CERT_WEAK          0x40u /* a weak key or signature (the trust policy) */
#define EVTLS_CERT_OTHER         0x80u

/* The record of the last failure of an object (connection or config).
 * Fields are only appended in later versions. */
typedef struct evtls_last_error {
    int code;                /* an evtls_err; EVTLS_OK when nothing failed */
    int tls_error;           /* wolfSSL's error code, 0 when not a TLS failure */
    int sys_errno;           /* errno of the failing system call, 0 when none */
    uint32_t cert_flags;     /* EVTLS_CERT_* bits from certificate verification */
    int alert;               /* TLS alert description received from the peer, -1 when none */
    char tls_error_text[80]; /* wolfSSL's text for tls_error */
    char detail[160];        /* what failed, in words (for config errors: the field) */
} evtls_last_error;

/* Returns a static, human-readable sentence for an evtls_err code. Unknown
 * codes give "unknown error". Never returns NULL. */
EVTLS_API const char *evtls_strerror(int err);

/* Returns the enum name of the code without the prefix, e.g. "CERT_EXPIRED".
 * Never returns NULL. */
EVTLS_API const char *evtls_err_name(int err);

/* Returns the class of an error code (EVTLS_CLASS_NONE for EVTLS_OK). */
EVTLS_API evtls_err_class evtls_err_get_class(int err);

/* Returns the name of an error class, e.g. "cert". Never returns NULL. */
EVTLS_API const char *evtls_err_class_name(evtls_err_class cls);

/* Returns 1 if trying the same operation again later may succeed (resolver
 * timeout, refused, unreachable, timeouts, peer closed or reset), 0 for
 * errors that will not go away by themselves (certificates, configuration,
 * protocol version, usage). */
EVTLS_API int evtls_err_is_retryable(int err);

/* Returns the name of a TLS alert description (RFC 8446 section 6), e.g.
 * "handshake_failure", or "unknown". Never returns NULL. */
EVTLS_API const char *evtls_alert_name(int alert);

/* Formats a last-error record as one line into buf (always NUL-terminated
 * when size > 0) and returns buf (NULL when buf is NULL). A NULL record
 * reads "no error". */
EVTLS_API char *evtls_last_error_format(const evtls_last_error *e, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_ERROR_H */
