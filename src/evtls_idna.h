/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_idna.h - international host names to the ASCII form DNS, SNI,
 * certificate names and the pool's origin keys use (internal, pure: IDNA
 * 2008 with UTS #46 mapping, libidn2). */
#ifndef EVTLS_IDNA_H
#define EVTLS_IDNA_H

#include <stddef.h>

/* Writes host (len bytes, UTF-8) into out (cap bytes, NUL-terminated) as
 * A-labels ("bücher.example" -> "xn--bcher-kva.example"); an ASCII host is
 * copied unchanged. Returns 0, or -1 with the reason in why (naming the
 * host) when it is not a valid international name or does not fit. */
int evtls__host_to_ascii(const char *host, size_t len, char *out, size_t cap, char *why,
                         size_t whylen);

/* 1 when s (len bytes) has a byte outside ASCII. */
int evtls__has_non_ascii(const char *s, size_t len);

#endif
