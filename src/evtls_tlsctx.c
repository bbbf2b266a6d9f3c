/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_tlsctx.c - one shared WOLFSSL_CTX per configuration.
 *
 * Everything that can be checked before the first connection is checked
 * here, so that a bad configuration fails once, at build time, with an
 * error naming the field, rather than on every connection. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/evp.h>
#include <wolfssl/openssl/pem.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "evtls_error_int.h"
#include "evtls_log_int.h"
#include "evtls_mem_int.h"
#include "evtls_pkcs11.h"
#include "evtls_tlsctx.h"
#include "evtls_tls.h"

#define MAX_FILE_SIZE (1024 * 1024) /* certificates and keys are small */
#define MAX_GROUPS    8

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init_once(void)
{
    evtls__mem_install(); /* wolfSSL's allocators can only change before it allocates */
    wolfSSL_Init();
    evtls__mem_learn_session_size();
}

void evtls__global_init(void)
{
    pthread_once(&init_once, global_init_once);
}

void evtls_thread_cleanup(void)
{
#if defined(HAVE_ECC) && defined(FP_ECC)
    wc_ecc_fp_free();
#endif
}

/* Fills e for a wolfSSL failure while loading field. */
static int fail_tls(evtls_last_error *e, int code, const char *field, const char *what)
{
    evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "%s: %s", field, what);
    e->tls_error = code;
    evtls__tls_error_text(code, e->tls_error_text, sizeof e->tls_error_text);
    return EVTLS_ERR_BAD_CONFIG;
}

/* Reads a whole (small) file into a new buffer. */
static int read_file(const char *path, const char *field, uint8_t **out, size_t *out_len,
                     evtls_last_error *e)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int err = errno;
        evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "%s: cannot open '%s': %s", field, path,
                       strerror(err));
        e->sys_errno = err;
        return EVTLS_ERR_BAD_CONFIG;
    }
    int rc = 0;
    uint8_t *buf = malloc(MAX_FILE_SIZE);
    size_t n = 0;
    if (buf == NULL) {
        rc = evtls__err_set(e, EVTLS_ERR_NOMEM, "%s", field);
        goto done;
    }
    n = fread(buf, 1, MAX_FILE_SIZE, f);
    if (ferror(f) || n == 0 || n == MAX_FILE_SIZE) {
        rc = evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "%s: '%s' is %s", field, path,
                            ferror(f) ? "unreadable"
                            : n == 0  ? "empty"
                                      : "too large");
        goto done;
    }
    *out = buf;
    *out_len = n;
    buf = NULL;
done:
    free(buf);
    fclose(f);
    return rc;
}

static int is_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN";
    if (len < sizeof tag - 1)
        return 0;
    for (size_t i = 0; i + sizeof tag - 1 <= len; i++)
        if (memcmp(buf + i, tag, sizeof tag - 1) == 0)
            return 1;
    return 0;
}

static int format_of(const uint8_t *buf, size_t len)
{
    return is_pem(buf, len) ? WOLFSSL_FILETYPE_PEM : WOLFSSL_FILETYPE_ASN1;
}

/* The CRLs of v->crl_file, checked for every certificate of the chain.
 * Each CRL's signature is checked when it is first used, against the CA
 * that issued it, which may be an intermediate the server sends (wolfSSL's
 * own loader checks it at once, against the trust store alone, and so
 * refuses an intermediate's CRL). A file with anything but CRLs in it is
 * refused: it must never add trust. */
static int load_crls(WOLFSSL_CTX *ctx, const struct evtls__cfg_values *v, evtls_last_error *e)
{
    if (v->crl_file == NULL)
        return 0;
#if !defined(HAVE_CRL) || !defined(OPENSSL_EXTRA)
    (void)ctx;
    return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                          "crl_file: this wolfSSL build has no CRL support (HAVE_CRL)");
