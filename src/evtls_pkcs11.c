/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_pkcs11.c - a client key in a PKCS#11 token, named by an RFC 7512
 * URI: the URI's parser (pure), and the module, token, login and wolfSSL
 * device a configuration holds (evtls_pkcs11.h). */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "evtls_error_int.h"
#include "evtls_pkcs11.h"

#if defined(HAVE_PKCS11) && defined(WOLF_CRYPTO_CB) && defined(WOLF_PRIVATE_KEY_ID)
#include <wolfssl/wolfcrypt/cryptocb.h>
#include <wolfssl/wolfcrypt/wc_pkcs11.h>
#define EVTLS_HAVE_PKCS11 1
#endif

/* ---- the URI (RFC 7512) */

int evtls__pkcs11_is_uri(const char *s)
{
    return s && strncasecmp(s, "pkcs11:", 7) == 0;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes len bytes of s into out (cap bytes); returns the length,
 * or -1 (a bad escape, too long). */
static long pct_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (n >= cap)
            return -1;
        out[n++] = (uint8_t)c;
    }
    return (long)n;
}

/* A text attribute: decoded, NUL-terminated, no NUL inside. */
static int text_attr(const char *v, size_t len, char *out, size_t cap)
{
    long n = pct_decode(v, len, (uint8_t *)out, cap - 1);
    if (n < 0 || memchr(out, '\0', (size_t)n))
        return -1;
    out[n] = '\0';
    return 0;
}

static int bad(evtls_last_error *e, const char *what, size_t len, const char *s)
{
    return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11 URI: %s '%.*s'", what, (int)len, s);
}

/* One "name=value" of the path (query 0) or the query (query 1). */
static int attribute(struct evtls__pkcs11_uri *u, const char *a, size_t len, int query,
                     evtls_last_error *e)
{
    const char *eq = memchr(a, '=', len);
    if (eq == NULL)
        return bad(e, "an attribute without a value", len, a);
    size_t nl = (size_t)(eq - a), vl = len - nl - 1;
    const char *v = eq + 1;
#define IS(name) (nl == strlen(name) && strncmp(a, name, nl) == 0)
    int rc = 0;
    if (!query) {
        if (IS("token"))
            rc = text_attr(v, vl, u->token, sizeof u->token);
        else if (IS("serial"))
            rc = text_attr(v, vl, u->serial, sizeof u->serial);
        else if (IS("object"))
            rc = text_attr(v, vl, u->object, sizeof u->object);
        else if (IS("id")) {
            long n = pct_decode(v, vl, u->id, sizeof u->id);
            rc = n < 0 ? -1 : 0;
            u->id_len = n < 0 ? 0 : (size_t)n;
        } else if (IS("type")) {
            char t[16];
            if (text_attr(v, vl, t, sizeof t) != 0 ||
                (strcmp(t, "private") != 0 && strcmp(t, "cert") != 0))
                return bad(e, "names no private key or certificate (type=)", vl, v);
            u->cert = strcmp(t, "cert") == 0;
        } else if (IS("manufacturer") || IS("model") || IS("library-manufacturer") ||
                   IS("library-description") || IS("library-version") || IS("slot-description") ||
                   IS("slot-manufacturer") || IS("slot-id")) {
            rc = 0; /* known, and not needed to find the key */
        } else {
            return bad(e, "an unknown path attribute", nl, a);
        }
    } else {
        if (IS("pin-value"))
            rc = text_attr(v, vl, u->pin, sizeof u->pin);
        else if (IS("pin-source"))
            rc = text_attr(v, vl, u->pin_source, sizeof u->pin_source);
        else if (IS("module-path"))
            rc = text_attr(v, vl, u->module_path, sizeof u->module_path);
        /* other query attributes are ignored (RFC 7512 section 2.3) */
    }
#undef IS
    return rc == 0 ? 0 : bad(e, "an attribute that does not decode or is too long", len, a);
}

