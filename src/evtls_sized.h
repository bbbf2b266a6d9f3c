/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_sized.h - options and stats structs passed with their size
 * (internal). A program passes sizeof its struct as its header had it (the
 * public headers' inline wrappers do): the library reads or writes that
 * much and no more. Structs only grow at their end, so an older program's
 * fields are a prefix of the library's: options it does not know keep
 * their defaults, stats it does not know are not written. */
#ifndef EVTLS_SIZED_H
#define EVTLS_SIZED_H

#include <stddef.h>
#include <string.h>

static inline size_t evtls__known(size_t size, size_t full)
{
    return size < full ? size : full;
}

/* The library's whole struct *src into the program's dst of size bytes. */
#define EVTLS__COPY_OUT(dst, size, src) memcpy((dst), (src), evtls__known((size), sizeof *(src)))

/* The program's src of size bytes over the library's whole *dst (which
 * holds the defaults). */
#define EVTLS__COPY_IN(dst, src, size) memcpy((dst), (src), evtls__known((size), sizeof *(dst)))

#endif