#else
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file(v->crl_file, "crl_file", &buf, &len, e);
    if (rc != 0)
        return rc;
    /* Each PEM block must be a CRL; each goes through its own BIO (wolfSSL's
     * PEM reader takes the whole buffer for one). */
    static const char begin[] = "-----BEGIN ", crl_begin[] = "-----BEGIN X509 CRL-----",
                      crl_end[] = "-----END X509 CRL-----";
    WOLFSSL_X509_STORE *store = wolfSSL_CTX_get_cert_store(ctx);
    const char *p = (const char *)buf, *stop = p + len, *why = NULL;
    int n = 0;
    while (why == NULL && (p = memmem(p, (size_t)(stop - p), begin, sizeof begin - 1)) != NULL) {
        const char *q = memmem(p, (size_t)(stop - p), crl_end, sizeof crl_end - 1);
        if ((size_t)(stop - p) < sizeof crl_begin - 1 ||
            memcmp(p, crl_begin, sizeof crl_begin - 1) != 0) {
            why = "holds something other than CRLs";
            break;
        }
        q = q ? q + sizeof crl_end - 1 : stop;
        WOLFSSL_BIO *bio = wolfSSL_BIO_new_mem_buf(p, (int)(q - p));
        WOLFSSL_X509_CRL *crl = bio ? wolfSSL_PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        n++;
        if (store == NULL || crl == NULL ||
            wolfSSL_X509_STORE_add_crl(store, crl) != WOLFSSL_SUCCESS)
            why = "holds a CRL that is not valid";
        wolfSSL_X509_CRL_free(crl);
        wolfSSL_BIO_free(bio);
        p = q;
    }
    free(buf);
    if (why == NULL && n == 0)
        why = "holds no PEM CRL";
    if (why)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "crl_file: '%s' %s", v->crl_file, why);
    return 0;
#endif
}

/* OCSP stapling: the context checks stapled responses (and with REQUIRE
 * wants one); each connection asks for it (evtls_tls.c). */
static int set_cert_status(WOLFSSL_CTX *ctx, const struct evtls__cfg_values *v, evtls_last_error *e)
{
    if (v->cert_status == EVTLS_CERT_STATUS_OFF)
        return 0;
#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
    int r = wolfSSL_CTX_EnableOCSPStapling(ctx);
    if (r == WOLFSSL_SUCCESS && v->cert_status == EVTLS_CERT_STATUS_REQUIRE)
        r = wolfSSL_CTX_EnableOCSPMustStaple(ctx);
    return r == WOLFSSL_SUCCESS ? 0 : fail_tls(e, r, "cert_status", "rejected by wolfSSL");
#else
    (void)ctx;
    return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                          "cert_status: this wolfSSL build has no OCSP stapling "
                          "(HAVE_CERTIFICATE_STATUS_REQUEST, HAVE_OCSP)");
#endif
}

static int load_trust(WOLFSSL_CTX *ctx, const struct evtls__cfg_values *v, evtls_last_error *e)
{
    int rc;
    if (v->ca_buf) {
        rc = wolfSSL_CTX_load_verify_buffer(ctx, v->ca_buf, (long)v->ca_len,
                                            format_of(v->ca_buf, v->ca_len));
        if (rc != WOLFSSL_SUCCESS)
            return fail_tls(e, rc, "ca_buffer", "no valid CA certificate");
    }
    if (v->ca_file) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if ((rc = read_file(v->ca_file, "ca_file", &buf, &len, e)) != 0)
            return rc;
        rc = wolfSSL_CTX_load_verify_buffer(ctx, buf, (long)len, format_of(buf, len));
        free(buf);
        if (rc != WOLFSSL_SUCCESS)
            return fail_tls(e, rc, "ca_file", "no valid CA certificate in the file");
    }
    if (v->ca_dir) {
        struct stat st;
        if (stat(v->ca_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "ca_dir: '%s' is not a readable directory",
                           v->ca_dir);
            return EVTLS_ERR_BAD_CONFIG;
        }
        rc = wolfSSL_CTX_load_verify_locations_ex(ctx, NULL, v->ca_dir,
                                                  WOLFSSL_LOAD_FLAG_IGNORE_ERR);
        if (rc != WOLFSSL_SUCCESS)
            return fail_tls(e, rc, "ca_dir", "no valid CA certificate in the directory");
    }
    int want_system =
        v->system_ca == 1 || (v->system_ca == -1 && !v->ca_buf && !v->ca_file && !v->ca_dir);
    if (want_system && !v->insecure_skip_verify) {
        rc = wolfSSL_CTX_load_system_CA_certs(ctx);
        if (rc != WOLFSSL_SUCCESS) {
            if (v->system_ca == 1)
                return fail_tls(e, rc, "system_ca", "the system trust store could not be loaded");
            LOGW("system trust store could not be loaded: every peer will be untrusted");
        }
    }
    return 0;
}

