/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls/version.h - which evtls, and what its build can do. */
#ifndef EVTLS_VERSION_H
#define EVTLS_VERSION_H

#include <stddef.h>

#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the headers a program was built with. */
#define EVTLS_VERSION_MAJOR 0
#define EVTLS_VERSION_MINOR 1
#define EVTLS_VERSION_PATCH 0
#define EVTLS_VERSION_STRING "0.1.0"
#define EVTLS_VERSION_NUMBER                                                                     \
    (EVTLS_VERSION_MAJOR * 10000 + EVTLS_VERSION_MINOR * 100 + EVTLS_VERSION_PATCH)

/* The version of the library loaded: "0.1.0". Never NULL. */
EVTLS_API const char *evtls_version(void);

/* What this build of the library can do. The caller sets size to
 * sizeof(evtls_build_info) (EVTLS_BUILD_INFO_INIT does): a library newer
 * than the program's header fills only the fields the program knows. */
typedef struct evtls_build_info {
    size_t size;
    const char *version;         /* evtls_version() */
    const char *wolfssl_version; /* the wolfSSL linked, e.g. "5.5.4" */
    int wolfssl_tuned;           /* 1: evtls's own build of Debian's wolfSSL; 0: the system's */
    int crl;                     /* evtls_cfg_set_crl_file works */
    int ocsp_stapling;           /* evtls_cfg_set_cert_status works */
    int early_data;              /* TLS 1.3 early data (0-RTT) */
    int x448;                    /* the X448 group (and Ed448) */
    size_t max_certificate_msg;  /* the largest certificate message taken, in bytes */
} evtls_build_info;

#define EVTLS_BUILD_INFO_INIT {sizeof(evtls_build_info), NULL, NULL, 0, 0, 0, 0, 0, 0}

/* Fills bi up to bi->size. Returns 0, or EVTLS_ERR_INVALID_ARG for NULL or
 * a size smaller than the first field's end. */
EVTLS_API int evtls_get_build_info(evtls_build_info *bi);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_VERSION_H */