int evtls__pkcs11_uri_parse(const char *uri, struct evtls__pkcs11_uri *u, evtls_last_error *e)
{
    memset(u, 0, sizeof *u);
    if (!evtls__pkcs11_is_uri(uri))
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11 URI: does not start with pkcs11:");
    const char *p = uri + 7, *q = strchr(p, '?');
    const char *path_end = q ? q : p + strlen(p);
    while (p < path_end) {
        const char *semi = memchr(p, ';', (size_t)(path_end - p));
        const char *end = semi ? semi : path_end;
        if (end > p && attribute(u, p, (size_t)(end - p), 0, e) != 0)
            return EVTLS_ERR_BAD_CONFIG;
        p = end + 1;
    }
    for (p = q ? q + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len && attribute(u, p, len, 1, e) != 0)
            return EVTLS_ERR_BAD_CONFIG;
        p = amp ? amp + 1 : NULL;
    }
    if (u->object[0] == '\0' && u->id_len == 0)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11 URI: names no key (object= or id=)");
    if (u->pin[0] && u->pin_source[0])
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                              "pkcs11 URI: pin-value and pin-source: give one of them");
    return 0;
}

#ifdef EVTLS_HAVE_PKCS11

/* ---- the token */

#ifndef CKR_PIN_INCORRECT
#define CKR_PIN_INCORRECT 0x000000A0UL
#endif
#ifndef CKR_PIN_LOCKED
#define CKR_PIN_LOCKED 0x000000A4UL
#endif
#ifndef CKO_CERTIFICATE
#define CKO_CERTIFICATE 0x00000001UL
#endif
#ifndef CKR_USER_ALREADY_LOGGED_IN
#define CKR_USER_ALREADY_LOGGED_IN 0x00000100UL
#endif

/* A module is loaded once per process (a second C_Initialize is refused)
 * and a token logged in once (PKCS#11 logins are the application's, not a
 * session's): configurations using the same share them, counted. */
struct module {
    struct module *next;
    char path[256];
    Pkcs11Dev dev;
    unsigned refs;
};

struct token {
    struct token *next;
    struct module *m;
    CK_SLOT_ID slot;
    char pin[128];
    Pkcs11Token tok;
    pthread_mutex_t lock; /* one operation on its session at a time */
    int devId;            /* its wolfSSL device (wolfSSL holds a few: one per token) */
    unsigned refs;
};

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static struct module *modules;
static struct token *tokens;

struct evtls__pkcs11 {
    struct token *t;
    struct evtls__pkcs11_uri u;
};

static atomic_int next_dev_id = 0x45560000; /* "EV": far from wolfSSL's own */

/* The device's operations, one at a time per token: its session is one,
 * and a PKCS#11 session is not used by two threads at once. */
static int locked_cb(int devId, wc_CryptoInfo *info, void *ctx)
{
    struct token *t = ctx;
    pthread_mutex_lock(&t->lock);
    int rc = wc_Pkcs11_CryptoDevCb(devId, info, &t->tok);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

/* With the registry locked: module path, loaded (a reference taken). */
static struct module *module_get(const char *path, evtls_last_error *e)
{
    for (struct module *m = modules; m; m = m->next)
        if (strcmp(m->path, path) == 0) {
            m->refs++;
            return m;
        }
    struct module *m = calloc(1, sizeof *m);
    if (m == NULL) {
        evtls__err_set(e, EVTLS_ERR_NOMEM, "pkcs11");
        return NULL;
    }
    snprintf(m->path, sizeof m->path, "%s", path);
    if (access(path, R_OK) != 0) {
        evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: module %s: no such file", path);
        free(m);
        return NULL;
    }
    if (wc_Pkcs11_Initialize(&m->dev, path, NULL) != 0) {
        evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: module %s could not be loaded", path);
        free(m);
        return NULL;
    }
    m->refs = 1;
    m->next = modules;
    modules = m;
    return m;
}

static void module_put(struct module *m)
{
    if (m == NULL || --m->refs > 0)
        return;
    for (struct module **pp = &modules; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    wc_Pkcs11_Finalize(&m->dev);
    free(m);
}

/* A blank-padded PKCS#11 text field equals s. */
static int padded_eq(const CK_UTF8CHAR *field, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n > size || memcmp(field, s, n) != 0)
        return 0;
    for (size_t i = n; i < size; i++)
        if (field[i] != ' ' && field[i] != '\0')
            return 0;
    return 1;
}

/* The slot holding the token the URI names (the first with a token when it
 * names none). Returns 0 with *slot, or BAD_CONFIG. */
static int find_slot(struct module *m, const struct evtls__pkcs11_uri *u, CK_SLOT_ID *slot,
                     evtls_last_error *e)
{
    CK_ULONG n = 0;
    CK_SLOT_ID *list = NULL;
    if (m->dev.func->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0 ||
        (list = calloc(n, sizeof *list)) == NULL ||
        m->dev.func->C_GetSlotList(CK_TRUE, list, &n) != CKR_OK) {
        free(list);
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: module %s lists no token", m->path);
    }
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (m->dev.func->C_GetTokenInfo(list[i], &ti) != CKR_OK)
            continue;
        if ((u->token[0] && !padded_eq(ti.label, sizeof ti.label, u->token)) ||
            (u->serial[0] &&
             !padded_eq((const CK_UTF8CHAR *)ti.serialNumber, sizeof ti.serialNumber, u->serial)))
            continue;
        *slot = list[i];
        free(list);
        return 0;
    }
    free(list);
    return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: no token%s%s%s in module %s",
                          u->token[0] ? " labelled '" : "", u->token, u->token[0] ? "'" : "",
                          m->path);
}