static int key_password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *pw = userdata;
    if (pw == NULL)
        return 0;
    int n = (int)strlen(pw);
    if (n >= size)
        return 0;
    memcpy(buf, pw, (size_t)n + 1);
    return n;
}

/* Signs a probe with the private key and verifies it with the
 * certificate's public key. wolfSSL_CTX_check_private_key() in Debian's
 * 5.5 build accepts an ECC key that does not match (seen in test_cfg). */
static int key_matches_cert(const uint8_t *cert, size_t cert_len, const uint8_t *key,
                            size_t key_len, const char *password)
{
    static const unsigned char probe[] = "evtls key check";
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    int ok = 0;
    WOLFSSL_X509 *x =
        wolfSSL_X509_load_certificate_buffer(cert, (int)cert_len, format_of(cert, cert_len));
    WOLFSSL_EVP_PKEY *pub = x ? wolfSSL_X509_get_pubkey(x) : NULL;
    WOLFSSL_EVP_PKEY *priv = NULL;
    /* PEM to DER with wolfCrypt's decoder (a password for an encrypted
     * key), not wolfSSL_PEM_read_bio_PrivateKey: Debian's 5.5.4 reads
     * freed memory there on some malformed keys (found by fuzz_cfg). */
    uint8_t *der = NULL;
    if (format_of(key, key_len) == WOLFSSL_FILETYPE_PEM && key_len <= INT32_MAX) {
        der = malloc(key_len);
        int n = der ? wc_KeyPemToDer(key, (int)key_len, der, (int)key_len, password) : -1;
        if (n > 0) {
            key = der;
            key_len = (size_t)n;
        } else {
            key_len = 0;
        }
    }
    /* By type, not wolfSSL_d2i_AutoPrivateKey: a build without
     * OPENSSL_ALL (the tuned one) has no automatic detection. */
    static const int types[] = {EVP_PKEY_EC, EVP_PKEY_RSA};
    for (size_t i = 0; key_len > 0 && i < sizeof types / sizeof types[0] && priv == NULL; i++) {
        const unsigned char *p = key;
        priv = wolfSSL_d2i_PrivateKey(types[i], NULL, &p, (long)key_len);
    }
    free(der);
    WOLFSSL_EVP_MD_CTX *md = wolfSSL_EVP_MD_CTX_new();
    if (pub && priv && md &&
        wolfSSL_EVP_DigestSignInit(md, NULL, wolfSSL_EVP_sha256(), NULL, priv) == 1 &&
        wolfSSL_EVP_DigestSignUpdate(md, probe, sizeof probe) == 1 &&
        wolfSSL_EVP_DigestSignFinal(md, sig, &sig_len) == 1) {
        wolfSSL_EVP_MD_CTX_free(md);
        md = wolfSSL_EVP_MD_CTX_new();
        ok = md && wolfSSL_EVP_DigestVerifyInit(md, NULL, wolfSSL_EVP_sha256(), NULL, pub) == 1 &&
             wolfSSL_EVP_DigestVerifyUpdate(md, probe, sizeof probe) == 1 &&
             wolfSSL_EVP_DigestVerifyFinal(md, sig, sig_len) == 1;
    }
    wolfSSL_EVP_MD_CTX_free(md);
    wolfSSL_EVP_PKEY_free(priv);
    wolfSSL_EVP_PKEY_free(pub);
    wolfSSL_X509_free(x);
    return ok;
}

