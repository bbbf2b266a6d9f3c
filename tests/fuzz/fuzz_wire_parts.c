/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_wire_parts.c - the small parsers that read what a peer or a user
 * sends: a proxy's answer to CONNECT, proxy URLs, key pins, the
 * SubjectPublicKeyInfo inside a server certificate, base64. The first
 * byte picks the parser; the rest is its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "evtls_base64.h"
#include "evtls_pin.h"
#include "evtls_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t pick = data[0] % 5;
    data++;
    size--;
    char *text = fuzz_text(data, size); /* the parsers take C strings */
    if (text == NULL)
        return 0;
    switch (pick) {
    case 0: {
        int status;
        size_t used;
        if (evtls__proxy_answer((const char *)data, size, &status, &used) == 1 &&
            (used > size || status < 0 || status > 999))
            abort();
        break;
    }
    case 1: {
        char *host = NULL, *auth = NULL;
        uint16_t port;
        if (evtls__proxy_parse(text, &host, &port, &auth) == 0) {
            char req[1024];
            if (host == NULL || port == 0)
                abort();
            (void)evtls__proxy_request(req, sizeof req, host, port, auth);
        }
        free(host);
        free(auth);
        break;
    }
    case 2: {
        uint8_t pins[16][32];
        int n = evtls__pins_parse(text, pins, 16);
        if (n > 16)
            abort();
        break;
    }
    case 3: {
        const uint8_t *spki;
        size_t len;
        if (evtls__cert_spki(data, size, &spki, &len) == 0 &&
            (spki < data || spki + len > data + size))
            abort();
        /* The trust policy's reading of the same bytes: whatever they are,
         * a verdict within its ranges, never a read outside them. */
        struct evtls__cert_facts f;
        if (evtls__cert_facts(data, size, &f) == 0 &&
            ((size_t)f.key_bits > size * 8 + 456 || f.sig_name == NULL ||
             (unsigned)f.sig_hash > EVTLS__HASH_INTRINSIC))
            abort();
        break;
    }
    default: {
        uint8_t out[512];
        char again[1024];
        int n = evtls__b64_decode(text, size, out, sizeof out);
        if (n > (int)sizeof out)
            abort();
        if (n >= 0 && evtls__b64_encode(out, (size_t)n, again, sizeof again) >= 0 &&
            strcmp(again, text) != 0 && size % 4 == 0 && strchr(text, '=') == NULL)
            abort(); /* unpadded input that decodes must encode back the same */
        break;
    }
    }
    free(text);
    return 0;
}
