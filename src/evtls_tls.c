/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_tls.c - wolfSSL client state machine over a non-blocking fd. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/x509v3.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <errno.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "evtls_error_int.h"
#include "evtls_log_int.h"
#include "evtls_mem_int.h"
#include "evtls_pin.h"
#include "evtls_x509.h"
#include "evtls_tls.h"

#define TICKETS_KEPT 4 /* TLS 1.3 tickets held until taken */

struct evtls__tls {
    WOLFSSL *ssl;
    int fd;
    unsigned long id;
    uint64_t bytes_in, bytes_out;
    uint64_t step_in, step_out; /* counters at the start of a handshake step */
    int io_errno;               /* errno of the first failed recv/send: the cause */
    int peer_closed;            /* recv returned 0 */
    int write_blocked;          /* the last write left part of a record unsent */
    unsigned hs_msgs_rx;        /* handshake messages received */
    int reneg_asked;            /* the server sent a HelloRequest (TLS 1.2) */
    uint32_t cert_flags;        /* from the verify callback */
    const char *last_state;     /* last logged handshake state */
    int want_session;           /* report new sessions */
    int new_ticket;             /* the last ticket arrived since the last take */
    int n_tickets;              /* earlier TLS 1.3 tickets' sessions, serialised */
    char check_ip[48];          /* an IP literal the certificate must name, or "" */
    int ip_mismatch;            /* the leaf did not name check_ip */
    uint8_t *ahead; /* bytes read past what wolfSSL asked for (in ahead_buf, or heap), or NULL */
    size_t ahead_off, ahead_len;
    int ahead_lost;       /* they could not be kept (out of memory): the stream is broken */
    uint8_t *prev_ticket; /* the last ticket's bytes (heap), NULL before one */
    size_t prev_ticket_len;
    uint8_t *ticket_der[TICKETS_KEPT];
    size_t ticket_len[TICKETS_KEPT];
    int session_taken;    /* the TLS 1.2 session was taken after the handshake */
    int offered;          /* a session was offered for resumption */
    const uint8_t *early; /* early data to send, NULL for none (the caller's bytes) */
    size_t early_len;
    int early_sent;    /* it went with the ClientHello */
    void *session_obj; /* wolfSSL's session object, when the memory layer knows it */
    int plain;         /* no TLS: recv and send (ssl is NULL) */
    int insecure;      /* verification is off but a pin is checked */
    const char *psk_identity;
    const uint8_t *psk_key;
    size_t psk_key_len;
    const uint8_t (*pins)[32];
    unsigned n_pins;
    int pin_mismatch;                   /* the leaf's key matched no pin */
    unsigned min_rsa_bits, min_ec_bits; /* the trust policy's key floors */
    int check_dns;                      /* the leaf must name the host in a DNS SAN */
    int policy_err;                     /* the trust policy's refusal, or 0 */
    int fail_depth;                     /* the first certificate refused, -1 before */
    uint32_t fail_flag;                 /* its EVTLS_CERT_* flag */
    char policy_detail[112];
    struct path_cert *path; /* the CA certificates sent, during the handshake */
    int n_path;
    int path_lost;     /* one could not be kept: EVTLS_ERR_NOMEM, or CERT_INVALID (too many) */
    size_t plain_sent; /* plain: bytes of the current write already sent */
};

/* A malloc'd DER copy of the connection's current session, or NULL. */
static uint8_t *session_der(WOLFSSL *ssl, size_t *len)
{
    WOLFSSL_SESSION *s = wolfSSL_get1_session(ssl);
    if (s == NULL)
        return NULL;
    int n = wolfSSL_i2d_SSL_SESSION(s, NULL);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    unsigned char *p = buf;
    if (buf && wolfSSL_i2d_SSL_SESSION(s, &p) != n) {
        free(buf);
        buf = NULL;
    }
    wolfSSL_SESSION_free(s);
    *len = buf ? (size_t)n : 0;
    return buf;
}

static int ticket_cb(WOLFSSL *ssl, const unsigned char *ticket, int len, void *ctx)
{
    evtls__tls *t = ctx;
    LOGD("conn#%lu: session ticket received (%d bytes)", t->id, len);
    /* Servers send several TLS 1.3 tickets (OpenSSL: two) so that a client
     * can resume several times, each ticket once (RFC 8446 appendix C.4).
     * wolfSSL keeps only the last one in the connection's session, and calls
     * this when the new ticket is in place but the rest of its message
     * (nonce, age_add, lifetime) is not yet: the session then holds this
     * ticket with the previous ticket's parameters. So the previous ticket
     * is put back for a moment, the session (now whole) serialised, and this
     * one restored. The last ticket is taken after the read, when whole. */
    t->new_ticket = 1;
    /* ticket points into the session itself: copy it before touching it.
     * (Heap, not a fixed array in every connection: most never get one.) */
    uint8_t *cur = len > 0 ? malloc((size_t)len) : NULL;
    if (cur == NULL)
        return 0; /* the last ticket is still taken after the read */
    memcpy(cur, ticket, (size_t)len);
    if (t->prev_ticket && t->n_tickets < TICKETS_KEPT &&
        wolfSSL_set_SessionTicket(ssl, t->prev_ticket, (word32)t->prev_ticket_len) ==
            WOLFSSL_SUCCESS) {
        uint8_t *der = session_der(ssl, &t->ticket_len[t->n_tickets]);
        if (der)
            t->ticket_der[t->n_tickets++] = der;
        wolfSSL_set_SessionTicket(ssl, cur, (word32)len);
    }
    free(t->prev_ticket);
    t->prev_ticket = cur;
    t->prev_ticket_len = (size_t)len;
    return 0;
}

/* ---- I/O callbacks: plain recv/send that remember errno and count bytes */

/* Keeps the first socket error: it is the cause. (After a reset seen by a
 * read, wolfSSL still tries to send an alert, and that send fails with
 * EPIPE.) */
static void note_errno(evtls__tls *t, int e)
{
    if (t->io_errno == 0)
        t->io_errno = e;
}

/* wolfSSL reads a record's 5-byte header and then its body, each with a
 * call of its own: two recv(2) per record. Instead one recv takes what the
 * socket has (up to a record and a header more) into a per-thread buffer,
 * and what wolfSSL did not ask for yet stays there, owned by that
 * connection, for its next calls (wolfSSL asks for the body at once). Only
 * when another connection of the thread needs the buffer first are the
 * owner's bytes moved to a heap copy of their own; an idle connection
 * holds none. */
#define READ_AHEAD (16384 + 256 + 2 * 5)
static _Thread_local uint8_t ahead_buf[READ_AHEAD];
static _Thread_local evtls__tls *ahead_owner; /* whose bytes are in ahead_buf */

static void drop_ahead(evtls__tls *t)
{
    if (t->ahead == NULL)
        return;
    if (t == ahead_owner) {
        ahead_owner = NULL;
    } else {
        evtls__mem_note(EVTLS_MEM_EVTLS, -(long)t->ahead_len);
        free(t->ahead);
    }
    t->ahead = NULL;
    t->ahead_off = t->ahead_len = 0;
}