static int load_client_cert(WOLFSSL_CTX *ctx, const struct evtls__cfg_values *v,
                            struct evtls__pkcs11 **p11, evtls_last_error *e)
{
    uint8_t *cert = v->cert_buf, *key = v->key_buf;
    size_t cert_len = v->cert_len, key_len = v->key_len;
    uint8_t *owned_cert = NULL, *owned_key = NULL;
    int rc = 0;
    /* A key that stays in a PKCS#11 token: the module is loaded and the
     * token logged in now, at build time (never on a loop). */
    int in_token = v->key_file && evtls__pkcs11_is_uri(v->key_file);
    if (in_token &&
        (*p11 = evtls__pkcs11_open(v->pkcs11_module, v->key_file, v->key_password, e)) == NULL)
        return e->code;
    if (v->cert_file && evtls__pkcs11_is_uri(v->cert_file)) {
        if (!in_token) /* a certificate in a token goes with a key in it */
            return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                                  "client_cert_file: a pkcs11: certificate needs a pkcs11: key");
        if ((rc = evtls__pkcs11_read_cert(*p11, v->cert_file, &owned_cert, &cert_len, e)) != 0)
            goto done;
        cert = owned_cert;
    } else if (v->cert_file) {
        if ((rc = read_file(v->cert_file, "client_cert_file", &owned_cert, &cert_len, e)) != 0)
            goto done;
        if (!in_token &&
            (rc = read_file(v->key_file, "client_key_file", &owned_key, &key_len, e)) != 0)
            goto done;
        cert = owned_cert;
        key = owned_key;
    }
    if (cert == NULL)
        goto done;
    if (v->key_password && !in_token) {
        wolfSSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
        wolfSSL_CTX_set_default_passwd_cb_userdata(ctx, v->key_password);
    }
    int fmt = format_of(cert, cert_len);
    int r = fmt == WOLFSSL_FILETYPE_PEM
                ? wolfSSL_CTX_use_certificate_chain_buffer(ctx, cert, (long)cert_len)
                : wolfSSL_CTX_use_certificate_buffer(ctx, cert, (long)cert_len, fmt);
    if (r != WOLFSSL_SUCCESS) {
        rc = fail_tls(e, r, "client_cert", "not a valid certificate");
        goto done;
    }
    if (in_token) { /* the certificate, loaded first, tells wolfSSL the key's type and size */
        rc = evtls__pkcs11_use_key(*p11, ctx, e);
        goto done;
    }
    r = wolfSSL_CTX_use_PrivateKey_buffer(ctx, key, (long)key_len, format_of(key, key_len));
    if (r != WOLFSSL_SUCCESS) {
        rc = fail_tls(e, r, "client_key",
                      v->key_password ? "not a valid key, or wrong password"
                                      : "not a valid key (encrypted keys need a password)");
        goto done;
    }
    if (!key_matches_cert(cert, cert_len, key, key_len, v->key_password))
        rc = evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                            "client_key: does not match the client certificate");
done:
    free(owned_cert);
    free(owned_key);
    /* The password is only needed while the key is decoded. */
    wolfSSL_CTX_set_default_passwd_cb(ctx, NULL);
    wolfSSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    return rc;
}

static int group_from_name(const char *name)
{
    static const struct {
        const char *name;
        int id;
    } groups[] = {
        {"X25519", WOLFSSL_ECC_X25519},        {"X448", WOLFSSL_ECC_X448},
        {"P-256", WOLFSSL_ECC_SECP256R1},      {"P-384", WOLFSSL_ECC_SECP384R1},
        {"P-521", WOLFSSL_ECC_SECP521R1},      {"secp256r1", WOLFSSL_ECC_SECP256R1},
        {"secp384r1", WOLFSSL_ECC_SECP384R1},  {"secp521r1", WOLFSSL_ECC_SECP521R1},
        {"prime256v1", WOLFSSL_ECC_SECP256R1}, {"ffdhe2048", WOLFSSL_FFDHE_2048},
        {"ffdhe3072", WOLFSSL_FFDHE_3072},
    };
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcasecmp(name, groups[i].name) == 0)
            return groups[i].id;
    return -1;
}

/* Splits a colon- (or comma-) separated list in place-free fashion and
 * calls fn for each element; stops at the first non-zero return. */
static int for_each_item(const char *list, int (*fn)(const char *item, void *arg), void *arg)
{
    char item[128];
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ":,");
        if (n == 0 || n >= sizeof item)
            return n == 0 ? -2 : -3;
        memcpy(item, p, n);
        item[n] = '\0';
        int rc = fn(item, arg);
        if (rc)
            return rc;
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

struct groups_acc {
    int ids[MAX_GROUPS];
    int n;
    const char *bad;
    char bad_buf[128];
};

static int add_group(const char *item, void *arg)
{
    struct groups_acc *acc = arg;
    int id = group_from_name(item);
    if (id < 0 || acc->n == MAX_GROUPS) {
        snprintf(acc->bad_buf, sizeof acc->bad_buf, "%s", item);
        acc->bad = acc->bad_buf;
        return -1;
    }
    acc->ids[acc->n++] = id;
    return 0;
}

