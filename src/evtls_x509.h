/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_x509.h - what the trust policy reads in an X.509 certificate
 * (internal, pure): a small DER walk over RFC 5280's structure, no
 * allocation, no library call. */
#ifndef EVTLS_X509_H
#define EVTLS_X509_H

#include <stddef.h>
#include <stdint.h>

/* Finds the SubjectPublicKeyInfo inside an X.509 certificate (DER):
 * returns 0 with *spki and *len set, or -1 when the DER is not a
 * certificate. */
int evtls__cert_spki(const uint8_t *der, size_t len, const uint8_t **spki, size_t *spki_len);

typedef enum {
    EVTLS__KEY_OTHER = 0,
    EVTLS__KEY_RSA,
    EVTLS__KEY_DSA,
    EVTLS__KEY_EC,
    EVTLS__KEY_ED25519,
    EVTLS__KEY_ED448
} evtls__key_type;

typedef enum {
    EVTLS__HASH_OTHER = 0, /* unknown: left to the TLS library */
    EVTLS__HASH_MD2,
    EVTLS__HASH_MD5,
    EVTLS__HASH_SHA1,
    EVTLS__HASH_SHA224,
    EVTLS__HASH_SHA256,
    EVTLS__HASH_SHA384,
    EVTLS__HASH_SHA512,
    EVTLS__HASH_INTRINSIC /* EdDSA: the hash is part of the algorithm */
} evtls__hash;

struct evtls__cert_facts {
    evtls__key_type key_type;
    unsigned key_bits; /* RSA/DSA modulus, EC field size; 0 when unknown */
    evtls__hash sig_hash;
    const char *sig_name; /* e.g. "sha1WithRSAEncryption" (static), "unknown" */
    int self_issued;      /* issuer and subject are the same name */
    int has_san;          /* a subjectAltName extension with at least one name */
    int is_ca;            /* basicConstraints says cA TRUE */
    /* the issuer and subject Names (DER, inside the certificate given) */
    const uint8_t *issuer, *subject;
    size_t issuer_len, subject_len;
};

/* Reads the facts of a DER certificate. Returns 0, or -1 when it is not
 * one (the facts are then unusable). */
int evtls__cert_facts(const uint8_t *der, size_t len, struct evtls__cert_facts *f);

/* The name of a key type, e.g. "RSA". */
const char *evtls__key_type_name(evtls__key_type t);

/* 1 when a signature with this hash is refused on a certificate that is not
 * a trust anchor's own (MD2, MD5, SHA-1: RFC 9155, CA/Browser Forum). */
int evtls__hash_is_weak(evtls__hash h);

#endif