/* Moves the buffer's owner's bytes to a heap copy. Returns 0, or -1 when
 * out of memory (the owner's bytes are then lost: its next read fails). */
static int evict_ahead(void)
{
    evtls__tls *o = ahead_owner;
    size_t left = o->ahead_len - o->ahead_off;
    uint8_t *copy = malloc(left);
    ahead_owner = NULL;
    if (copy == NULL) {
        o->ahead = NULL;
        o->ahead_off = o->ahead_len = 0;
        o->ahead_lost = 1;
        note_errno(o, ENOMEM);
        return -1;
    }
    memcpy(copy, o->ahead + o->ahead_off, left);
    o->ahead = copy;
    o->ahead_off = 0;
    o->ahead_len = left;
    evtls__mem_note(EVTLS_MEM_EVTLS, (long)left);
    return 0;
}

static int take_ahead(evtls__tls *t, char *buf, int sz)
{
    size_t n = t->ahead_len - t->ahead_off;
    if (n > (size_t)sz)
        n = (size_t)sz;
    memcpy(buf, t->ahead + t->ahead_off, n);
    t->ahead_off += n;
    if (t->ahead_off == t->ahead_len)
        drop_ahead(t);
    return (int)n;
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    evtls__tls *t = ctx;
    if (t->ahead)
        return take_ahead(t, buf, sz);
    if (t->ahead_lost)
        return WOLFSSL_CBIO_ERR_GENERAL;
    int direct = (size_t)sz >= READ_AHEAD;
    if (!direct && ahead_owner != NULL)
        evict_ahead(); /* an owner that loses its bytes fails on its own next read */
    ssize_t n = recv(t->fd, direct ? (void *)buf : ahead_buf, direct ? (size_t)sz : READ_AHEAD, 0);
    if (n > 0) {
        t->bytes_in += (uint64_t)n;
        if (direct || n <= sz) {
            if (!direct)
                memcpy(buf, ahead_buf, (size_t)n);
            return (int)n;
        }
        memcpy(buf, ahead_buf, (size_t)sz);
        t->ahead = ahead_buf;
        t->ahead_off = (size_t)sz;
        t->ahead_len = (size_t)n;
        ahead_owner = t;
        return sz;
    }
    if (n == 0) {
        t->peer_closed = 1;
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return WOLFSSL_CBIO_ERR_WANT_READ;
    if (errno == EINTR)
        return WOLFSSL_CBIO_ERR_ISR;
    note_errno(t, errno);
    return errno == ECONNRESET ? WOLFSSL_CBIO_ERR_CONN_RST : WOLFSSL_CBIO_ERR_GENERAL;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    evtls__tls *t = ctx;
    ssize_t n = send(t->fd, buf, (size_t)sz, MSG_NOSIGNAL);
    if (n >= 0) {
        t->bytes_out += (uint64_t)n;
        return (int)n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    if (errno == EINTR)
        return WOLFSSL_CBIO_ERR_ISR;
    note_errno(t, errno);
    if (errno == EPIPE)
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    return errno == ECONNRESET ? WOLFSSL_CBIO_ERR_CONN_RST : WOLFSSL_CBIO_ERR_GENERAL;
}

/* ---- verification and tracing callbacks */

/* The verify callback sees wolfSSL's own codes for some failures and, with
 * the OpenSSL compatibility layer this build has, X509_V_ERR_* values for
 * others: both are mapped. */
static uint32_t cert_flag_of(int err)
{
    switch (err) {
    case 0: return 0;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return EVTLS_CERT_UNTRUSTED;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD: return EVTLS_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD: return EVTLS_CERT_NOT_YET_VALID;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return EVTLS_CERT_BAD_SIGNATURE;
    case X509_V_ERR_CERT_REVOKED: return EVTLS_CERT_REVOKED;
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E: return EVTLS_CERT_UNTRUSTED;
    case ASN_AFTER_DATE_E: return EVTLS_CERT_EXPIRED;
    case ASN_BEFORE_DATE_E: return EVTLS_CERT_NOT_YET_VALID;
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH: return EVTLS_CERT_NAME_MISMATCH;
    case ASN_SIG_CONFIRM_E:
    case VERIFY_CERT_ERROR: return EVTLS_CERT_BAD_SIGNATURE;
    case CRL_CERT_REVOKED:
    case OCSP_CERT_REVOKED: return EVTLS_CERT_REVOKED;
    default: return EVTLS_CERT_OTHER;
    }
}

/* Parses an address literal into bytes; returns 4, 16, or 0. */
static int ip_bytes(const char *text, unsigned char out[16])
{
    if (inet_pton(AF_INET6, text, out) == 1)
        return 16;
    return inet_pton(AF_INET, text, out) == 1 ? 4 : 0;
}

/* RFC 9525 section 6.3: an IP address is matched against the certificate's
 * iPAddress SANs, byte for byte (so "::1" matches however it is written),
 * and never against the subject's CN (as Go and browsers). */
static int cert_names_ip(WOLFSSL_X509 *x, const char *ip)
{
    unsigned char want[16];
    int wlen = ip_bytes(ip, want), ok = 0;
    WOLFSSL_GENERAL_NAMES *names = wolfSSL_X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = names ? wolfSSL_sk_GENERAL_NAME_num(names) : 0;
    for (int i = 0; i < n && !ok; i++) {
        WOLFSSL_GENERAL_NAME *gn = wolfSSL_sk_GENERAL_NAME_value(names, i);
        if (gn && gn->type == GEN_IPADD && gn->d.iPAddress &&
            wolfSSL_ASN1_STRING_length(gn->d.iPAddress) == wlen)
            ok = memcmp(wolfSSL_ASN1_STRING_get0_data(gn->d.iPAddress), want, (size_t)wlen) == 0;
    }
    if (names)
        wolfSSL_GENERAL_NAMES_free(names);
    return ok;
}

/* Whether the leaf's public key (SHA-256 of its SubjectPublicKeyInfo, as
 * curl pins) is one of the pinned ones. */
static int pin_matches(const evtls__tls *t, WOLFSSL_X509 *x)
{
    int len = 0;
    const unsigned char *der = x ? wolfSSL_X509_get_der(x, &len) : NULL;
    const uint8_t *spki;
    size_t spki_len;
    uint8_t digest[32];
    if (der == NULL || len <= 0 || evtls__cert_spki(der, (size_t)len, &spki, &spki_len) != 0 ||
        wc_Sha256Hash(spki, (word32)spki_len, digest) != 0)
        return 0;
    for (unsigned i = 0; i < t->n_pins; i++)
        if (memcmp(t->pins[i], digest, 32) == 0)
            return 1;
    return 0;
}

/* TLS-PSK, TLS 1.2: the identity and the key. */
static unsigned psk_cb(WOLFSSL *ssl, const char *hint, char *identity, unsigned id_max,
                       unsigned char *key, unsigned key_max)
{
    (void)hint;
    const evtls__tls *t = wolfSSL_get_psk_callback_ctx(ssl);
    if (t == NULL || t->psk_identity == NULL || strlen(t->psk_identity) >= id_max ||
        t->psk_key_len > key_max)
        return 0;
    memcpy(identity, t->psk_identity, strlen(t->psk_identity) + 1);
    memcpy(key, t->psk_key, t->psk_key_len);
    return (unsigned)t->psk_key_len;
}

/* TLS 1.3 external PSK: wolfSSL asks per cipher suite; the key is one
 * for SHA-256 suites (RFC 8446 section 4.2.11: an external PSK has one
 * hash, SHA-256 unless agreed otherwise; OpenSSL's -psk is such a key). */
static unsigned psk13_cb(WOLFSSL *ssl, const char *hint, char *identity, unsigned id_max,
                         unsigned char *key, unsigned key_max, const char *suite)
{
    if (suite && strstr(suite, "SHA256") == NULL)
        return 0;
    return psk_cb(ssl, hint, identity, id_max, key, key_max);
}

/* What the trust policy keeps of a CA certificate the server sent, until
 * the leaf comes and the path through them is known. */
struct path_cert {
    uint8_t subject[16], issuer[16]; /* SHA-256 of the Names, truncated */
    struct evtls__cert_facts f;      /* its name pointers are not kept */
};
#define PATH_CERTS_MAX 10

static void name_hash(const uint8_t *der, size_t len, uint8_t out[16])
{
    uint8_t d[WC_SHA256_DIGEST_SIZE];
    if (wc_Sha256Hash(der, (word32)len, d) != 0)
        memset(d, 0, sizeof d);
    memcpy(out, d, 16);
}

/* The trust policy for one certificate of the verified path at depth:
 * key floors, no MD5 or SHA-1 signature but a trust anchor's own
 * self-signature, a CA above the leaf, and (the leaf, a host name) a
 * subjectAltName to match, never the subject's CN (RFC 9525 section 6.3).
 * Returns 0 when it passes, else sets policy_err and its detail. */
static int policy_refuses(evtls__tls *t, const struct evtls__cert_facts *f, int depth)
{
    unsigned floor = f->key_type == EVTLS__KEY_EC ? t->min_ec_bits
                     : f->key_type == EVTLS__KEY_RSA || f->key_type == EVTLS__KEY_DSA
                         ? t->min_rsa_bits
                         : 0;
    if (f->key_bits < floor) {
        t->policy_err = EVTLS_ERR_CERT_WEAK_KEY;
        snprintf(t->policy_detail, sizeof t->policy_detail,
                 "the certificate at depth %d has a %s-%u key, below the floor of %u bits", depth,
                 evtls__key_type_name(f->key_type), f->key_bits, floor);
        return 1;
    }
    if (depth > 0 && !f->is_ca && !f->self_issued) { /* a self-issued one is an anchor's matter */
        t->policy_err = EVTLS_ERR_CERT_INVALID;
        snprintf(t->policy_detail, sizeof t->policy_detail,
                 "the certificate at depth %d signs others but is not a CA (basicConstraints)",
                 depth);
        return 1;
    }
    if (evtls__hash_is_weak(f->sig_hash) && !f->self_issued) {
        t->policy_err = EVTLS_ERR_CERT_WEAK_SIGNATURE;
        snprintf(t->policy_detail, sizeof t->policy_detail,
                 "the certificate at depth %d is signed with %s", depth, f->sig_name);
        return 1;
    }
    if (depth == 0 && t->check_dns && !f->has_san) {
        t->policy_err = EVTLS_ERR_CERT_HOSTNAME;
        snprintf(t->policy_detail, sizeof t->policy_detail,
                 "the certificate has no subjectAltName (its subject CN is not used for names)");
        return 1;
    }
    return 0;
}

/* The leaf has verified: the policy for it, then for each certificate of
 * its path the server sent, found by issuer name up to one not sent (the
 * trust anchor in the store) or a self-issued one. Extra certificates the
 * server sent that are not on the path are not judged (as OpenSSL). */
static int path_refuses(evtls__tls *t, const struct evtls__cert_facts *leaf)
{
    if (t->path_lost) {
        t->policy_err = t->path_lost;
        snprintf(t->policy_detail, sizeof t->policy_detail,
                 "the server's chain could not be judged (more than %d CA certificates, or out "
                 "of memory)",
                 PATH_CERTS_MAX);
        return 1;
    }
    if (policy_refuses(t, leaf, 0))
        return 1;
    uint8_t want[16];
    name_hash(leaf->issuer, leaf->issuer_len, want);
    for (int depth = 1; depth <= t->n_path; depth++) {
        const struct path_cert *pc = NULL;
        for (int i = 0; i < t->n_path && pc == NULL; i++)
            if (memcmp(t->path[i].subject, want, sizeof want) == 0)
                pc = &t->path[i];
        if (pc == NULL)
            return 0;
        if (policy_refuses(t, &pc->f, depth))
            return 1;
        if (pc->f.self_issued)
            return 0;
        memcpy(want, pc->issuer, sizeof want);
    }
    return 0;
}

/* The facts of the certificate wolfSSL hands the verify callback: 0 or -1. */
static int facts_of(WOLFSSL_X509 *x, struct evtls__cert_facts *f)
{
    int len = 0;
    const unsigned char *der = x ? wolfSSL_X509_get_der(x, &len) : NULL;
    return der && len > 0 ? evtls__cert_facts(der, (size_t)len, f) : -1;
}

/* The leaf is the last certificate: what was kept of the others goes. */
static void path_drop(evtls__tls *t)
{
    free(t->path);
    t->path = NULL;
    t->n_path = 0;
}

/* A leaf without a signer whose issuer the server did send, as a
 * certificate that is not a CA: the cause is that certificate, named as
 * such (CERT_INVALID) rather than "untrusted". */
static void leaf_issuer_not_ca(evtls__tls *t, WOLFSSL_X509 *x)
{
    struct evtls__cert_facts f;
    if (facts_of(x, &f) != 0)
        return;
    uint8_t want[16];
    name_hash(f.issuer, f.issuer_len, want);
    for (int i = 0; i < t->n_path; i++)
        if (memcmp(t->path[i].subject, want, sizeof want) == 0 && !t->path[i].f.is_ca &&
            !t->path[i].f.self_issued) {
            t->policy_err = EVTLS_ERR_CERT_INVALID;
            snprintf(t->policy_detail, sizeof t->policy_detail, "%s",
                     "the certificate at depth 1 signs others but is not a CA (basicConstraints)");
            return;
        }
}

/* Keeps a certificate the server sent above the leaf, for path_refuses. */
static void path_keep(evtls__tls *t, const struct evtls__cert_facts *f)
{
    if (t->path == NULL && (t->path = calloc(PATH_CERTS_MAX, sizeof *t->path)) == NULL) {
        t->path_lost = EVTLS_ERR_NOMEM; /* the path cannot be judged: refused at the leaf */
        return;
    }
    if (t->n_path == PATH_CERTS_MAX) {
        t->path_lost = EVTLS_ERR_CERT_INVALID;
        return;
    }
    struct path_cert *pc = &t->path[t->n_path++];
    name_hash(f->subject, f->subject_len, pc->subject);
    name_hash(f->issuer, f->issuer_len, pc->issuer);
    pc->f = *f;
    pc->f.issuer = pc->f.subject = NULL;
}

/* Called for every certificate of the chain, the leaf (depth 0) last, and
 * on success too (WOLFSSL_ALWAYS_VERIFY_CB: both builds have it). The
 * leaf is where an IP literal is checked: the callback sees the leaf in
 * either build, where wolfSSL_get_peer_certificate needs KEEP_PEER_CERT,
 * a copy per connection that the tuned build does not keep. */
static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    evtls__tls *t = store->userCtx;
    if (t == NULL)
        return preverify;
    if (!preverify && t->insecure)
        preverify = 1; /* verification is off: only the pin is checked */
    int depth = store->error_depth;
    if (!preverify) {
        uint32_t flag = cert_flag_of(store->error);
        t->cert_flags |= flag;
        if (t->fail_depth < 0) { /* the first refusal is the cause; the leaf's may follow */
            t->fail_depth = depth;
            t->fail_flag = flag;
        }
        LOGD("conn#%lu: certificate at depth %d rejected: %d", t->id, depth, store->error);
        if (depth == 0) { /* no signer: was its issuer sent, but no CA? */
            leaf_issuer_not_ca(t, store->current_cert);
            path_drop(t);
        }
#ifdef WOLFSSL_ALT_CERT_CHAINS
        /* A certificate above the leaf that does not verify is never made a
         * signer (alternate chains: wolfSSL skips adding a CA that failed),
         * so it is let pass: an extra one the server sends beside its path
         * (another root, another PKI's or an expired intermediate) does not
         * fail the handshake, as with OpenSSL; the leaf must still verify
         * through certificates that did. */
        if (depth > 0)
            return 1;
#endif
        return 0; /* never overrides wolfSSL's verdict */
    }
    if (t->insecure)
        goto pin;
    struct evtls__cert_facts f;
    if (facts_of(store->current_cert, &f) != 0) {
        t->policy_err = EVTLS_ERR_CERT_INVALID;
        snprintf(t->policy_detail, sizeof t->policy_detail,
                 "the certificate at depth %d could not be read", depth);
        return 0;
    }
    if (depth > 0) {
        path_keep(t, &f);
        return 1;
    }
    int refused = path_refuses(t, &f);
    path_drop(t);
    if (refused) {
        t->cert_flags |=
            t->policy_err == EVTLS_ERR_CERT_HOSTNAME ? EVTLS_CERT_NAME_MISMATCH : EVTLS_CERT_WEAK;
        LOGD("conn#%lu: %s", t->id, t->policy_detail);
        return 0;
    }
    if (t->check_ip[0] && !cert_names_ip(store->current_cert, t->check_ip)) {
        t->cert_flags |= EVTLS_CERT_NAME_MISMATCH;
        t->ip_mismatch = 1;
        LOGD("conn#%lu: the certificate does not name %s", t->id, t->check_ip);
        return 0;
    }
pin:
    if (depth == 0 && t->n_pins && !pin_matches(t, store->current_cert)) {
        t->pin_mismatch = 1;
        LOGD("conn#%lu: the server's public key matches no pinned key", t->id);
        return 0;
    }
    return 1;
}

static const char *hs_type_name(int type)
{
    switch (type) {
    case 0: return "HelloRequest";
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 4: return "NewSessionTicket";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 12: return "ServerKeyExchange";
    case 13: return "CertificateRequest";
    case 14: return "ServerHelloDone";
    case 15: return "CertificateVerify";
    case 16: return "ClientKeyExchange";
    case 20: return "Finished";
    case 24: return "KeyUpdate";
    default: return "other";
    }
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   WOLFSSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    evtls__tls *t = arg;
    if (content_type != 22 || buf == NULL || len == 0) /* handshake messages only */
        return;
    const uint8_t *b = buf;
    /* Outgoing messages come with their 5-byte record header. */
    if (write_p && len > 5 && b[0] == 22)
        b += 5, len -= 5;
    int type = b[0];
    if (!write_p)
        t->hs_msgs_rx++;
    LOGD("conn#%lu: %s %s (%zu bytes)", t->id, write_p ? ">>>" : "<<<", hs_type_name(type), len);
}

/* wolfSSL's "info" callback, set on the context: it sees every alert this
 * side sends, encrypted or not (the message callback sees only what goes
 * in the clear). A no_renegotiation alert is wolfSSL's answer to a
 * server's HelloRequest: the next read ends the connection. */
static void info_cb(const WOLFSSL *ssl, int where, int val)
{
    if (!(where & SSL_CB_ALERT))
        return;
    evtls__tls *t = wolfSSL_GetIOReadCtx((WOLFSSL *)ssl);
    if (t == NULL)
        return;
    LOGD("conn#%lu: >>> alert %d (%s)", t->id, val & 0xff, evtls_alert_name(val & 0xff));
    if ((val & 0xff) == 100) /* no_renegotiation */
        t->reneg_asked = 1;
}

void evtls__tls_ctx_prepare(void *ctx)
{
    wolfSSL_CTX_set_info_callback((WOLFSSL_CTX *)ctx, info_cb);
}

/* ---- error mapping */

void evtls__tls_error_text(int code, char *buf, size_t size)
{
    char tmp[WOLFSSL_MAX_ERROR_SZ];
    wolfSSL_ERR_error_string_n((unsigned long)(long)code, tmp, sizeof tmp);
    snprintf(buf, size, "%s", tmp);
}

static int map_alert(int alert)
{
    switch (alert) {
    case 70: return EVTLS_ERR_PROTOCOL_VERSION;  /* protocol_version */
    case 40:                                     /* handshake_failure */
    case 71:                                     /* insufficient_security */
    case 120: return EVTLS_ERR_HANDSHAKE_FAILED; /* no_application_protocol */
    default: return EVTLS_ERR_PEER_ALERT;
    }
}

static int map_code(evtls__tls *t, int code)
{
    if (t->pin_mismatch)
        return EVTLS_ERR_PIN_MISMATCH;
    if (t->policy_err)
        return t->policy_err;
    if (t->fail_flag & EVTLS_CERT_EXPIRED) /* the first refusal, not the leaf's "no signer" */
        return EVTLS_ERR_CERT_EXPIRED;
    if (t->fail_flag & EVTLS_CERT_NOT_YET_VALID)
        return EVTLS_ERR_CERT_NOT_YET_VALID;
    if (t->fail_flag & EVTLS_CERT_REVOKED)
        return EVTLS_ERR_CERT_REVOKED;
    if (t->ip_mismatch) /* our verify callback's refusal (VERIFY_CERT_ERROR) */
        return EVTLS_ERR_CERT_HOSTNAME;
    switch (code) {
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E: return EVTLS_ERR_CERT_UNTRUSTED;
    case ASN_AFTER_DATE_E: return EVTLS_ERR_CERT_EXPIRED;
    case ASN_BEFORE_DATE_E: return EVTLS_ERR_CERT_NOT_YET_VALID;
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH: return EVTLS_ERR_CERT_HOSTNAME;
    case CRL_CERT_REVOKED:
    case OCSP_CERT_REVOKED: return EVTLS_ERR_CERT_REVOKED;
    case OCSP_CERT_UNKNOWN:            /* no status stapled, or "unknown" */
    case BAD_CERTIFICATE_STATUS_ERROR: /* a stapled response that does not verify */
        return EVTLS_ERR_CERT_STATUS;
    case ASN_SIG_CONFIRM_E:
    case VERIFY_CERT_ERROR:
    case EXTKEYUSE_AUTH_E:
    case KEYUSE_SIGNATURE_E:
    case MAX_CHAIN_ERROR: return EVTLS_ERR_CERT_INVALID;
    case VERSION_ERROR:
    case UNSUPPORTED_PROTO_VERSION:
        /* Garbage also fails the record version check; only a peer that
         * really answered (a handshake message) is a version mismatch. */
        return t->hs_msgs_rx > 0 ? EVTLS_ERR_PROTOCOL_VERSION : EVTLS_ERR_PROTOCOL;
    case MATCH_SUITE_ERROR:
    case UNSUPPORTED_SUITE:
    case KEY_SHARE_ERROR:
    case UNKNOWN_ALPN_PROTOCOL_NAME_E: return EVTLS_ERR_HANDSHAKE_FAILED;
    case MEMORY_E:
    case MEMORY_ERROR: return EVTLS_ERR_NOMEM;
    case WC_HW_E: /* the client key's device (its crypto callback) failed */
    case WC_HW_WAIT_E: return EVTLS_ERR_KEY_DEVICE;
    case SOCKET_PEER_CLOSED_E:
    case ZERO_RETURN: return EVTLS_ERR_PEER_CLOSED;
    case SOCKET_ERROR_E:
        if (t->peer_closed)
            return EVTLS_ERR_PEER_CLOSED;
        return t->io_errno ? evtls__err_from_errno(t->io_errno) : EVTLS_ERR_SOCKET;
    case PARSE_ERROR:
    case UNKNOWN_RECORD_TYPE:
    case LENGTH_ERROR:
    case BUFFER_ERROR:
    case UNKNOWN_HANDSHAKE_TYPE:
    case OUT_OF_ORDER_E:
    case SANITY_MSG_E:
    case DUPLICATE_MSG_E:
    case DECRYPT_ERROR:
    case VERIFY_MAC_ERROR:
    case AES_GCM_AUTH_E: /* a record whose AEAD tag does not verify */
    case AES_CCM_AUTH_E:
    case MAC_CMP_FAILED_E:
    case VERIFY_FINISHED_ERROR:
    case HANDSHAKE_SIZE_ERROR:
    case DECODE_E:
    case INCOMPLETE_DATA:
    case BUFFER_E:
    case ASN_PARSE_E:
    case EXT_NOT_ALLOWED:
    case BAD_KEY_SHARE_DATA: return EVTLS_ERR_PROTOCOL;
    default: break;
    }
    if (t->cert_flags & EVTLS_CERT_UNTRUSTED)
        return EVTLS_ERR_CERT_UNTRUSTED;
    if (t->cert_flags & EVTLS_CERT_EXPIRED)
        return EVTLS_ERR_CERT_EXPIRED;
    if (t->cert_flags & EVTLS_CERT_NOT_YET_VALID)
        return EVTLS_ERR_CERT_NOT_YET_VALID;
    if (t->cert_flags & EVTLS_CERT_NAME_MISMATCH)
        return EVTLS_ERR_CERT_HOSTNAME;
    if (t->cert_flags)
        return EVTLS_ERR_CERT_INVALID;
    return EVTLS_ERR_TLS;
}

/* Turns a failed wolfSSL call's result into a status and, on failure, a
 * filled error record. */
static evtls__tls_status status_of(evtls__tls *t, int ret, int in_handshake, evtls_last_error *e)
{
    int err = wolfSSL_get_error(t->ssl, ret);
    if (err == WOLFSSL_ERROR_WANT_READ)
        return EVTLS__TLS_WANT_READ;
    if (err == WOLFSSL_ERROR_WANT_WRITE)
        return EVTLS__TLS_WANT_WRITE;
    if (err == WOLFSSL_ERROR_ZERO_RETURN && !in_handshake)
        return EVTLS__TLS_EOF;
    int code;
    WOLFSSL_ALERT_HISTORY h;
    memset(&h, 0, sizeof h);
    wolfSSL_get_alert_history(t->ssl, &h);
    int alert = -1;
    if (err == WOLFSSL_ERROR_ZERO_RETURN) {
        code = EVTLS_ERR_PEER_CLOSED; /* close_notify before the handshake ended */
    } else if (err == WOLFSSL_ERROR_SYSCALL) {
        code = t->io_errno ? evtls__err_from_errno(t->io_errno) : EVTLS_ERR_PEER_CLOSED;
    } else if (err == FATAL_ERROR && h.last_rx.code > 0) {
        alert = h.last_rx.code;
        code = map_alert(alert);
    } else {
        code = map_code(t, err);
    }
    if (code == EVTLS_ERR_PEER_CLOSED && t->io_errno == ECONNRESET)
        code = EVTLS_ERR_PEER_RESET;
    /* With a PSK, what a server that does not share the key or know the
     * identity answers: OpenSSL sends bad_record_mac (TLS 1.2), or
     * illegal_parameter or decrypt_error (a TLS 1.3 binder that does not
     * verify), handshake_failure or unknown_psk_identity (an identity it
     * does not know); or our Finished check fails. */
    int psk_refused =
        in_handshake && t->psk_identity &&
        (alert == 20 || alert == 40 || alert == 47 || alert == 51 || alert == 115 ||
         err == VERIFY_FINISHED_ERROR || err == VERIFY_MAC_ERROR || err == PSK_KEY_ERROR);
    evtls__err_set(e, code, "%s", in_handshake ? "during the TLS handshake" : "on the TLS stream");
    e->tls_error = err;
    evtls__tls_error_text(err, e->tls_error_text, sizeof e->tls_error_text);
    e->sys_errno = t->io_errno;
    e->cert_flags = t->cert_flags;
    e->alert = alert;
    if (t->ip_mismatch)
        snprintf(e->detail, sizeof e->detail, "the certificate does not name %s", t->check_ip);
    if (t->pin_mismatch)
        snprintf(e->detail, sizeof e->detail, "%s", "no pinned key is the server's");
    else if (t->policy_err)
        snprintf(e->detail, sizeof e->detail, "%s", t->policy_detail);
    else if (err == OCSP_CERT_UNKNOWN || err == BAD_CERTIFICATE_STATUS_ERROR)
        snprintf(e->detail, sizeof e->detail, "%s",
                 "no good OCSP status for the server's certificate: none stapled, unknown, or "
                 "not verified");
    else if (err == HANDSHAKE_SIZE_ERROR)
        snprintf(e->detail, sizeof e->detail, "%s",
                 "a handshake message (the server's certificates) larger than this wolfSSL "
                 "takes: Debian's build stops at about 18 KB, evtls's tuned build at 64 KB");
    else if (t->fail_depth > 0 && evtls_err_get_class(code) == EVTLS_CLASS_CERT)
        snprintf(e->detail, sizeof e->detail, "the certificate at depth %d: %s", t->fail_depth,
                 evtls_strerror(code));
    /* wolfSSL 5.5 sets its TLS 1.3 flag while it computes the PSK binders
     * of the ClientHello and does not clear it when a TLS 1.2 server
     * answers: the ServerHello is then taken through the TLS 1.3 key
     * schedule and fails (VERSION_ERROR). No automatic retry at TLS 1.2 (a
     * fallback an attacker could force); the error says what to set. */
    if (in_handshake && t->psk_identity && err == VERSION_ERROR && alert < 0 &&
        wolfSSL_version(t->ssl) == TLS1_2_VERSION) {
        e->code = EVTLS_ERR_PROTOCOL_VERSION;
        snprintf(e->detail, sizeof e->detail, "%s",
                 "the server answered a TLS 1.3 PSK offer with TLS 1.2, which this wolfSSL "
                 "cannot take: set the highest version to TLS 1.2 for it (--tls-max 1.2)");
        return EVTLS__TLS_FAIL;
    }
    if (psk_refused) {
        e->code = EVTLS_ERR_PSK;
        snprintf(e->detail, sizeof e->detail,
                 "the server refused the pre-shared key of identity '%s'%s%s%s", t->psk_identity,
                 alert >= 0 ? " (alert " : "", alert >= 0 ? evtls_alert_name(alert) : "",
                 alert >= 0 ? ")" : "");
        return EVTLS__TLS_FAIL;
    }
    if (code == EVTLS_ERR_PEER_ALERT || code == EVTLS_ERR_PROTOCOL_VERSION ||
        code == EVTLS_ERR_HANDSHAKE_FAILED)
        if (alert >= 0)
            snprintf(e->detail, sizeof e->detail, "peer sent alert %d (%s)", alert,
                     evtls_alert_name(alert));
    return EVTLS__TLS_FAIL;
}

/* ---- public (internal) API */

evtls__tls *evtls__tls_new(void *ctx, int fd, const struct evtls__tls_params *p,
                           evtls_last_error *e)
{
    evtls__tls *t = calloc(1, sizeof *t);
    if (t == NULL) {
        evtls__err_set(e, EVTLS_ERR_NOMEM, "tls state");
        return NULL;
    }
    evtls__mem_note(EVTLS_MEM_EVTLS, (long)sizeof *t);
    t->fd = fd;
    t->id = p->id;
    if (p->plain) {
        t->plain = 1;
        return t;
    }
    t->psk_identity = p->psk_identity;
    t->psk_key = p->psk_key;
    t->psk_key_len = p->psk_key_len;
    t->pins = p->pins;
    t->n_pins = p->n_pins;
    t->min_rsa_bits = p->min_rsa_bits;
    t->min_ec_bits = p->min_ec_bits;
    t->fail_depth = -1;
    if (!p->insecure &&
        (p->min_rsa_bits < EVTLS_MIN_RSA_BITS || p->min_ec_bits < EVTLS_MIN_EC_BITS))
        LOGW("conn#%lu: WEAK KEYS ACCEPTED: certificate key floors lowered to RSA %u, EC %u bits",
             p->id, p->min_rsa_bits, p->min_ec_bits);
    evtls_mem_owner prev = evtls__mem_owner_set(EVTLS_MEM_TLS_CONN);
    evtls__mem_session_watch();
    t->ssl = wolfSSL_new((WOLFSSL_CTX *)ctx);
    t->session_obj = evtls__mem_session_taken();
    evtls__mem_owner_set(prev);
    if (t->ssl == NULL) {
        evtls__err_set(e, EVTLS_ERR_NOMEM, "wolfSSL_new");
        evtls__mem_note(EVTLS_MEM_EVTLS, -(long)sizeof *t);
        free(t);
        return NULL;
    }
    WOLFSSL *ssl = t->ssl;
    wolfSSL_SSLSetIORecv(ssl, io_recv);
    wolfSSL_SSLSetIOSend(ssl, io_send);
    wolfSSL_SetIOReadCtx(ssl, t);
    wolfSSL_SetIOWriteCtx(ssl, t);
    wolfSSL_set_msg_callback(ssl, msg_cb);
    wolfSSL_set_msg_callback_arg(ssl, t);
    /* The empty renegotiation_info extension (RFC 5746), as every current
     * client sends: a TLS 1.2 server learns the client is not vulnerable to
     * the renegotiation splice. evtls itself never renegotiates: a server's
     * HelloRequest ends the connection (EVTLS_ERR_TLS_RENEGOTIATION). */
    int rc = wolfSSL_UseSecureRenegotiation(ssl);
    if (p->psk_identity) {
        wolfSSL_set_psk_callback_ctx(ssl, t);
        wolfSSL_set_psk_client_callback(ssl, psk_cb);
        wolfSSL_set_psk_client_cs_callback(ssl, psk13_cb);
    }
    if (p->insecure) {
        LOGW("conn#%lu: INSECURE: certificate verification is off for %s", t->id, p->name);
        if (p->n_pins) { /* the callback passes everything but the pin */
            t->insecure = 1;
            wolfSSL_set_verify(ssl, WOLFSSL_VERIFY_PEER, verify_cb);
            wolfSSL_SetCertCbCtx(ssl, t);
        } else {
            wolfSSL_set_verify(ssl, WOLFSSL_VERIFY_NONE, NULL);
        }
    } else {
        wolfSSL_set_verify(ssl, WOLFSSL_VERIFY_PEER, verify_cb);
        wolfSSL_SetCertCbCtx(ssl, t);
        if (p->skip_common_name)
            LOGW("conn#%lu: host name check skipped for %s (skip_common_name)", t->id, p->name);
        else if (p->name_is_ip) {
            /* wolfSSL's handshake does not apply the parameter's IP address
             * check (seen with Debian's 5.5: any address was accepted), so
             * the address is checked when the handshake is done. */
            snprintf(t->check_ip, sizeof t->check_ip, "%s", p->name);
        } else {
            t->check_dns = 1;
            rc = wolfSSL_check_domain_name(ssl, p->name);
        }
    }
#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
    /* No nonce: a server staples a response it fetched before (RFC 6961). */
    if (rc == WOLFSSL_SUCCESS && p->cert_status && !p->insecure)
        rc = wolfSSL_UseOCSPStapling(ssl, WOLFSSL_CSR_OCSP, 0);
#endif
    /* RFC 6066 section 3: SNI carries host names, never IP literals. */
    if (rc == WOLFSSL_SUCCESS && !p->name_is_ip)
        rc = wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, p->name, (word16)strlen(p->name));
    if (rc == WOLFSSL_SUCCESS && p->alpn) {
        char list[256];
        snprintf(list, sizeof list, "%s", p->alpn);
        rc = wolfSSL_UseALPN(ssl, list, (word32)strlen(list),
                             p->alpn_fail_on_mismatch ? WOLFSSL_ALPN_FAILED_ON_MISMATCH
                                                      : WOLFSSL_ALPN_CONTINUE_ON_MISMATCH);
    }
    t->want_session = p->want_session;
    if (rc == WOLFSSL_SUCCESS && p->want_session)
        rc = wolfSSL_set_SessionTicket_cb(ssl, ticket_cb, t);
    if (rc == WOLFSSL_SUCCESS && p->session && p->session_len) {
        const unsigned char *q = p->session;
        WOLFSSL_SESSION *sess = wolfSSL_d2i_SSL_SESSION(NULL, &q, (long)p->session_len);
        /* A session that does not load or apply is no error: the handshake
         * is simply a full one. */
        if (sess) {
            if (wolfSSL_set_session(ssl, sess) == WOLFSSL_SUCCESS) {
                t->offered = 1;
#ifdef WOLFSSL_EARLY_DATA
                /* Only as much as the ticket allows (RFC 8446 section
                 * 4.6.1) and the configuration asks: else none is sent. */
                unsigned allowed = wolfSSL_SESSION_get_max_early_data(sess);
                if (p->early && p->early_len && p->early_len <= allowed &&
                    p->early_len <= p->early_max && !p->psk_identity) {
                    t->early = p->early;
                    t->early_len = p->early_len;
                    /* wolfSSL 5.5 checks received application data against
                     * the early-data limit on the client too (a server's
                     * check, made without the side once early data was
                     * accepted): with the default limit, a response longer
                     * than it failed with unexpected_message. The client's
                     * limit limits nothing else. */
                    wolfSSL_set_max_early_data(ssl, UINT32_MAX);
                }
#endif
            }
            wolfSSL_SESSION_free(sess);
        }
    }
    if (rc != WOLFSSL_SUCCESS) {
        evtls__err_set(e, EVTLS_ERR_TLS, "setting up the TLS session for %s", p->name);
        e->tls_error = rc;
        evtls__tls_free(t);
        return NULL;
    }
    return t;
}