/* Every group a server may want, X25519 first: the ClientHello carries one
 * key share (the first), and a server that wants another answers with a
 * HelloRetryRequest (RFC 8446 section 4.1.4), as curl's OpenSSL does. */
#ifdef HAVE_CURVE448
#define DEFAULT_GROUPS "X25519:P-256:P-384:P-521:X448"
#else
#define DEFAULT_GROUPS "X25519:P-256:P-384:P-521"
#endif

/* signature_algorithms (RFC 8446 section 4.2.3): SHA-2 and EdDSA only, never
 * SHA-1 (RFC 9155), in TLS 1.2 and 1.3 alike. */
#ifdef HAVE_ED448
#define SIGALGS_ED "ED25519:ED448:"
#elif defined(HAVE_ED25519)
#define SIGALGS_ED "ED25519:"
#else
#define SIGALGS_ED ""
#endif
#define SIGALGS                                                                                    \
    "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:" SIGALGS_ED "RSA-PSS+SHA256:RSA-PSS+SHA384:"          \
    "RSA-PSS+SHA512:RSA+SHA256:RSA+SHA384:RSA+SHA512"

static int set_groups(WOLFSSL_CTX *ctx, const struct evtls__cfg_values *v, evtls_last_error *e)
{
    struct groups_acc acc = {.n = 0, .bad = NULL};
    const char *list = v->groups ? v->groups : DEFAULT_GROUPS;
    int rc = for_each_item(list, add_group, &acc);
    if (rc || acc.n == 0)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "groups: unknown or malformed group '%s'",
                              acc.bad ? acc.bad : list);
    /* wolfSSL_CTX_set_groups is for TLS 1.3 (key shares); a TLS 1.2-only
     * context refuses it and needs only the supported_groups list below. */
    int r = WOLFSSL_SUCCESS;
    if (v->tls_max == EVTLS_TLS_1_3)
        r = wolfSSL_CTX_set_groups(ctx, acc.ids, acc.n);
    if (r != WOLFSSL_SUCCESS)
        return fail_tls(e, r, "groups", "rejected by wolfSSL");
    /* TLS 1.2 advertises its curves in supported_groups separately. */
    for (int i = 0; i < acc.n; i++) {
        r = wolfSSL_CTX_UseSupportedCurve(ctx, (word16)acc.ids[i]);
        if (r != WOLFSSL_SUCCESS)
            return fail_tls(e, r, "groups", "rejected by wolfSSL");
    }
    return 0;
}

struct cipher_check {
    WOLFSSL_CTX *scratch;
    char bad[128];
};

static int check_cipher(const char *item, void *arg)
{
    struct cipher_check *cc = arg;
    if (wolfSSL_CTX_set_cipher_list(cc->scratch, item) != WOLFSSL_SUCCESS) {
        snprintf(cc->bad, sizeof cc->bad, "%s", item);
        return -1;
    }
    return 0;
}

/* The default suites: AEAD with forward secrecy only (wolfSSL's own
 * default list also holds RC4, 3DES, NULL and integrity-only suites).
 * Without AES instructions in the wolfSSL build, ChaCha20-Poly1305 comes
 * first, as BoringSSL and Go order them for such clients: in portable C a
 * keep-alive request costs about a quarter fewer instructions with it than
 * with AES-GCM (bench/vs_anchors.sh prints both counts). Servers that
 * honour the client's order pick it. */
#ifdef WOLFSSL_AESNI
#define AEAD13 "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256"
#define AEAD12                                                                                     \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#else
#define AEAD13 "TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384"
#define AEAD12                                                                                     \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"     \
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
#endif
/* TLS 1.2 with finite-field DHE and AEAD: the rest of Mozilla's
 * "intermediate" client set, after every ECDHE suite. */
#define DHE12           "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
#define DEFAULT_CIPHERS AEAD13 ":" AEAD12 ":" DHE12

/* With a PSK and no list given: the TLS 1.3 suites and the TLS 1.2 PSK
 * ones (the default list has none of those). */
#define PSK_CIPHERS                                                                                \
    "TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256:PSK-AES128-GCM-SHA256:"                \
    "PSK-CHACHA20-POLY1305:PSK-AES256-GCM-SHA384:PSK-AES128-CBC-SHA256"

