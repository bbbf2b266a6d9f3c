/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_trust.h - the fingerprint of what a configuration trusts, by
 * content (internal). A session is offered only under the fingerprint it
 * was made with, since resumption does not verify the server again: so it
 * hashes the bytes of every trust source, not their paths, and a CA file
 * replaced under the same path never resumes a session of the old one. */
#ifndef EVTLS_TRUST_H
#define EVTLS_TRUST_H

#include <stdint.h>

#include "evtls_cfg_int.h"

/* The system store's directories, in the order wolfSSL tries them. */
#define EVTLS__SYSTEM_CA_DIRS                                                                      \
    {                                                                                              \
        "/etc/ssl/certs", "/etc/pki/ca-trust/source/anchors", "/etc/pki/tls/certs"                 \
    }

/* SHA-256 over the verification flags and floors, the CA buffer, the bytes
 * of the CA file, of each file of the CA directory and of the system store
 * (when it is used), the CRLs, the pins, the PSK and the client
 * certificate; its first 8 bytes. Reads files: called once, when the
 * configuration is built, never on the loop's hot path. */
uint64_t evtls__trust_fingerprint(const struct evtls__cfg_values *v);

#endif
