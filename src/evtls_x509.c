/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_x509.c - see evtls_x509.h. */
#include "evtls_x509.h"

#include <string.h>

/* Reads one DER tag and length at *p (below end). Returns the content's
 * length and moves *p to the content, or -1. */
static long der_item(const uint8_t **p, const uint8_t *end, uint8_t *tag)
{
    if (end - *p < 2)
        return -1;
    *tag = (*p)[0];
    size_t len = (*p)[1];
    const uint8_t *q = *p + 2;
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 4 || (size_t)(end - q) < k)
            return -1;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | q[i];
        q += k;
    }
    if ((size_t)(end - q) < len)
        return -1;
    *p = q;
    return (long)len;
}

/* A DER element: its tag, content and the whole encoding. */
struct der {
    uint8_t tag;
    const uint8_t *start, *body;
    size_t body_len, len;
};

/* Reads the element at *p (below end) into d and moves past it. */
static int next(const uint8_t **p, const uint8_t *end, struct der *d)
{
    d->start = *p;
    long n = der_item(p, end, &d->tag);
    if (n < 0)
        return -1;
    d->body = *p;
    d->body_len = (size_t)n;
    *p += n;
    d->len = (size_t)(*p - d->start);
    return 0;
}

/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue }; TBSCertificate ::= SEQUENCE { [0] version OPTIONAL,
 * serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo,
 * [1], [2] OPTIONAL, [3] extensions OPTIONAL } (RFC 5280 section 4.1). */
struct tbs {
    struct der issuer, subject, spki, extensions, sig_alg;
    int have_extensions;
};

static int split(const uint8_t *der, size_t len, struct tbs *t)
{
    memset(t, 0, sizeof *t);
    const uint8_t *p = der, *end = der + len;
    struct der cert, tbs;
    if (next(&p, end, &cert) != 0 || cert.tag != 0x30)
        return -1;
    p = cert.body;
    end = cert.body + cert.body_len;
    if (next(&p, end, &tbs) != 0 || tbs.tag != 0x30 || next(&p, end, &t->sig_alg) != 0 ||
        t->sig_alg.tag != 0x30)
        return -1;
    p = tbs.body;
    end = tbs.body + tbs.body_len;
    struct der d;
    int field = 0;
    while (p < end) {
        if (next(&p, end, &d) != 0)
            return -1;
        if (field == 0 && d.tag == 0xa0) /* [0] version: not counted */
            continue;
        switch (field++) {
        case 2: t->issuer = d; break;
        case 4: t->subject = d; break;
        case 5: t->spki = d; break;
        default:
            if (field > 6 && d.tag == 0xa3) {
                t->extensions = d;
                t->have_extensions = 1;
            }
            break;
        }
    }
    return field >= 6 && t->spki.tag == 0x30 ? 0 : -1;
}

int evtls__cert_spki(const uint8_t *der, size_t len, const uint8_t **spki, size_t *spki_len)
{
    struct tbs t;
    if (split(der, len, &t) != 0)
        return -1;
    *spki = t.spki.start;
    *spki_len = t.spki.len;
    return 0;
}

/* An OID's content octets, written as a string of escapes. */
#define OID(bytes)                                                                                 \
    {                                                                                              \
        bytes, sizeof(bytes) - 1                                                                   \
    }
struct oid {
    const char *b;
    size_t n;
};

static int oid_is(const struct der *d, struct oid o)
{
    return d->tag == 0x06 && d->body_len == o.n && memcmp(d->body, o.b, o.n) == 0;
}