/* The PIN: the URI's pin-value, its pin-source file's first line, or the
 * one given apart. */
static int get_pin(const struct evtls__pkcs11_uri *u, const char *apart, char *pin, size_t cap,
                   evtls_last_error *e)
{
    if (u->pin[0]) {
        snprintf(pin, cap, "%s", u->pin);
        return 0;
    }
    if (u->pin_source[0]) {
        const char *path = u->pin_source;
        if (strncmp(path, "file:", 5) == 0)
            path += 5;
        FILE *f = fopen(path, "re");
        int ok = f && fgets(pin, (int)cap, f) != NULL;
        if (f)
            fclose(f);
        if (!ok)
            return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: pin-source %s cannot be read",
                                  path);
        pin[strcspn(pin, "\r\n")] = '\0';
        return 0;
    }
    if (apart && apart[0]) {
        snprintf(pin, cap, "%s", apart);
        return 0;
    }
    return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                          "pkcs11: no PIN for token '%s' (pin-value or pin-source in the URI, "
                          "or the key password)",
                          u->token);
}

/* Logs in on a session of its own to tell a wrong PIN apart. Returns 0 or
 * BAD_CONFIG. */
static int check_login(struct module *m, CK_SLOT_ID slot, const char *token, const char *pin,
                       evtls_last_error *e)
{
    CK_FUNCTION_LIST *f = m->dev.func;
    CK_SESSION_HANDLE s;
    if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s': no session opens",
                              token);
    CK_RV rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin));
    int rc = 0;
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
        rc = evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s': %s", token,
                            rv == CKR_PIN_LOCKED ? "the PIN is locked" : "wrong PIN");
    else if (rv != CKR_OK)
        rc = evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s': login refused (0x%lx)",
                            token, (unsigned long)rv);
    f->C_CloseSession(s);
    return rc;
}

/* With the registry locked: the token in slot, logged in with pin and
 * with a session of its own (a reference taken). */
static struct token *token_get(struct module *m, CK_SLOT_ID slot, const char *label,
                               const char *pin, evtls_last_error *e)
{
    for (struct token *t = tokens; t; t = t->next)
        if (t->m == m && t->slot == slot) {
            /* logged in already: the PIN is checked against the one used */
            if (strcmp(t->pin, pin) != 0) {
                evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s': wrong PIN", label);
                return NULL;
            }
            t->refs++;
            return t;
        }
    if (check_login(m, slot, label, pin, e) != 0)
        return NULL;
    struct token *t = calloc(1, sizeof *t);
    if (t == NULL) {
        evtls__err_set(e, EVTLS_ERR_NOMEM, "pkcs11");
        return NULL;
    }
    t->m = m;
    t->slot = slot;
    snprintf(t->pin, sizeof t->pin, "%s", pin);
    pthread_mutex_init(&t->lock, NULL);
    /* wolfSSL keeps a pointer to the PIN, not a copy: the token's own */
    if (wc_Pkcs11Token_Init(&t->tok, &m->dev, (int)slot, label[0] ? label : NULL,
                            (const unsigned char *)t->pin, (int)strlen(t->pin)) != 0 ||
        wc_Pkcs11Token_Open(&t->tok, 1) != 0) {
        evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s': cannot open a session", label);
        wc_Pkcs11Token_Final(&t->tok);
        pthread_mutex_destroy(&t->lock);
        memset(t->pin, 0, sizeof t->pin);
        free(t);
        return NULL;
    }
    t->devId = atomic_fetch_add(&next_dev_id, 1);
    if (wc_CryptoCb_RegisterDevice(t->devId, locked_cb, t) != 0) {
        evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: wolfSSL takes no more devices");
        wc_Pkcs11Token_Final(&t->tok);
        pthread_mutex_destroy(&t->lock);
        memset(t->pin, 0, sizeof t->pin);
        free(t);
        return NULL;
    }
    t->refs = 1;
    t->m->refs++;
    t->next = tokens;
    tokens = t;
    return t;
}

