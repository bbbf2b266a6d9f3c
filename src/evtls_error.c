/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_error.c - names, texts and classes of evtls error codes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "evtls/error.h"
#include "evtls_error_int.h"

struct err_desc {
    int code;
    const char *name;
    const char *text;
    evtls_err_class cls;
    int retryable;
};

static const struct err_desc errs[] = {
    {EVTLS_OK, "OK", "success", EVTLS_CLASS_NONE, 0},
    {EVTLS_ERR_INVALID_ARG, "INVALID_ARG", "invalid argument", EVTLS_CLASS_USAGE, 0},
    {EVTLS_ERR_STATE, "STATE", "operation not valid in this state", EVTLS_CLASS_USAGE, 0},
    {EVTLS_ERR_NOMEM, "NOMEM", "out of memory", EVTLS_CLASS_RESOURCE, 1},
    {EVTLS_ERR_BAD_CONFIG, "BAD_CONFIG", "bad configuration", EVTLS_CLASS_CONFIG, 0},
    {EVTLS_ERR_INTERNAL, "INTERNAL", "internal error", EVTLS_CLASS_INTERNAL, 0},
    {EVTLS_ERR_CANCELLED, "CANCELLED", "operation cancelled", EVTLS_CLASS_USAGE, 0},
    {EVTLS_ERR_WOULDBLOCK, "WOULDBLOCK", "write buffer full", EVTLS_CLASS_USAGE, 1},
    {EVTLS_ERR_DNS, "DNS", "name resolution failed", EVTLS_CLASS_DNS, 1},
    {EVTLS_ERR_DNS_NXDOMAIN, "DNS_NXDOMAIN", "host name does not exist", EVTLS_CLASS_DNS, 0},
    {EVTLS_ERR_DNS_SERVFAIL, "DNS_SERVFAIL", "name server failure", EVTLS_CLASS_DNS, 1},
    {EVTLS_ERR_DNS_NODATA, "DNS_NODATA", "host has no address of the wanted family",
     EVTLS_CLASS_DNS, 0},
    {EVTLS_ERR_DNS_TIMEOUT, "DNS_TIMEOUT", "name resolution timed out", EVTLS_CLASS_DNS, 1},
    {EVTLS_ERR_CONN_REFUSED, "CONN_REFUSED", "connection refused", EVTLS_CLASS_NETWORK, 1},
    {EVTLS_ERR_HOST_UNREACH, "HOST_UNREACH", "host unreachable", EVTLS_CLASS_NETWORK, 1},
    {EVTLS_ERR_NET_UNREACH, "NET_UNREACH", "network unreachable", EVTLS_CLASS_NETWORK, 1},
    {EVTLS_ERR_CONNECT_TIMEOUT, "CONNECT_TIMEOUT", "TCP connect timed out", EVTLS_CLASS_TIMEOUT, 1},
    {EVTLS_ERR_SOCKET, "SOCKET", "socket error", EVTLS_CLASS_NETWORK, 1},
    {EVTLS_ERR_HANDSHAKE_TIMEOUT, "HANDSHAKE_TIMEOUT", "TLS handshake timed out",
     EVTLS_CLASS_TIMEOUT, 1},
    {EVTLS_ERR_CERT_UNTRUSTED, "CERT_UNTRUSTED", "certificate not trusted", EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_CERT_EXPIRED, "CERT_EXPIRED", "certificate expired", EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_CERT_NOT_YET_VALID, "CERT_NOT_YET_VALID", "certificate not yet valid",
     EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_CERT_HOSTNAME, "CERT_HOSTNAME", "certificate does not match the host name",
     EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_CERT_INVALID, "CERT_INVALID", "certificate verification failed", EVTLS_CLASS_CERT,
     0},
    {EVTLS_ERR_PEER_ALERT, "PEER_ALERT", "peer sent a fatal alert", EVTLS_CLASS_TLS, 0},
    {EVTLS_ERR_PROTOCOL_VERSION, "PROTOCOL_VERSION", "no TLS version in common", EVTLS_CLASS_TLS,
     0},
    {EVTLS_ERR_HANDSHAKE_FAILED, "HANDSHAKE_FAILED", "TLS handshake failed (nothing in common)",
     EVTLS_CLASS_TLS, 0},
    {EVTLS_ERR_PROTOCOL, "PROTOCOL", "protocol error (malformed data from peer)", EVTLS_CLASS_TLS,
     0},
    {EVTLS_ERR_TLS, "TLS", "TLS error", EVTLS_CLASS_TLS, 0},
    {EVTLS_ERR_PEER_CLOSED, "PEER_CLOSED", "peer closed the connection", EVTLS_CLASS_PEER, 1},
    {EVTLS_ERR_PEER_RESET, "PEER_RESET", "connection reset by peer", EVTLS_CLASS_PEER, 1},
    {EVTLS_ERR_TIMEOUT, "TIMEOUT", "deadline exceeded", EVTLS_CLASS_TIMEOUT, 1},
    {EVTLS_EOF, "EOF", "end of stream (close_notify)", EVTLS_CLASS_PEER, 0},
    {EVTLS_ERR_POOL_WAIT_TIMEOUT, "POOL_WAIT_TIMEOUT", "no pooled connection free in time",
     EVTLS_CLASS_TIMEOUT, 1},
    {EVTLS_ERR_POOL_CLOSED, "POOL_CLOSED", "pool is shutting down", EVTLS_CLASS_USAGE, 0},
    {EVTLS_ERR_POOL_FREED, "POOL_FREED", "pool was freed", EVTLS_CLASS_USAGE, 0},
    {EVTLS_ERR_HTTP_MALFORMED, "HTTP_MALFORMED", "malformed HTTP response", EVTLS_CLASS_HTTP, 0},
    {EVTLS_ERR_HTTP_HEADERS_TOO_LARGE, "HTTP_HEADERS_TOO_LARGE", "HTTP response headers too large",
     EVTLS_CLASS_HTTP, 0},
    {EVTLS_ERR_HTTP_BODY_TOO_LARGE, "HTTP_BODY_TOO_LARGE", "HTTP response body too large",
     EVTLS_CLASS_HTTP, 0},
    {EVTLS_ERR_HTTP_TRUNCATED, "HTTP_TRUNCATED", "connection ended inside the HTTP response",
     EVTLS_CLASS_HTTP, 1},
    {EVTLS_ERR_HTTP_TTFB_TIMEOUT, "HTTP_TTFB_TIMEOUT", "no HTTP response within the TTFB timeout",
     EVTLS_CLASS_TIMEOUT, 1},
    {EVTLS_ERR_HTTP_TIMEOUT, "HTTP_TIMEOUT", "HTTP response stalled or took too long",
     EVTLS_CLASS_TIMEOUT, 1},
    {EVTLS_ERR_BAD_URL, "BAD_URL", "invalid URL", EVTLS_CLASS_USAGE, 0},
    {EVTLS_ERR_HTTP_ALPN, "HTTP_ALPN",
     "the connection negotiated a protocol other than HTTP/1.1 and h2", EVTLS_CLASS_HTTP, 0},
    {EVTLS_ERR_HTTP_TOO_MANY_REDIRECTS, "HTTP_TOO_MANY_REDIRECTS",
     "more redirects than the request follows", EVTLS_CLASS_HTTP, 0},
    {EVTLS_ERR_PSK, "PSK", "pre-shared key refused (identity or key do not match)", EVTLS_CLASS_TLS,
     0},
    {EVTLS_ERR_PIN_MISMATCH, "PIN_MISMATCH", "server public key does not match the pinned key",
     EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_CERT_WEAK_KEY, "CERT_WEAK_KEY", "certificate key too weak", EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_CERT_WEAK_SIGNATURE, "CERT_WEAK_SIGNATURE",
     "certificate signed with a weak digest (MD5 or SHA-1)", EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_CERT_REVOKED, "CERT_REVOKED", "certificate revoked", EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_TLS_RENEGOTIATION, "TLS_RENEGOTIATION",
     "the server asked to renegotiate, which evtls refuses", EVTLS_CLASS_TLS, 0},
    {EVTLS_ERR_CERT_STATUS, "CERT_STATUS", "no good stapled OCSP status for the certificate",
     EVTLS_CLASS_CERT, 0},
    {EVTLS_ERR_KEY_DEVICE, "KEY_DEVICE",
     "the client key's device (PKCS#11 token) failed to sign: removed, or its key gone",
     EVTLS_CLASS_TLS, 0},
    {EVTLS_ERR_PROXY_CONNECT, "PROXY_CONNECT", "cannot connect to the proxy", EVTLS_CLASS_NETWORK,
     1},
    {EVTLS_ERR_PROXY_REFUSED, "PROXY_REFUSED", "the proxy refused the tunnel", EVTLS_CLASS_PEER, 0},
    {EVTLS_ERR_INTERFACE, "INTERFACE", "cannot bind to the network interface", EVTLS_CLASS_NETWORK,
     0},
    {EVTLS_ERR_H2_REFUSED, "H2_REFUSED", "the server did not process the HTTP/2 stream",
     EVTLS_CLASS_PEER, 1},
    {EVTLS_ERR_H2_STREAM, "H2_STREAM", "the server reset the HTTP/2 stream", EVTLS_CLASS_HTTP, 0},
    {EVTLS_ERR_H2_CONNECTION, "H2_CONNECTION", "HTTP/2 connection error", EVTLS_CLASS_HTTP, 0},
};

