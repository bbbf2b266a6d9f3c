/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_idna.c - see evtls_idna.h. */
#include "evtls_idna.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int evtls__has_non_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

int evtls__host_to_ascii(const char *host, size_t len, char *out, size_t cap, char *why,
                         size_t whylen)
{
    char in[256];
    if (len >= sizeof in || len >= cap) {
        snprintf(why, whylen, "the host is longer than 255 bytes");
        return -1;
    }
    memcpy(in, host, len);
    in[len] = '\0';
    if (!evtls__has_non_ascii(in, len)) {
        memcpy(out, in, len + 1);
        return 0;
    }
    /* UTS #46 mapping (case folding, width) in its non-transitional form,
     * as browsers and curl: "ß" stays "ß" (RFC 5891, UTS #46 section 4). */
    char *ascii = NULL;
    int rc = idn2_to_ascii_8z(in, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        snprintf(why, whylen, "'%.100s' is not a valid international host name: %s", in,
                 idn2_strerror(rc));
        return -1;
    }
    size_t n = strlen(ascii);
    int ok = n < cap;
    if (ok)
        memcpy(out, ascii, n + 1);
    else
        snprintf(why, whylen, "the host '%.100s' is longer than 255 bytes as A-labels", in);
    idn2_free(ascii);
    return ok ? 0 : -1;
}