static void token_put(struct token *t)
{
    if (t == NULL || --t->refs > 0)
        return;
    for (struct token **pp = &tokens; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    wc_CryptoCb_UnRegisterDevice(t->devId);
    wc_Pkcs11Token_Final(&t->tok);
    pthread_mutex_destroy(&t->lock);
    memset(t->pin, 0, sizeof t->pin);
    module_put(t->m);
    free(t);
}

/* On a session s of t: the object of class cls the URI names (its id= or
 * object=). Returns 1 with *h, or 0. */
static int find_object(struct token *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                       const struct evtls__pkcs11_uri *u, CK_OBJECT_HANDLE *h)
{
    CK_FUNCTION_LIST *f = t->m->dev.func;
    CK_ATTRIBUTE a[2] = {{CKA_CLASS, &cls, sizeof cls}, {0, NULL, 0}};
    if (u->id_len)
        a[1] = (CK_ATTRIBUTE){CKA_ID, (void *)u->id, (CK_ULONG)u->id_len};
    else
        a[1] = (CK_ATTRIBUTE){CKA_LABEL, (void *)u->object, (CK_ULONG)strlen(u->object)};
    CK_ULONG found = 0;
    if (f->C_FindObjectsInit(s, a, 2) == CKR_OK) {
        if (f->C_FindObjects(s, h, 1, &found) != CKR_OK)
            found = 0;
        f->C_FindObjectsFinal(s);
    }
    return found > 0;
}

/* What the URI names, for messages: "labelled 'x'" or "with that id". */
static const char *named(const struct evtls__pkcs11_uri *u, char *buf, size_t size)
{
    if (u->id_len)
        snprintf(buf, size, "with that id");
    else
        snprintf(buf, size, "labelled '%s'", u->object);
    return buf;
}

/* The key the URI names is in the token, and may sign. Returns 0 or
 * BAD_CONFIG. */
static int find_key(struct token *t, const struct evtls__pkcs11_uri *u, evtls_last_error *e)
{
    CK_FUNCTION_LIST *f = t->m->dev.func;
    CK_SESSION_HANDLE s;
    char what[96];
    if (f->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s': no session opens",
                              u->token);
    CK_OBJECT_HANDLE h;
    CK_BBOOL can_sign = CK_TRUE;
    CK_ATTRIBUTE sign = {CKA_SIGN, &can_sign, sizeof can_sign};
    int found = find_object(t, s, CKO_PRIVATE_KEY, u, &h);
    if (found && f->C_GetAttributeValue(s, h, &sign, 1) != CKR_OK)
        can_sign = CK_TRUE; /* a token that does not say: the handshake will */
    f->C_CloseSession(s);
    if (!found)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s' holds no private key %s",
                              u->token, named(u, what, sizeof what));
    if (!can_sign)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                              "pkcs11: token '%s': the private key %s cannot sign (CKA_SIGN is "
                              "false)",
                              u->token, named(u, what, sizeof what));
    return 0;
}

int evtls__pkcs11_read_cert(evtls__pkcs11 *p, const char *cert_uri, uint8_t **der, size_t *len,
                            evtls_last_error *e)
{
    struct evtls__pkcs11_uri cu;
    char what[96];
    *der = NULL;
    if (evtls__pkcs11_uri_parse(cert_uri, &cu, e) != 0)
        return EVTLS_ERR_BAD_CONFIG;
    if (cu.token[0] && strcmp(cu.token, p->u.token) != 0)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                              "pkcs11: the certificate's token '%s' is not the key's '%s'",
                              cu.token, p->u.token);
    CK_FUNCTION_LIST *f = p->t->m->dev.func;
    CK_SESSION_HANDLE s;
    if (f->C_OpenSession(p->t->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s': no session opens",
                              p->u.token);
    CK_OBJECT_HANDLE h;
    CK_ATTRIBUTE v = {CKA_VALUE, NULL, 0};
    int rc = 0;
    if (!find_object(p->t, s, CKO_CERTIFICATE, &cu, &h))
        rc = evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: token '%s' holds no certificate %s",
                            p->u.token, named(&cu, what, sizeof what));
    else if (f->C_GetAttributeValue(s, h, &v, 1) != CKR_OK || v.ulValueLen == 0 ||
             v.ulValueLen > 65536 || (v.pValue = malloc(v.ulValueLen)) == NULL ||
             f->C_GetAttributeValue(s, h, &v, 1) != CKR_OK) {
        free(v.pValue);
        rc = evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                            "pkcs11: token '%s': the certificate %s cannot be read", p->u.token,
                            named(&cu, what, sizeof what));
    } else {
        *der = v.pValue;
        *len = v.ulValueLen;
    }
    f->C_CloseSession(s);
    return rc;
}