static const struct err_desc *find(int code)
{
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (errs[i].code == code)
            return &errs[i];
    return NULL;
}

const char *evtls_strerror(int err)
{
    const struct err_desc *d = find(err);
    return d ? d->text : "unknown error";
}

const char *evtls_err_name(int err)
{
    const struct err_desc *d = find(err);
    return d ? d->name : "UNKNOWN";
}

evtls_err_class evtls_err_get_class(int err)
{
    const struct err_desc *d = find(err);
    return d ? d->cls : EVTLS_CLASS_INTERNAL;
}

int evtls_err_is_retryable(int err)
{
    const struct err_desc *d = find(err);
    return d ? d->retryable : 0;
}

const char *evtls_err_class_name(evtls_err_class cls)
{
    switch (cls) {
    case EVTLS_CLASS_NONE: return "none";
    case EVTLS_CLASS_USAGE: return "usage";
    case EVTLS_CLASS_CONFIG: return "config";
    case EVTLS_CLASS_RESOURCE: return "resource";
    case EVTLS_CLASS_DNS: return "dns";
    case EVTLS_CLASS_NETWORK: return "network";
    case EVTLS_CLASS_TIMEOUT: return "timeout";
    case EVTLS_CLASS_CERT: return "cert";
    case EVTLS_CLASS_TLS: return "tls";
    case EVTLS_CLASS_PEER: return "peer";
    case EVTLS_CLASS_INTERNAL: return "internal";
    case EVTLS_CLASS_HTTP: return "http";
    default: return "unknown";
    }
}

