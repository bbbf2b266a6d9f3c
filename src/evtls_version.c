/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_version.c - the library's version and what its build can do. The
 * wolfSSL features are read from the options.h of the wolfSSL it is built
 * against (system or tuned), so the answer is this binary's. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <string.h>

#include "evtls/version.h"

#ifndef EVTLS_LIB_VERSION
#error "EVTLS_LIB_VERSION comes from CMakeLists.txt (the project's version)"
#endif

const char *evtls_version(void)
{
    return EVTLS_LIB_VERSION;
}

int evtls_get_build_info(evtls_build_info *bi)
{
    if (bi == NULL || bi->size < sizeof bi->size)
        return EVTLS_ERR_INVALID_ARG;
    evtls_build_info all;
    memset(&all, 0, sizeof all);
    all.size = bi->size;
    all.version = EVTLS_LIB_VERSION;
    all.wolfssl_version = wolfSSL_lib_version();
#ifdef EVTLS_WOLFSSL_TUNED
    all.wolfssl_tuned = 1;
#endif
#ifdef HAVE_CRL
    all.crl = 1;
#endif
#if defined(HAVE_OCSP) && defined(HAVE_CERTIFICATE_STATUS_REQUEST)
    all.ocsp_stapling = 1;
#endif
#ifdef WOLFSSL_EARLY_DATA
    all.early_data = 1;
#endif
#ifdef HAVE_CURVE448
    all.x448 = 1;
#endif
#ifdef EVTLS_MAX_CERTIFICATE_MSG
    all.max_certificate_msg = EVTLS_MAX_CERTIFICATE_MSG;
#else
    all.max_certificate_msg = 3 + (2048 + 3) * 9; /* wolfSSL's default: 9 certificates of 2 KB */
#endif
    size_t n = bi->size < sizeof all ? bi->size : sizeof all;
    memcpy(bi, &all, n);
    return 0;
}
