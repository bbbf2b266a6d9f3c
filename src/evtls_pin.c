/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_pin.c - see evtls_pin.h. */
#include "evtls_pin.h"

#include <string.h>

#include "evtls_base64.h"

int evtls__pins_parse(const char *pins, uint8_t (*out)[32], int max)
{
    int n = 0;
    const char *p = pins;
    for (;;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        /* curl allows blanks around the separators */
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len < 8 || strncmp(p, "sha256//", 8) != 0 || n >= max)
            return -1;
        uint8_t digest[33];
        if (evtls__b64_decode(p + 8, len - 8, digest, sizeof digest) != 32)
            return -1;
        memcpy(out[n++], digest, 32);
        if (end == NULL)
            return n;
        p = end + 1;
    }
}

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

int evtls__cert_spki(const uint8_t *der, size_t len, const uint8_t **spki, size_t *spki_len)
{
    /* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
     * OPTIONAL, serialNumber, signature, issuer, validity, subject,
     * subjectPublicKeyInfo, ... }, ... } (RFC 5280 section 4.1) */
    const uint8_t *p = der, *end = der + len;
    uint8_t tag;
    long n = der_item(&p, end, &tag);
    if (n < 0 || tag != 0x30)
        return -1;
    end = p + n;
    n = der_item(&p, end, &tag);
    if (n < 0 || tag != 0x30)
        return -1;
    end = p + n;
    int field = 0;
    while (p < end) {
        const uint8_t *start = p;
        n = der_item(&p, end, &tag);
        if (n < 0)
            return -1;
        if (field == 0 && tag == 0xa0) { /* [0] version: not counted */
            p += n;
            continue;
        }
        if (field == 5) {
            if (tag != 0x30)
                return -1;
            *spki = start;
            *spki_len = (size_t)(p + n - start);
            return 0;
        }
        p += n;
        field++;
    }
    return -1;
}
