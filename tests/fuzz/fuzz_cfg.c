/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_cfg.c - libFuzzer harness for configuration loading: CA, client
 * certificate and key buffers in PEM or DER, as an application passes
 * them, compiled by evtls_cfg_build into a WOLFSSL_CTX. Bad input must
 * give BAD_CONFIG with a detail, never a crash or a leak.
 *
 * Input: byte 0 = what to load (bit 0: CA buffer, bit 1: client
 * certificate and key, bit 2: key password "secret"); bytes 1-2 = where
 * the rest splits into the first and second buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <evtls/evtls.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    evtls_log_set_level(EVTLS_LOG_NONE); /* bad input is expected: no warnings */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t what = data[0];
    size_t split = ((size_t)data[1] << 8 | data[2]);
    data += 3;
    size -= 3;
    if (split > size)
        split = size;
    evtls_cfg *cfg = evtls_cfg_new();
    if (cfg == NULL)
        return 0;
    int rc = 0;
    if (what & 1)
        rc = evtls_cfg_set_ca_buffer(cfg, data, split);
    if (rc == 0 && (what & 2))
        rc = evtls_cfg_set_client_cert(cfg, data, split, data + split, size - split,
                                       (what & 4) ? "secret" : NULL);
    if (rc == 0) {
        rc = evtls_cfg_build(cfg);
        if (rc != 0) {
            const evtls_last_error *e = evtls_cfg_get_last_error(cfg);
            if (rc != EVTLS_ERR_BAD_CONFIG || e == NULL || e->detail[0] == '\0')
                abort(); /* a refused configuration always says which part */
        }
    } else if (rc != EVTLS_ERR_INVALID_ARG && rc != EVTLS_ERR_NOMEM) {
        abort();
    }
    evtls_cfg_unref(cfg);
    return 0;
}