const char *evtls_alert_name(int alert)
{
    /* RFC 8446 section 6 and RFC 5246 section 7.2 alert descriptions. */
    switch (alert) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown";
    }
}

char *evtls_last_error_format(const evtls_last_error *e, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    if (e == NULL || e->code == EVTLS_OK) {
        snprintf(buf, size, "no error");
        return buf;
    }
    int n = snprintf(buf, size, "%s (%s)", evtls_strerror(e->code), evtls_err_name(e->code));
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used < size && e->detail[0])
        used += (size_t)snprintf(buf + used, size - used, ": %s", e->detail);
    if (used < size && e->tls_error)
        used += (size_t)snprintf(buf + used, size - used, "; tls %d %s", e->tls_error,
                                 e->tls_error_text);
    if (used < size && e->alert >= 0)
        used += (size_t)snprintf(buf + used, size - used, "; alert %d %s", e->alert,
                                 evtls_alert_name(e->alert));
    if (used < size && e->sys_errno)
        used += (size_t)snprintf(buf + used, size - used, "; errno %d %s", e->sys_errno,
                                 strerror(e->sys_errno));
    if (used < size && e->cert_flags)
        snprintf(buf + used, size - used, "; cert flags 0x%02x", (unsigned)e->cert_flags);
    return buf;
}

void evtls__err_clear(evtls_last_error *e)
{
    memset(e, 0, sizeof *e);
    e->alert = -1;
}

int evtls__err_set(evtls_last_error *e, int code, const char *fmt, ...)
{
    evtls__err_clear(e);
    e->code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof e->detail, fmt, ap);
        va_end(ap);
    }
    return code;
}

int evtls__err_from_errno(int err)
{
    switch (err) {
    case ECONNREFUSED: return EVTLS_ERR_CONN_REFUSED;
    case EHOSTUNREACH: return EVTLS_ERR_HOST_UNREACH;
    case ENETUNREACH:
    case EAFNOSUPPORT:
    case EADDRNOTAVAIL: return EVTLS_ERR_NET_UNREACH;
    case ETIMEDOUT: return EVTLS_ERR_CONNECT_TIMEOUT;
    case ECONNRESET: return EVTLS_ERR_PEER_RESET;
    case EPIPE: return EVTLS_ERR_PEER_CLOSED;
    case ENOMEM:
    case ENOBUFS: return EVTLS_ERR_NOMEM;
    default: return EVTLS_ERR_SOCKET;
    }
}
