/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls_floor.c - the wolfSSL floor for a client's full TLS 1.3 handshake:
 * a wolfSSL client and a wolfSSL server in one process, over memory
 * buffers, with no sockets, no event loop and no timers.
 *
 *   tls_floor PKI_DIR N [GROUP [CIPHERS]]
 *
 * runs N full handshakes (TLS 1.3, key share GROUP, default X25519; the
 * client verifies the ECDSA P-256 certificate and the name "localhost",
 * sends SNI, then closes with close_notify) and prints the negotiated
 * cipher. Only the client's work is in functions named floor_client_*, so
 * that bench/handshake_instructions.sh can count them alone with callgrind
 * (--toggle-collect=floor_client_*), exactly as the evtls client is
 * counted. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pipe {
    unsigned char buf[1 << 16];
    size_t len;
};

static struct pipe to_server, to_client;

static int pipe_recv(WOLFSSL *ssl, char *out, int sz, void *ctx)
{
    (void)ssl;
    struct pipe *p = ctx;
    if (p->len == 0)
        return WOLFSSL_CBIO_ERR_WANT_READ;
    size_t n = (size_t)sz < p->len ? (size_t)sz : p->len;
    memcpy(out, p->buf, n);
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
    return (int)n;
}

static int pipe_send(WOLFSSL *ssl, char *in, int sz, void *ctx)
{
    (void)ssl;
    struct pipe *p = ctx;
    if ((size_t)sz > sizeof p->buf - p->len)
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    memcpy(p->buf + p->len, in, (size_t)sz);
    p->len += (size_t)sz;
    return sz;
}

/* The client's side, each step its own function for callgrind. */
__attribute__((noinline)) WOLFSSL *floor_client_new(WOLFSSL_CTX *ctx, int group);
__attribute__((noinline)) int floor_client_connect(WOLFSSL *ssl);
__attribute__((noinline)) void floor_client_close(WOLFSSL *ssl);

WOLFSSL *floor_client_new(WOLFSSL_CTX *ctx, int group)
{
    WOLFSSL *ssl = wolfSSL_new(ctx);
    if (ssl == NULL)
        return NULL;
    wolfSSL_SetIOReadCtx(ssl, &to_client);
    wolfSSL_SetIOWriteCtx(ssl, &to_server);
    if (wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, "localhost", 9) != WOLFSSL_SUCCESS ||
        wolfSSL_check_domain_name(ssl, "localhost") != WOLFSSL_SUCCESS ||
        wolfSSL_UseKeyShare(ssl, (word16)group) != WOLFSSL_SUCCESS) {
        wolfSSL_free(ssl);
        return NULL;
    }
    return ssl;
}

int floor_client_connect(WOLFSSL *ssl)
{
    return wolfSSL_connect(ssl);
}

void floor_client_close(WOLFSSL *ssl)
{
    wolfSSL_shutdown(ssl);
    wolfSSL_free(ssl);
}

static int group_of(const char *name)
{
    if (strcmp(name, "X25519") == 0)
        return WOLFSSL_ECC_X25519;
    if (strcmp(name, "P-256") == 0)
        return WOLFSSL_ECC_SECP256R1;
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tls_floor PKI_DIR N [GROUP [CIPHERS]]\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = atol(argv[2]);
    int group = group_of(argc > 3 ? argv[3] : "X25519");
    const char *ciphers = argc > 4 ? argv[4] : NULL;
    if (n <= 0 || group < 0) {
        fprintf(stderr, "tls_floor: bad N or group\n");
        return 2;
    }
    char ca[1024], cert[1024], key[1024];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    wolfSSL_Init();
    WOLFSSL_CTX *cctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
    WOLFSSL_CTX *sctx = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
    if (cctx == NULL || sctx == NULL ||
        wolfSSL_CTX_load_verify_locations(cctx, ca, NULL) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_certificate_file(sctx, cert, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_file(sctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        (ciphers && (wolfSSL_CTX_set_cipher_list(cctx, ciphers) != WOLFSSL_SUCCESS ||
                     wolfSSL_CTX_set_cipher_list(sctx, ciphers) != WOLFSSL_SUCCESS))) {
        fprintf(stderr, "tls_floor: cannot set up the contexts from %s\n", dir);
        return 1;
    }
    wolfSSL_CTX_set_verify(cctx, WOLFSSL_VERIFY_PEER, NULL);
    wolfSSL_CTX_SetIORecv(cctx, pipe_recv);
    wolfSSL_CTX_SetIOSend(cctx, pipe_send);
    wolfSSL_CTX_SetIORecv(sctx, pipe_recv);
    wolfSSL_CTX_SetIOSend(sctx, pipe_send);
    char cipher[64] = "";
    for (long i = 0; i < n; i++) {
        to_server.len = to_client.len = 0;
        WOLFSSL *c = floor_client_new(cctx, group);
        WOLFSSL *s = wolfSSL_new(sctx);
        if (c == NULL || s == NULL) {
            fprintf(stderr, "tls_floor: wolfSSL_new failed\n");
            return 1;
        }
        wolfSSL_SetIOReadCtx(s, &to_server);
        wolfSSL_SetIOWriteCtx(s, &to_client);
        int cr = 0, sr = 0;
        for (int step = 0; step < 16 && (cr != 1 || sr != 1); step++) {
            if (cr != 1)
                cr = floor_client_connect(c);
            if (sr != 1)
                sr = wolfSSL_accept(s);
        }
        if (cr != 1 || sr != 1) {
            fprintf(stderr, "tls_floor: handshake %ld failed (client %d, server %d)\n", i,
                    wolfSSL_get_error(c, cr), wolfSSL_get_error(s, sr));
            return 1;
        }
        snprintf(cipher, sizeof cipher, "%s", wolfSSL_get_cipher_name(c));
        floor_client_close(c);
        wolfSSL_free(s);
    }
    printf("tls_floor: %ld full handshakes, TLSv1.3 %s %s\n", n, cipher,
           argc > 3 ? argv[3] : "X25519");
    wolfSSL_CTX_free(cctx);
    wolfSSL_CTX_free(sctx);
    wolfSSL_Cleanup();
    return 0;
}
