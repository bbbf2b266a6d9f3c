/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_base64.h - RFC 4648 base64, standard alphabet with padding, and
 * base16's digits (internal, pure). */
#ifndef EVTLS_BASE64_H
#define EVTLS_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Encodes len bytes into out (cap bytes, NUL-terminated). Returns the
 * length written, or -1 when it does not fit. */
int evtls__b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Decodes n characters (padding required, no whitespace) into out.
 * Returns the bytes written, or -1 for bad input or no room. */
int evtls__b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* The value of one hexadecimal digit (either case), -1 for another
 * character. */
int evtls__hex_digit(int c);

#endif