static int set_ciphers(WOLFSSL_CTX *ctx, const struct evtls__cfg_values *v, evtls_last_error *e)
{
    if (v->ciphers == NULL) {
        int r = wolfSSL_CTX_set_cipher_list(ctx, v->psk_identity ? PSK_CIPHERS : DEFAULT_CIPHERS);
        return r == WOLFSSL_SUCCESS ? 0 : fail_tls(e, r, "ciphers", "default list rejected");
    }
    /* wolfSSL accepts a list as long as one name is known; we want every
     * name checked, so each is tried alone on a scratch context first. */
    struct cipher_check cc = {.scratch = wolfSSL_CTX_new(wolfSSLv23_client_method())};
    if (cc.scratch == NULL)
        return evtls__err_set(e, EVTLS_ERR_NOMEM, "ciphers");
    int rc = for_each_item(v->ciphers, check_cipher, &cc);
    wolfSSL_CTX_free(cc.scratch);
    if (rc)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "ciphers: unknown or malformed cipher '%s'",
                              cc.bad[0] ? cc.bad : v->ciphers);
    int r = wolfSSL_CTX_set_cipher_list(ctx, v->ciphers);
    if (r != WOLFSSL_SUCCESS)
        return fail_tls(e, r, "ciphers", "rejected by wolfSSL");
    return 0;
}

static int build(const struct evtls__cfg_values *v, void **out, struct evtls__pkcs11 **p11,
                 evtls_last_error *e)
{
    WOLFSSL_METHOD *method = v->tls_max == EVTLS_TLS_1_2   ? wolfTLSv1_2_client_method()
                             : v->tls_min == EVTLS_TLS_1_3 ? wolfTLSv1_3_client_method()
                                                           : wolfSSLv23_client_method();
    WOLFSSL_CTX *ctx = method ? wolfSSL_CTX_new(method) : NULL;
    if (ctx == NULL)
        return evtls__err_set(e, EVTLS_ERR_NOMEM, "tls context");
    int rc;
    /* Nothing older than TLS 1.2 is ever offered. */
    int r = wolfSSL_CTX_SetMinVersion(ctx, v->tls_min == EVTLS_TLS_1_3 ? WOLFSSL_TLSV1_3
                                                                       : WOLFSSL_TLSV1_2);
    if (r != WOLFSSL_SUCCESS) {
        rc = fail_tls(e, r, "tls_versions", "rejected by wolfSSL");
        goto fail;
    }
    if ((rc = load_trust(ctx, v, e)) != 0 || (rc = load_crls(ctx, v, e)) != 0 ||
        (rc = set_cert_status(ctx, v, e)) != 0)
        goto fail;
    if ((rc = load_client_cert(ctx, v, p11, e)) != 0)
        goto fail;
    if ((rc = set_ciphers(ctx, v, e)) != 0)
        goto fail;
    if ((rc = set_groups(ctx, v, e)) != 0)
        goto fail;
    if ((r = wolfSSL_CTX_set1_sigalgs_list(ctx, SIGALGS)) != WOLFSSL_SUCCESS) {
        rc = fail_tls(e, r, "signature_algorithms", "rejected by wolfSSL");
        goto fail;
    }
    if (v->session_tickets && v->tls_min == EVTLS_TLS_1_2 &&
        wolfSSL_CTX_UseSessionTicket(ctx) != WOLFSSL_SUCCESS) {
        rc = evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "session_tickets: rejected by wolfSSL");
        goto fail;
    }
    wolfSSL_CTX_set_verify(ctx, v->insecure_skip_verify ? WOLFSSL_VERIFY_NONE : WOLFSSL_VERIFY_PEER,
                           NULL);
    evtls__tls_ctx_prepare(ctx);
    *out = ctx;
    return 0;
fail:
    wolfSSL_CTX_free(ctx);
    evtls__pkcs11_close(*p11);
    *p11 = NULL;
    return rc;
}

int evtls__tlsctx_build(const struct evtls__cfg_values *v, void **out, struct evtls__pkcs11 **p11,
                        evtls_last_error *e)
{
    evtls__global_init();
    evtls__err_clear(e);
    evtls_mem_owner prev = evtls__mem_owner_set(EVTLS_MEM_TLS_CONFIG);
    int rc = build(v, out, p11, e);
    evtls__mem_owner_set(prev);
    return rc;
}

void evtls__tlsctx_free(void *ctx, struct evtls__pkcs11 *p11)
{
    if (ctx)
        wolfSSL_CTX_free(ctx);
    evtls__pkcs11_close(p11);
}
