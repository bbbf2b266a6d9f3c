/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_text.h - the harnesses' input as a C string (NUL-terminated copy;
 * NUL bytes inside it separate the parts a harness reads), or NULL. */
#ifndef FUZZ_TEXT_H
#define FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s != NULL) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
