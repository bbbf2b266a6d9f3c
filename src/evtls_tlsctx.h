/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_tlsctx.h - compiles configuration values into a WOLFSSL_CTX. */
#ifndef EVTLS_TLSCTX_H
#define EVTLS_TLSCTX_H

#include <stddef.h>
#include "evtls/error.h"
#include "evtls_cfg_int.h"

struct evtls__pkcs11;

/* Initialises wolfSSL once per process; safe from any thread. */
void evtls__global_init(void);

/* Builds the WOLFSSL_CTX for v into *out (a `WOLFSSL_CTX **`), and with a
 * client key in a PKCS#11 token the token's handle into *p11 (the context
 * signs through it: freed after it). Returns 0, or an error with
 * e->detail naming the field. */
int evtls__tlsctx_build(const struct evtls__cfg_values *v, void **out, struct evtls__pkcs11 **p11,
                        evtls_last_error *e);

/* Frees a context made by evtls__tlsctx_build, then its token's handle
 * (either NULL is ignored). */
void evtls__tlsctx_free(void *ctx, struct evtls__pkcs11 *p11);

#endif
