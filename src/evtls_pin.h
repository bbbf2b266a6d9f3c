/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_pin.h - public-key pinning as curl writes it (internal, pure):
 * "sha256//BASE64[;sha256//BASE64...]", each the SHA-256 digest of a
 * certificate's SubjectPublicKeyInfo (DER). */
#ifndef EVTLS_PIN_H
#define EVTLS_PIN_H

#include <stddef.h>
#include <stdint.h>

/* Parses pins into out (max digests). Returns how many, or -1. */
int evtls__pins_parse(const char *pins, uint8_t (*out)[32], int max);

#include "evtls_x509.h" /* evtls__cert_spki: the key a pin is of */

#endif
