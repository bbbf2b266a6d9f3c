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
