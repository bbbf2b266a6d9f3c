/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_error_int.h - helpers to fill a last-error record (internal). */
#ifndef EVTLS_ERROR_INT_H
#define EVTLS_ERROR_INT_H

#include <stdarg.h>
#include "evtls/error.h"

/* Resets e to "no error" (alert -1). */
void evtls__err_clear(evtls_last_error *e);

/* Resets e, sets its code and a printf-style detail (fmt may be NULL) and
 * returns code, so that callers can write `return evtls__err_set(...)`. */
int evtls__err_set(evtls_last_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps a socket errno to an evtls_err (ECONNREFUSED -> CONN_REFUSED...). */
int evtls__err_from_errno(int err);

#endif
