/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_hdr.h - HdrHistogram's V2 compressed encoding, as base64 text: the
 * form HdrHistogram's log files and tools (Java, C, Go, Python, ...) read
 * and write. Written here from the format's description:
 *
 *   base64( cookie 0x1c849314 | length | zlib deflate(
 *       cookie 0x1c849313 | payload length | normalizing index offset 0 |
 *       significant digits | lowest discernible value 1 |
 *       highest trackable value | integer-to-double ratio 1.0 |
 *       counts ) )
 *
 * all integers big-endian; the counts in counts-index order, each a ZigZag
 * LEB128 number (at most 9 bytes), a run of zeros written as minus its
 * length. The counts index is lt_hist.h's slot index (pure: no event). */
#ifndef LT_HDR_H
#define LT_HDR_H

#include <stddef.h>
#include <stdint.h>

/* HdrHistogram's significant digits for the layout with 2^b sub-buckets
 * (3 for 11 bits, 2 for 8), 0 for a b that no digit count gives. */
int lt_hdr_digits(unsigned b);

/* Encodes n counts of the layout with 2^b sub-buckets. Returns a malloc'd
 * NUL-terminated base64 string, or NULL when out of memory. */
char *lt_hdr_encode(unsigned b, const uint64_t *counts, size_t n);

/* Decodes len characters of s into counts (n slots, zeroed first) of the
 * layout with 2^b sub-buckets. Returns 0, or -1 with the reason in err
 * (bad base64, not a V2 compressed histogram, another layout, counts past
 * n, a truncated payload). */
int lt_hdr_decode(const char *s, size_t len, unsigned b, uint64_t *counts, size_t n, char *err,
                  size_t errlen);

#endif