evtls__tls_status evtls__tls_handshake(evtls__tls *t, evtls_last_error *e)
{
    if (t->plain)
        return EVTLS__TLS_DONE;
    t->step_in = t->bytes_in;
    t->step_out = t->bytes_out;
    evtls_mem_owner prev = evtls__mem_owner_set(EVTLS_MEM_TLS_HANDSHAKE);
    int ret = WOLFSSL_SUCCESS;
#ifdef WOLFSSL_EARLY_DATA
    if (t->early && !t->early_sent) {
        /* The ClientHello, then the early data in one record, each call
         * going as far as the socket allows; called again with the same
         * bytes after WANT_READ / WANT_WRITE, as wolfSSL asks. */
        int out = 0;
        ret = wolfSSL_write_early_data(t->ssl, t->early, (int)t->early_len, &out);
        if (ret > 0 && (size_t)out == t->early_len) {
            t->early_sent = 1;
            ret = WOLFSSL_SUCCESS;
        } else if (ret > 0) { /* never with one record: fail rather than lose bytes */
            evtls__mem_owner_set(prev);
            evtls__err_set(e, EVTLS_ERR_INTERNAL, "early data: %d of %zu bytes taken", out,
                           t->early_len);
            return EVTLS__TLS_FAIL;
        }
    }
#endif
    if (ret == WOLFSSL_SUCCESS)
        ret = wolfSSL_connect(t->ssl);
    evtls__mem_owner_set(prev);
    evtls__tls_status st = ret == WOLFSSL_SUCCESS ? EVTLS__TLS_DONE : status_of(t, ret, 1, e);
    /* Released once the handshake is done (s2n calls this releasing a
     * connection's buffers): the handshake's secrets and randoms (the
     * session keeps what resumption needs: tickets arriving later are
     * still stored and resumed, as test_load and test_pool show), and the
     * pages of the session object's certificate slots that stayed empty
     * (bench_mem prints how much). */
    if (st == EVTLS__TLS_DONE) {
        wolfSSL_FreeArrays(t->ssl);
        evtls__mem_release_zero_pages(t->session_obj);
    }
    if (evtls__log_enabled(EVTLS_LOG_DEBUG)) {
        const char *state = wolfSSL_state_string_long(t->ssl);
        if (state && state != t->last_state) {
            LOGD("conn#%lu: handshake state: %s", t->id, state);
            t->last_state = state;
        }
        if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE)
            LOGD("conn#%lu: %s (moved: in %llu B, out %llu B)", t->id,
                 st == EVTLS__TLS_WANT_READ ? "WANT_READ" : "WANT_WRITE",
                 (unsigned long long)(t->bytes_in - t->step_in),
                 (unsigned long long)(t->bytes_out - t->step_out));
    }
    return st;
}