evtls__pkcs11 *evtls__pkcs11_open(const char *module, const char *uri, const char *pin_apart,
                                  evtls_last_error *e)
{
    evtls__pkcs11 *p = calloc(1, sizeof *p);
    if (p == NULL) {
        evtls__err_set(e, EVTLS_ERR_NOMEM, "pkcs11");
        return NULL;
    }
    char pin[128] = "";
    CK_SLOT_ID slot = 0;
    struct module *m = NULL;
    if (evtls__pkcs11_uri_parse(uri, &p->u, e) != 0 ||
        get_pin(&p->u, pin_apart, pin, sizeof pin, e) != 0)
        goto fail;
    if (p->u.cert) {
        evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: the key's URI names a certificate");
        goto fail;
    }
    if ((module == NULL || module[0] == '\0') && p->u.module_path[0])
        module = p->u.module_path;
    if (module == NULL || module[0] == '\0') {
        evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                       "pkcs11: no module to load (evtls_cfg_set_pkcs11_module, or module-path= "
                       "in the URI)");
        goto fail;
    }
    pthread_mutex_lock(&registry);
    if ((m = module_get(module, e)) != NULL && find_slot(m, &p->u, &slot, e) == 0)
        p->t = token_get(m, slot, p->u.token, pin, e);
    module_put(m); /* the token holds its own reference */
    pthread_mutex_unlock(&registry);
    memset(pin, 0, sizeof pin);
    if (p->t == NULL || find_key(p->t, &p->u, e) != 0)
        goto fail;
    return p;
fail:
    memset(pin, 0, sizeof pin);
    evtls__pkcs11_close(p);
    return NULL;
}

int evtls__pkcs11_use_key(evtls__pkcs11 *p, void *ctx, evtls_last_error *e)
{
    /* The key alone is the device's: the context's other work (key
     * shares, record protection) stays in software. */
    int dev = p->t->devId;
    int r = p->u.id_len ? wolfSSL_CTX_use_PrivateKey_Id(ctx, p->u.id, (long)p->u.id_len, dev)
                        : wolfSSL_CTX_use_PrivateKey_Label(ctx, p->u.object, dev);
    if (r != WOLFSSL_SUCCESS)
        return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: wolfSSL refused the token's key");
    return 0;
}

void evtls__pkcs11_close(evtls__pkcs11 *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&registry);
    token_put(p->t);
    pthread_mutex_unlock(&registry);
    memset(&p->u, 0, sizeof p->u); /* the PIN */
    free(p);
}

#else /* no PKCS#11 in this wolfSSL */

evtls__pkcs11 *evtls__pkcs11_open(const char *module, const char *uri, const char *pin,
                                  evtls_last_error *e)
{
    (void)module, (void)uri, (void)pin;
    evtls__err_set(e, EVTLS_ERR_BAD_CONFIG,
                   "pkcs11: this build's wolfSSL has no PKCS#11 (built without --enable-pkcs11)");
    return NULL;
}

int evtls__pkcs11_use_key(evtls__pkcs11 *p, void *ctx, evtls_last_error *e)
{
    (void)p, (void)ctx;
    return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: not in this build");
}

int evtls__pkcs11_read_cert(evtls__pkcs11 *p, const char *cert_uri, uint8_t **der, size_t *len,
                            evtls_last_error *e)
{
    (void)p, (void)cert_uri, (void)len;
    *der = NULL;
    return evtls__err_set(e, EVTLS_ERR_BAD_CONFIG, "pkcs11: not in this build");
}

void evtls__pkcs11_close(evtls__pkcs11 *p)
{
    (void)p;
}

#endif
