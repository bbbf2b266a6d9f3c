/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_hdr.c - see lt_hdr.h. */
#include "evtls_cli.h"
#include "lt_hdr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lt_hist.h"
#include "lt_opts.h" /* lt_fail */

#define COOKIE_PLAIN      0x1c849313u /* V2 encoding, word size nibble 0x10 */
#define COOKIE_COMPRESSED 0x1c849314u /* V2 compressed encoding */
#define HEADER            40
#define MAX_WORD          9 /* ZigZag LEB128, 64 bits */

int lt_hdr_digits(unsigned b)
{
    /* HdrHistogram: 2^b is the power of two at or above 2 * 10^digits. */
    for (int d = 0, p = 2; d <= 5; d++, p *= 10) {
        unsigned need = 0;
        while ((1u << need) < (unsigned)p)
            need++;
        if (need == b)
            return d;
    }
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ZigZag then LEB128, the ninth byte holding the last 8 bits whole. */
static size_t put_word(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (n < 8 && z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* Returns the bytes read, 0 when the word runs past end. */
static size_t get_word(const uint8_t *p, const uint8_t *end, int64_t *v)
{
    uint64_t z = 0;
    size_t n = 0;
    for (;;) {
        if (p + n >= end)
            return 0;
        uint8_t c = p[n];
        if (n == 8) {
            z |= (uint64_t)c << 56;
            n++;
            break;
        }
        z |= (uint64_t)(c & 0x7f) << (7 * n);
        n++;
        if (!(c & 0x80))
            break;
    }
    *v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    return n;
}

char *lt_hdr_encode(unsigned b, const uint64_t *counts, size_t n)
{
    size_t limit = n;
    while (limit > 0 && counts[limit - 1] == 0)
        limit--;
    uint8_t *plain = malloc(HEADER + limit * MAX_WORD + 1);
    if (plain == NULL)
        return NULL;
    size_t at = HEADER;
    for (size_t i = 0; i < limit;) {
        if (counts[i] != 0) {
            at += put_word(plain + at, (int64_t)counts[i++]);
            continue;
        }
        size_t zeros = 0;
        while (i < limit && counts[i] == 0)
            zeros++, i++;
        at += put_word(plain + at, zeros > 1 ? -(int64_t)zeros : 0);
    }
    /* The highest value the layout tracks: the top of its last slot. */
    put32(plain, COOKIE_PLAIN);
    put32(plain + 4, (uint32_t)(at - HEADER));
    put32(plain + 8, 0);
    put32(plain + 12, (uint32_t)lt_hdr_digits(b));
    put64(plain + 16, 1);
    put64(plain + 24, lt_layout_high(b, (unsigned)n - 1));
    double ratio = 1.0;
    uint64_t bits;
    memcpy(&bits, &ratio, sizeof bits);
    put64(plain + 32, bits);

    uLongf zlen = compressBound((uLong)at);
    uint8_t *packed = malloc(8 + zlen);
    char *out = NULL;
    if (packed && compress2(packed + 8, &zlen, plain, (uLong)at, Z_DEFAULT_COMPRESSION) == Z_OK) {
        put32(packed, COOKIE_COMPRESSED);
        put32(packed + 4, (uint32_t)zlen);
        size_t cap = 4 * ((8 + zlen + 2) / 3) + 1;
        out = malloc(cap);
        if (out && cli_base64_encode(packed, 8 + zlen, out, cap) < 0) {
            free(out);
            out = NULL;
        }
    }
    free(packed);
    free(plain);
    return out;
}

/* Inflates the zlib stream in (len bytes) into a buffer of at most cap
 * bytes. Returns the malloc'd bytes (*outlen set; *full when they did not
 * all fit) or NULL for a damaged stream. */
static uint8_t *inflate_all(const uint8_t *in, size_t len, size_t cap, size_t *outlen, int *full)
{
    uint8_t *out = malloc(cap ? cap : 1);
    if (out == NULL)
        return NULL;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_FINISH);
    *outlen = cap - z.avail_out;
    *full = rc != Z_STREAM_END && z.avail_out == 0;
    inflateEnd(&z);
    if (rc != Z_STREAM_END && !*full) {
        free(out);
        return NULL;
    }
    return out;
}

int lt_hdr_decode(const char *s, size_t len, unsigned b, uint64_t *counts, size_t n, char *err,
                  size_t errlen)
{
    memset(counts, 0, n * sizeof *counts);
    size_t cap = len / 4 * 3 + 3;
    uint8_t *raw = malloc(cap);
    if (raw == NULL)
        return lt_fail(err, errlen, "out of memory");
    int rawlen = cli_base64_decode(s, len, raw, cap);
    uint8_t *plain = NULL;
    int rc = -1;
    if (rawlen < 8) {
        lt_fail(err, errlen, "not base64, or too short for a histogram");
        goto out;
    }
    if (get32(raw) != COOKIE_COMPRESSED) {
        lt_fail(err, errlen, "not an HdrHistogram V2 compressed histogram (cookie 0x%08x)",
                get32(raw));
        goto out;
    }
    uint32_t zlen = get32(raw + 4);
    if (zlen > (uint32_t)rawlen - 8) {
        lt_fail(err, errlen, "the compressed length %u runs past the data", zlen);
        goto out;
    }
    size_t plen;
    int full = 0;
    plain = inflate_all(raw + 8, zlen, HEADER + n * MAX_WORD, &plen, &full);
    if (plain == NULL || plen < HEADER) {
        lt_fail(err, errlen, "the compressed histogram does not inflate");
        goto out;
    }
    if (get32(plain) != COOKIE_PLAIN) {
        lt_fail(err, errlen, "not a V2 histogram inside (cookie 0x%08x)", get32(plain));
        goto out;
    }
    uint32_t payload = get32(plain + 4);
    int digits = (int)get32(plain + 12);
    if (payload > plen - HEADER && !full) {
        lt_fail(err, errlen, "the payload length %u runs past the data", payload);
        goto out;
    }
    if (get32(plain + 8) != 0 || get64(plain + 16) != 1 || digits != lt_hdr_digits(b)) {
        lt_fail(err, errlen,
                "another layout (%d significant digits, lowest value %llu, offset %u; "
                "expected %d, 1, 0)",
                digits, (unsigned long long)get64(plain + 16), get32(plain + 8), lt_hdr_digits(b));
        goto out;
    }
    if (full) {
        lt_fail(err, errlen, "counts past the highest value this layout tracks");
        goto out;
    }
    const uint8_t *p = plain + HEADER, *end = p + payload;
    size_t i = 0;
    while (p < end) {
        int64_t v;
        size_t used = get_word(p, end, &v);
        if (used == 0) {
            lt_fail(err, errlen, "a count runs past the payload");
            goto out;
        }
        p += used;
        uint64_t run = v < 0 ? (uint64_t)0 - (uint64_t)v : 1;
        if (run > n - i) {
            lt_fail(err, errlen, "counts past the highest value this layout tracks");
            goto out;
        }
        if (v > 0)
            counts[i] = (uint64_t)v;
        i += run;
    }
    rc = 0;
out:
    free(plain);
    free(raw);
    return rc;
}