/* Plain TCP: a recv or send, with the same statuses and errors. */
static evtls__tls_status plain_status(evtls__tls *t, ssize_t r, evtls_last_error *e)
{
    if (r == 0) {
        t->peer_closed = 1;
        return EVTLS__TLS_EOF; /* a FIN is the end of a plain stream */
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return EVTLS__TLS_WANT_READ;
    note_errno(t, errno);
    evtls__err_set(e, evtls__err_from_errno(errno), "%s", "on the TCP stream");
    e->sys_errno = errno;
    return EVTLS__TLS_FAIL;
}

evtls__tls_status evtls__tls_read(evtls__tls *t, uint8_t *buf, size_t cap, size_t *n,
                                  evtls_last_error *e)
{
    if (t->plain) {
        ssize_t r = recv(t->fd, buf, cap, 0);
        *n = r > 0 ? (size_t)r : 0;
        if (r > 0) {
            t->bytes_in += (uint64_t)r;
            return EVTLS__TLS_DONE;
        }
        return plain_status(t, r, e);
    }
    evtls_mem_owner prev = evtls__mem_owner_set(EVTLS_MEM_TLS_RECORDS);
    int ret =
        t->reneg_asked ? 0 : wolfSSL_read(t->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    evtls__mem_owner_set(prev);
    if (ret > 0) {
        *n = (size_t)ret;
        return EVTLS__TLS_DONE;
    }
    *n = 0;
    if (t->reneg_asked) { /* what came before it was delivered; this ends the stream */
        evtls__err_set(e, EVTLS_ERR_TLS_RENEGOTIATION, "%s",
                       "the server asked to renegotiate (HelloRequest); evtls does not "
                       "renegotiate and answered no_renegotiation");
        return EVTLS__TLS_FAIL;
    }
    return status_of(t, ret, 0, e);
}

evtls__tls_status evtls__tls_write(evtls__tls *t, const uint8_t *buf, size_t len,
                                   evtls_last_error *e)
{
    if (t->plain) {
        /* DONE only when all went: the caller gives the same bytes again. */
        while (t->plain_sent < len) {
            ssize_t r = send(t->fd, buf + t->plain_sent, len - t->plain_sent, MSG_NOSIGNAL);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return EVTLS__TLS_WANT_WRITE;
                t->plain_sent = 0;
                return plain_status(t, r, e);
            }
            t->plain_sent += (size_t)r;
            t->bytes_out += (uint64_t)r;
        }
        t->plain_sent = 0;
        return EVTLS__TLS_DONE;
    }
    evtls_mem_owner prev = evtls__mem_owner_set(EVTLS_MEM_TLS_RECORDS);
    int ret = wolfSSL_write(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    evtls__mem_owner_set(prev);
    if (ret > 0) {
        t->write_blocked = 0;
        return EVTLS__TLS_DONE;
    }
    evtls__tls_status st = status_of(t, ret, 0, e);
    t->write_blocked = st == EVTLS__TLS_WANT_WRITE;
    return st;
}

evtls__tls_status evtls__tls_shutdown(evtls__tls *t, evtls_last_error *e)
{
    /* With a record half sent to a peer that stopped reading, a close_notify
     * could only queue behind it, and what wolfSSL 5.5 then sends holds
     * uninitialised bytes of its output buffer (valgrind, test_fault's
     * no-read case). The socket is closed without it. */
    if (t->write_blocked)
        return EVTLS__TLS_DONE;
    if (t->plain) {
        (void)e;
        shutdown(t->fd, SHUT_WR); /* the FIN is a plain stream's close_notify */
        return EVTLS__TLS_DONE;
    }
    evtls_mem_owner prev = evtls__mem_owner_set(EVTLS_MEM_TLS_RECORDS);
    int ret = wolfSSL_shutdown(t->ssl);
    evtls__mem_owner_set(prev);
    if (ret == WOLFSSL_SUCCESS || ret == WOLFSSL_SHUTDOWN_NOT_DONE)
        return EVTLS__TLS_DONE;
    return status_of(t, ret, 0, e);
}

void evtls__tls_get_info(evtls__tls *t, evtls_conn_info *info)
{
    if (t->plain) {
        info->tls_version = "none";
        info->cipher = info->group = NULL;
        info->resumed = 0;
        info->alpn[0] = '\0';
        info->bytes_in = t->bytes_in;
        info->bytes_out = t->bytes_out;
        return;
    }
    info->cipher = wolfSSL_get_cipher_name(t->ssl);
    if (info->cipher && strcmp(info->cipher, "None") == 0)
        info->cipher = NULL; /* no suite negotiated (a handshake that failed early) */
    /* Before a server's hello wolfSSL names the version it would offer: a
     * handshake that never got that far has no version. */
    info->tls_version = info->cipher ? wolfSSL_get_version(t->ssl) : NULL;
    info->group = info->cipher ? wolfSSL_get_curve_name(t->ssl) : NULL;
    info->resumed = wolfSSL_session_reused(t->ssl) ? 1 : 0;
    char *proto = NULL;
    word16 len = 0;
    info->alpn[0] = '\0';
    if (wolfSSL_ALPN_GetProtocol(t->ssl, &proto, &len) == WOLFSSL_SUCCESS && proto &&
        len < sizeof info->alpn) {
        memcpy(info->alpn, proto, len);
        info->alpn[len] = '\0';
    }
    info->bytes_in = t->bytes_in;
    info->bytes_out = t->bytes_out;
}

int evtls__tls_early_status(const evtls__tls *t)
{
#ifdef WOLFSSL_EARLY_DATA
    if (t->early_sent)
        return wolfSSL_get_early_data_status(t->ssl) == WOLFSSL_EARLY_DATA_ACCEPTED
                   ? EVTLS_EARLY_DATA_ACCEPTED
                   : EVTLS_EARLY_DATA_REJECTED;
#else
    (void)t;
#endif
    return EVTLS_EARLY_DATA_NOT_SENT;
}

/* Which of the optional fields of wolfSSL's serialised session (its
 * wolfSSL_i2d_SSL_SESSION) this build has: a session written by a build
 * with another set is misread by this one. */
void evtls__tls_session_layout(char *buf, size_t size)
{
    snprintf(buf, size, "wolfssl-%s/%s%s%s%s%s", wolfSSL_lib_version(),
#ifdef SESSION_CERTS
             "C",
#else
             "-",
#endif
#ifdef WOLFSSL_TLS13
             "3",
#else
             "-",
#endif
#ifdef HAVE_SESSION_TICKET
             "T",
#else
             "-",
#endif
#ifdef WOLFSSL_EARLY_DATA
             "E",
#else
             "-",
#endif
#ifdef OPENSSL_EXTRA
             "X"
#else
             "-"
#endif
    );
}

int evtls__tls_session_sound(const uint8_t *der, size_t len)
{
    const unsigned char *q = der;
    WOLFSSL_SESSION *s = wolfSSL_d2i_SSL_SESSION(NULL, &q, (long)len);
    if (s == NULL)
        return 0;
    int n = wolfSSL_i2d_SSL_SESSION(s, NULL), ok = 0;
    if (n > 0 && (size_t)n == len && q == der + len) {
        unsigned char *back = malloc((size_t)n), *p = back;
        ok = back && wolfSSL_i2d_SSL_SESSION(s, &p) == n && memcmp(back, der, len) == 0;
        free(back);
    }
    wolfSSL_SESSION_free(s);
    return ok;
}

void evtls__tls_bytes(const evtls__tls *t, uint64_t *in, uint64_t *out)
{
    *in = t->bytes_in;
    *out = t->bytes_out;
}

void evtls__tls_free(evtls__tls *t)
{
    if (t == NULL)
        return;
    drop_ahead(t);
    if (t->ssl)
        wolfSSL_free(t->ssl);
    for (int i = 0; i < t->n_tickets; i++)
        free(t->ticket_der[i]);
    free(t->prev_ticket);
    free(t->path);
    evtls__mem_note(EVTLS_MEM_EVTLS, -(long)sizeof *t);
    free(t);
}

int evtls__tls_offered(const evtls__tls *t)
{
    return t->offered;
}

int evtls__tls_take_session(evtls__tls *t, uint8_t **der, size_t *len, int *single_use)
{
    /* Called after every read: the common answer (nothing new) must cost
     * two flag tests, not calls into wolfSSL. */
    if (t->plain || !t->want_session || (t->session_taken && !t->new_ticket && t->n_tickets == 0))
        return 0;
    if (t->n_tickets > 0) { /* earlier TLS 1.3 tickets, oldest first */
        *der = t->ticket_der[0];
        *len = t->ticket_len[0];
        *single_use = 1;
        t->n_tickets--;
        memmove(t->ticket_der, t->ticket_der + 1, (size_t)t->n_tickets * sizeof t->ticket_der[0]);
        memmove(t->ticket_len, t->ticket_len + 1, (size_t)t->n_tickets * sizeof t->ticket_len[0]);
        return 1;
    }
    if (!wolfSSL_is_init_finished(t->ssl))
        return 0;
    /* TLS 1.3: a session exists only with a ticket, which comes after the
     * handshake. TLS 1.2: the session (ticket or ID) is complete when the
     * handshake is. */
    int tls13 = wolfSSL_version(t->ssl) == TLS1_3_VERSION;
    t->session_taken = 1;
    if (tls13 && !t->new_ticket)
        return 0;
    t->new_ticket = 0;
    *der = session_der(t->ssl, len);
    *single_use = tls13;
    return *der != NULL;
}