/* Bits of a positive INTEGER's value. */
static unsigned int_bits(const struct der *d)
{
    const uint8_t *b = d->body;
    size_t n = d->body_len;
    while (n > 0 && *b == 0)
        b++, n--;
    if (n == 0)
        return 0;
    unsigned bits = (unsigned)n * 8;
    for (uint8_t top = *b; !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

static void key_facts(const struct der *spki, struct evtls__cert_facts *f)
{
    /* SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
     * subjectPublicKey BIT STRING } (RFC 5280 section 4.1.2.7) */
    const uint8_t *p = spki->body, *end = spki->body + spki->body_len;
    struct der alg, key, oid, params;
    if (next(&p, end, &alg) != 0 || next(&p, end, &key) != 0 || key.tag != 0x03 || key.body_len < 1)
        return;
    const uint8_t *q = alg.body, *qend = alg.body + alg.body_len;
    if (next(&q, qend, &oid) != 0)
        return;
    int have_params = next(&q, qend, &params) == 0;
    static const struct {
        struct oid oid;
        unsigned bits;
    } curves[] = {
        {OID("\x2a\x86\x48\xce\x3d\x03\x01\x07"), 256},     /* P-256 */
        {OID("\x2b\x81\x04\x00\x22"), 384},                 /* P-384 */
        {OID("\x2b\x81\x04\x00\x23"), 521},                 /* P-521 */
        {OID("\x2b\x81\x04\x00\x21"), 224},                 /* P-224 */
        {OID("\x2a\x86\x48\xce\x3d\x03\x01\x01"), 192},     /* P-192 */
        {OID("\x2b\x81\x04\x00\x0a"), 256},                 /* secp256k1 */
        {OID("\x2b\x24\x03\x03\x02\x08\x01\x01\x07"), 256}, /* brainpoolP256r1 */
        {OID("\x2b\x24\x03\x03\x02\x08\x01\x01\x0b"), 384}, /* brainpoolP384r1 */
        {OID("\x2b\x24\x03\x03\x02\x08\x01\x01\x0d"), 512}, /* brainpoolP512r1 */
    };
    if (oid_is(&oid, (struct oid)OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01")) ||
        oid_is(&oid, (struct oid)OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a"))) {
        /* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent } */
        f->key_type = EVTLS__KEY_RSA;
        const uint8_t *k = key.body + 1, *kend = key.body + key.body_len;
        struct der seq, mod;
        if (next(&k, kend, &seq) == 0 && seq.tag == 0x30) {
            k = seq.body;
            if (next(&k, seq.body + seq.body_len, &mod) == 0 && mod.tag == 0x02)
                f->key_bits = int_bits(&mod);
        }
    } else if (oid_is(&oid, (struct oid)OID("\x2a\x86\x48\xce\x38\x04\x01"))) {
        f->key_type = EVTLS__KEY_DSA; /* Dss-Parms ::= SEQUENCE { p, q, g } */
        struct der prime;
        const uint8_t *k = params.body;
        if (have_params && params.tag == 0x30 &&
            next(&k, params.body + params.body_len, &prime) == 0 && prime.tag == 0x02)
            f->key_bits = int_bits(&prime);
    } else if (oid_is(&oid, (struct oid)OID("\x2a\x86\x48\xce\x3d\x02\x01"))) {
        f->key_type = EVTLS__KEY_EC; /* the named curve in the parameters */
        for (size_t i = 0; have_params && i < sizeof curves / sizeof curves[0]; i++)
            if (oid_is(&params, curves[i].oid))
                f->key_bits = curves[i].bits;
    } else if (oid_is(&oid, (struct oid)OID("\x2b\x65\x70"))) {
        f->key_type = EVTLS__KEY_ED25519;
        f->key_bits = 256;
    } else if (oid_is(&oid, (struct oid)OID("\x2b\x65\x71"))) {
        f->key_type = EVTLS__KEY_ED448;
        f->key_bits = 456;
    }
}

static evtls__hash hash_of(const struct der *oid)
{
    static const struct oid sha1 = OID("\x2b\x0e\x03\x02\x1a");
    if (oid_is(oid, sha1))
        return EVTLS__HASH_SHA1;
    /* 2.16.840.1.101.3.4.2.{1,2,3,4}: SHA-256, SHA-384, SHA-512, SHA-224 */
    static const uint8_t nist[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02};
    if (oid->tag == 0x06 && oid->body_len == 9 && memcmp(oid->body, nist, 8) == 0) {
        static const evtls__hash h[] = {EVTLS__HASH_OTHER, EVTLS__HASH_SHA256, EVTLS__HASH_SHA384,
                                        EVTLS__HASH_SHA512, EVTLS__HASH_SHA224};
        return oid->body[8] < 5 ? h[oid->body[8]] : EVTLS__HASH_OTHER;
    }
    return EVTLS__HASH_OTHER;
}

static void sig_facts(const struct der *alg, struct evtls__cert_facts *f)
{
    static const struct {
        struct oid oid;
        evtls__hash hash;
        const char *name;
    } sigs[] = {
        {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x02"), EVTLS__HASH_MD2, "md2WithRSAEncryption"},
        {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x04"), EVTLS__HASH_MD5, "md5WithRSAEncryption"},
        {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05"), EVTLS__HASH_SHA1, "sha1WithRSAEncryption"},
        {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"), EVTLS__HASH_SHA256,
         "sha256WithRSAEncryption"},
        {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c"), EVTLS__HASH_SHA384,
         "sha384WithRSAEncryption"},
        {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d"), EVTLS__HASH_SHA512,
         "sha512WithRSAEncryption"},
        {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0e"), EVTLS__HASH_SHA224,
         "sha224WithRSAEncryption"},
        {OID("\x2a\x86\x48\xce\x3d\x04\x01"), EVTLS__HASH_SHA1, "ecdsa-with-SHA1"},
        {OID("\x2a\x86\x48\xce\x3d\x04\x03\x01"), EVTLS__HASH_SHA224, "ecdsa-with-SHA224"},
        {OID("\x2a\x86\x48\xce\x3d\x04\x03\x02"), EVTLS__HASH_SHA256, "ecdsa-with-SHA256"},
        {OID("\x2a\x86\x48\xce\x3d\x04\x03\x03"), EVTLS__HASH_SHA384, "ecdsa-with-SHA384"},
        {OID("\x2a\x86\x48\xce\x3d\x04\x03\x04"), EVTLS__HASH_SHA512, "ecdsa-with-SHA512"},
        {OID("\x2a\x86\x48\xce\x38\x04\x03"), EVTLS__HASH_SHA1, "dsa-with-sha1"},
        {OID("\x2b\x65\x70"), EVTLS__HASH_INTRINSIC, "Ed25519"},
        {OID("\x2b\x65\x71"), EVTLS__HASH_INTRINSIC, "Ed448"},
    };
    f->sig_hash = EVTLS__HASH_OTHER;
    f->sig_name = "unknown";
    const uint8_t *p = alg->body, *end = alg->body + alg->body_len;
    struct der oid, params;
    if (next(&p, end, &oid) != 0)
        return;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (oid_is(&oid, sigs[i].oid)) {
            f->sig_hash = sigs[i].hash;
            f->sig_name = sigs[i].name;
            return;
        }
    if (!oid_is(&oid, (struct oid)OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a")))
        return;
    /* RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] DEFAULT sha1, ... }
     * (RFC 4055 section 3.1): no [0] means SHA-1. */
    f->sig_name = "rsassaPss";
    f->sig_hash = EVTLS__HASH_SHA1;
    struct der h0, hash_alg, hash_oid;
    if (next(&p, end, &params) != 0 || params.tag != 0x30)
        return;
    p = params.body;
    if (next(&p, params.body + params.body_len, &h0) != 0 || h0.tag != 0xa0)
        return;
    const uint8_t *q = h0.body;
    if (next(&q, h0.body + h0.body_len, &hash_alg) == 0 && hash_alg.tag == 0x30) {
        q = hash_alg.body;
        if (next(&q, hash_alg.body + hash_alg.body_len, &hash_oid) == 0)
            f->sig_hash = hash_of(&hash_oid);
    }
}

/* The value (the inside of extnValue's OCTET STRING) of the extension
 * with this OID: 0 with *value set, or -1 when there is none. */
static int extension(const struct der *ext, struct oid oid, struct der *value)
{
    /* [3] { Extensions ::= SEQUENCE OF Extension ::= SEQUENCE { extnID,
     * critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } } */
    const uint8_t *p = ext->body, *end = ext->body + ext->body_len;
    struct der list, e, id, d;
    if (next(&p, end, &list) != 0 || list.tag != 0x30)
        return -1;
    for (p = list.body; p < list.body + list.body_len;) {
        if (next(&p, list.body + list.body_len, &e) != 0 || e.tag != 0x30)
            return -1;
        const uint8_t *q = e.body, *qend = e.body + e.body_len;
        if (next(&q, qend, &id) != 0 || !oid_is(&id, oid))
            continue;
        while (q < qend && next(&q, qend, &d) == 0)
            if (d.tag == 0x04) {
                const uint8_t *v = d.body;
                return next(&v, d.body + d.body_len, value);
            }
        return -1;
    }
    return -1;
}

static void extension_facts(const struct der *ext, struct evtls__cert_facts *f)
{
    struct der v, first;
    /* subjectAltName (2.5.29.17): GeneralNames ::= SEQUENCE SIZE (1..MAX) */
    if (extension(ext, (struct oid)OID("\x55\x1d\x11"), &v) == 0)
        f->has_san = v.tag == 0x30 && v.body_len > 0;
    /* basicConstraints (2.5.29.19): SEQUENCE { cA BOOLEAN DEFAULT FALSE, ... } */
    if (extension(ext, (struct oid)OID("\x55\x1d\x13"), &v) == 0 && v.tag == 0x30) {
        const uint8_t *p = v.body;
        f->is_ca = next(&p, v.body + v.body_len, &first) == 0 && first.tag == 0x01 &&
                   first.body_len == 1 && first.body[0] != 0;
    }
}

int evtls__cert_facts(const uint8_t *der, size_t len, struct evtls__cert_facts *f)
{
    memset(f, 0, sizeof *f);
    f->sig_name = "unknown";
    struct tbs t;
    if (split(der, len, &t) != 0)
        return -1;
    key_facts(&t.spki, f);
    sig_facts(&t.sig_alg, f);
    f->issuer = t.issuer.start;
    f->issuer_len = t.issuer.len;
    f->subject = t.subject.start;
    f->subject_len = t.subject.len;
    f->self_issued =
        t.issuer.len == t.subject.len && memcmp(t.issuer.start, t.subject.start, t.issuer.len) == 0;
    if (t.have_extensions)
        extension_facts(&t.extensions, f);
    return 0;
}

const char *evtls__key_type_name(evtls__key_type t)
{
    switch (t) {
    case EVTLS__KEY_RSA: return "RSA";
    case EVTLS__KEY_DSA: return "DSA";
    case EVTLS__KEY_EC: return "EC";
    case EVTLS__KEY_ED25519: return "Ed25519";
    case EVTLS__KEY_ED448: return "Ed448";
    case EVTLS__KEY_OTHER: return "unknown";
    default: return "unknown";
    }
}

int evtls__hash_is_weak(evtls__hash h)
{
    return h == EVTLS__HASH_MD2 || h == EVTLS__HASH_MD5 || h == EVTLS__HASH_SHA1;
}
