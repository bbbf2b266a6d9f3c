/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_pkcs11.h - a client key that stays in a PKCS#11 token (a TPM, a
 * smart card, an HSM; SoftHSM in the tests): the RFC 7512 URI that names
 * it, and the module, token and login a configuration holds while it
 * lives. The handshake's signature is made by the token through wolfSSL's
 * crypto callback (one device per configuration, its operations under
 * the configuration's lock: a PKCS#11 session is not shared by threads at
 * once). */
#ifndef EVTLS_PKCS11_H
#define EVTLS_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include "evtls/error.h"

/* What a pkcs11: URI names (RFC 7512): path attributes and the query's PIN
 * and module. Absent strings are "" (id_len 0). */
struct evtls__pkcs11_uri {
    char token[33];  /* token=, the token's label */
    char serial[17]; /* serial=, the token's serial number */
    char object[65]; /* object=, the key's label */
    uint8_t id[64];  /* id=, the key's CKA_ID */
    size_t id_len;
    char pin[65];          /* pin-value=, or read from pin-source= */
    char pin_source[256];  /* pin-source=: a file whose first line is the PIN */
    char module_path[256]; /* module-path=: the module to load */
    int cert;              /* type=cert (else private or none) */
};

/* 1 when s is a PKCS#11 URI ("pkcs11:..."). */
int evtls__pkcs11_is_uri(const char *s);

/* Parses a pkcs11: URI: percent-decoding, the attributes above (type, if
 * given, "private" or "cert"; unknown path attributes are refused, unknown
 * query ones ignored, as RFC 7512 says). Returns 0 or EVTLS_ERR_BAD_CONFIG
 * with e naming what is wrong. Reads no file. */
int evtls__pkcs11_uri_parse(const char *uri, struct evtls__pkcs11_uri *u, evtls_last_error *e);

typedef struct evtls__pkcs11 evtls__pkcs11;

/* Loads module (or the URI's module-path), finds the token the URI names,
 * logs in with the URI's PIN (pin-value, pin-source) or pin (given apart,
 * may be NULL), checks that the key is there, and registers a wolfSSL
 * device for it. Blocking (a module may be slow): configuration build
 * time only, never on a loop. Returns NULL with e set (BAD_CONFIG naming
 * the module, token, PIN or object at fault). */
evtls__pkcs11 *evtls__pkcs11_open(const char *module, const char *uri, const char *pin,
                                  evtls_last_error *e);

/* The DER certificate the URI cert_uri names (its object= or id=, of
 * class certificate), read from p's token into a malloc'd *der. Returns 0
 * or BAD_CONFIG. */
int evtls__pkcs11_read_cert(evtls__pkcs11 *p, const char *cert_uri, uint8_t **der, size_t *len,
                            evtls_last_error *e);

/* Uses the token's key as ctx's private key (the certificate, already
 * loaded, says its type and size). Returns 0 or BAD_CONFIG. */
int evtls__pkcs11_use_key(evtls__pkcs11 *p, void *ctx, evtls_last_error *e);

/* Unregisters the device, logs out, unloads the module. NULL is ignored. */
void evtls__pkcs11_close(evtls__pkcs11 *p);

#endif
