/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_cli.c - pieces shared by the command-line programs. */
#include "evtls_cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>

int cli_parse_tls_version(const char *s, int *version)
{
    if (strcmp(s, "1.2") == 0)
        *version = 12;
    else if (strcmp(s, "1.3") == 0)
        *version = 13;
    else
        return -1;
    return 0;
}

int cli_parse_family(const char *s, int *family)
{
    if (strcmp(s, "any") == 0)
        *family = 0;
    else if (strcmp(s, "4") == 0)
        *family = 4;
    else if (strcmp(s, "6") == 0)
        *family = 6;
    else
        return -1;
    return 0;
}

void cli_json_string(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

const char cli_net_usage[] =
    "  --psk-identity ID --psk-key HEX   TLS-PSK: no certificates, the key as hex\n"
    "                         (TLS 1.3 external PSK or the TLS 1.2 PSK suites)\n"
    "  --proxy URL            tunnel through the HTTP proxy http://[user:pass@]host[:port]\n"
    "                         (default: https_proxy / HTTPS_PROXY, http_proxy for\n"
    "                         http:// URLs, as curl reads them; \"\" for none)\n"
    "  --noproxy LIST         hosts that go direct, comma-separated (\"*\": all;\n"
    "                         default: no_proxy / NO_PROXY)\n"
    "  --pinnedpubkey PINS    sha256//BASE64[;sha256//BASE64...]: the server's public\n"
    "                         key must be one of these, even when its chain verifies\n"
    "  --crlfile FILE         certificate revocation lists (PEM): a revoked leaf or\n"
    "                         intermediate fails with CERT_REVOKED\n"
    "  --cert-status          require the server to staple its certificate's OCSP\n"
    "                         status (checked; revoked is CERT_REVOKED)\n"
    "  --interface NAME       bind the connections to a network interface\n";

int cli_net_option(struct cli_net *n, const char *name, const char *value)
{
    if (strcmp(name, "psk-identity") == 0)
        n->psk_identity = value;
    else if (strcmp(name, "psk-key") == 0)
        n->psk_key_hex = value;
    else if (strcmp(name, "proxy") == 0)
        n->proxy = value;
    else if (strcmp(name, "noproxy") == 0)
        n->noproxy = value;
    else if (strcmp(name, "pinnedpubkey") == 0)
        n->pins = value;
    else if (strcmp(name, "interface") == 0)
        n->interface = value;
    else if (strcmp(name, "crlfile") == 0)
        n->crl_file = value;
    else if (strcmp(name, "cert-status") == 0)
        n->cert_status = 1;
    else
        return 0;
    return 1;
}

/* Whether host matches one entry of a no_proxy list: the same host, or a
 * subdomain of the entry (a leading dot is optional), case-insensitive. */
static int no_proxy_match(const char *list, const char *host)
{
    size_t hlen = strlen(host);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        const char *e = p;
        size_t elen = n;
        if (elen == 1 && *e == '*')
            return 1;
        if (elen && *e == '.') {
            e++;
            elen--;
        }
        if (elen && (hlen == elen || (hlen > elen && host[hlen - elen - 1] == '.')) &&
            strncasecmp(host + hlen - elen, e, elen) == 0)
            return 1;
        p += n;
    }
    return 0;
}

const char *cli_proxy_for(const struct cli_net *n, int plain, const char *host)
{
    const char *proxy = n->proxy;
    if (proxy == NULL) {
        proxy = plain ? getenv("http_proxy") : getenv("https_proxy");
        if ((proxy == NULL || *proxy == '\0') && !plain)
            proxy = getenv("HTTPS_PROXY");
    }
    if (proxy == NULL || *proxy == '\0')
        return NULL;
    const char *np = n->noproxy;
    if (np == NULL && (np = getenv("no_proxy")) == NULL)
        np = getenv("NO_PROXY");
    if (np && no_proxy_match(np, host))
        return NULL;
    return proxy;
}

int cli_net_apply(const struct cli_net *n, evtls_cfg *cfg, int plain, const char *host, char *err,
                  size_t errlen)
{
    int rc = 0;
    if ((n->psk_identity == NULL) != (n->psk_key_hex == NULL)) {
        snprintf(err, errlen, "%s needs %s as well",
                 n->psk_identity ? "--psk-identity" : "--psk-key",
                 n->psk_identity ? "--psk-key" : "--psk-identity");
        return EVTLS_ERR_INVALID_ARG;
    }
    if (n->psk_identity) {
        uint8_t key[EVTLS_PSK_KEY_MAX];
        size_t len = strlen(n->psk_key_hex);
        int ok = len > 0 && len % 2 == 0 && len / 2 <= sizeof key;
        for (size_t i = 0; ok && i < len / 2; i++) {
            int h = cli_hex_digit(n->psk_key_hex[2 * i]),
                l = cli_hex_digit(n->psk_key_hex[2 * i + 1]);
            ok = h >= 0 && l >= 0;
            key[i] = (uint8_t)(h * 16 + l);
        }
        if (!ok) {
            snprintf(err, errlen, "--psk-key: '%s' is not 1 to %d bytes in hex", n->psk_key_hex,
                     EVTLS_PSK_KEY_MAX);
            return EVTLS_ERR_INVALID_ARG;
        }
        if ((rc = evtls_cfg_set_psk(cfg, n->psk_identity, key, len / 2)) != 0) {
            snprintf(err, errlen, "--psk-identity: %s", evtls_cfg_get_last_error(cfg)->detail);
            return rc;
        }
    }
    const char *proxy = cli_proxy_for(n, plain, host);
    if (proxy && (rc = evtls_cfg_set_proxy(cfg, proxy)) != 0) {
        snprintf(err, errlen, "%s: %s", n->proxy ? "--proxy" : "the proxy from the environment",
                 evtls_cfg_get_last_error(cfg)->detail);
        return rc;
    }
    if (n->pins && (rc = evtls_cfg_set_pinned_pubkey(cfg, n->pins)) != 0) {
        snprintf(err, errlen, "--pinnedpubkey: %s", evtls_cfg_get_last_error(cfg)->detail);
        return rc;
    }
    if (n->cert_status && (rc = evtls_cfg_set_cert_status(cfg, EVTLS_CERT_STATUS_REQUIRE)) != 0) {
        snprintf(err, errlen, "--cert-status: %s", evtls_cfg_get_last_error(cfg)->detail);
        return rc;
    }
    if (n->crl_file && (rc = evtls_cfg_set_crl_file(cfg, n->crl_file)) != 0) {
        snprintf(err, errlen, "--crlfile: %s", evtls_cfg_get_last_error(cfg)->detail);
        return rc;
    }
    if (n->interface && (rc = evtls_cfg_set_interface(cfg, n->interface)) != 0) {
        snprintf(err, errlen, "--interface: %s", evtls_cfg_get_last_error(cfg)->detail);
        return rc;
    }
    if (plain && (rc = evtls_cfg_set_plain_tcp(cfg, 1)) != 0) {
        snprintf(err, errlen, "http://: %s", evtls_cfg_get_last_error(cfg)->detail);
        return rc;
    }
    return 0;
}

int cli_hex_digit(int c)
{
    static const char digits[] = "0123456789abcdef";
    const char *p = c ? strchr(digits, tolower(c)) : NULL;
    return p ? (int)(p - digits) : -1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Six bits at a time out of an accumulator that takes a byte at a time. */
int cli_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t n = 4 * ((len + 2) / 3);
    if (cap <= n)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        for (bits += 8; bits >= 6; bits -= 6)
            out[o++] = b64[(acc >> (bits - 6)) & 63];
    }
    if (bits > 0) /* the last 2 or 4 bits, zero-filled */
        out[o++] = b64[(acc << (6 - bits)) & 63];
    while (o < n)
        out[o++] = '=';
    out[o] = '\0';
    return (int)o;
}

int cli_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4 != 0)
        return -1;
    size_t pad = n > 0 && in[n - 1] == '=' ? 1 + (n > 1 && in[n - 2] == '=') : 0;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n - pad; i++) {
        const char *p = in[i] ? strchr(b64, in[i]) : NULL;
        if (p == NULL)
            return -1; /* not the alphabet, or '=' before the end */
        acc = (acc << 6) | (uint32_t)(p - b64);
        bits += 6;
        if (bits >= 8) {
            if (o == cap)
                return -1;
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (int)o;
}

void cli_print_version(const char *prog)
{
    evtls_build_info bi = EVTLS_BUILD_INFO_INIT;
    if (evtls_get_build_info(&bi) != 0) {
        printf("%s (evtls %s)\n", prog, evtls_version());
        return;
    }
    printf("%s (evtls %s; wolfSSL %s, %s build; CRL %s, OCSP stapling %s, early data %s, "
           "X448 %s; certificate messages up to %zu bytes)\n",
           prog, bi.version, bi.wolfssl_version, bi.wolfssl_tuned ? "tuned" : "system",
           bi.crl ? "yes" : "no", bi.ocsp_stapling ? "yes" : "no", bi.early_data ? "yes" : "no",
           bi.x448 ? "yes" : "no", bi.max_certificate_msg);
}

int cli_parse_duration(const char *s, double bare_unit_us, uint64_t *us)
{
    if (s == NULL || !((*s >= '0' && *s <= '9') || *s == '.'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    static const struct {
        const char *suffix;
        double us;
    } units[] = {{"", 0}, {"us", 1}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6}};
    double unit = -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].suffix) == 0)
            unit = i == 0 ? bare_unit_us : units[i].us; /* "": a bare number */
    if (unit < 0)
        return -1;
    double t = v * unit;
    if (t > 1e6 * 86400 * 366) /* a year at most */
        return -1;
    *us = (uint64_t)(t + 0.5);
    return 0;
}

int cli_parse_timeout_ms(const char *s, unsigned *ms)
{
    uint64_t us;
    if (cli_parse_duration(s, 1e6, &us) != 0 || us < 1000 || us > 3600000000u)
        return -1;
    *ms = (unsigned)(us / 1000);
    return 0;
}

int cli_data(const char *arg, char **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    if (arg[0] != '@') {
        *len = strlen(arg);
        *buf = strdup(arg);
        return *buf ? 0 : -1;
    }
    const char *path = arg + 1;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "--data @%s: cannot read it: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0, limit = 64u << 20;
    char *b = malloc(cap + 1);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= limit) {
                snprintf(err, errlen, "--data @%s: larger than 64 MiB", path);
                free(b);
                fclose(f);
                return -1;
            }
            char *nb = realloc(b, 2 * cap + 1);
            if (nb == NULL) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (b == NULL || bad) {
        snprintf(err, errlen, "--data @%s: cannot read it", path);
        free(b);
        return -1;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* The edit distance between a and b (insertions, deletions, changes), or
 * a large number when either is too long to be worth it. */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 1000;
    unsigned row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The option name closest to name: one it begins (an abbreviation), else
 * the nearest within a third of its length; NULL when none is near. */
static const char *closest(const char *name, const struct option *opts)
{
    const char *best = NULL;
    unsigned best_d = (unsigned)strlen(name) / 3 + 1;
    for (const struct option *o = opts; o->name; o++) {
        if (strncmp(o->name, name, strlen(name)) == 0)
            return o->name;
        unsigned d = edit_distance(name, o->name);
        if (d < best_d) {
            best_d = d;
            best = o->name;
        }
    }
    return best;
}

int cli_check_options(int argc, char *const argv[], const struct option *opts,
                      const char *shortopts, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return 0;
        if (a[0] != '-' || a[1] == '\0')
            continue;      /* an operand (getopt_long moves them after the options) */
        if (a[1] != '-') { /* short options, clustered; one with a value ends the word */
            for (const char *c = a + 1; *c; c++) {
                const char *d = strchr(shortopts, *c);
                if (d && *c != ':' && d[1] == ':') {
                    if (c[1] == '\0')
                        i++; /* the value is the next word */
                    break;
                }
            }
            continue;
        }
        char name[64];
        size_t n = strcspn(a + 2, "=");
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), a + 2);
        const struct option *o = opts;
        while (o->name && strcmp(o->name, name) != 0)
            o++;
        if (o->name == NULL) {
            const char *near = closest(name, opts);
            if (near)
                snprintf(err, errlen, "unknown option '--%s' (did you mean '--%s'?)", name, near);
            else
                snprintf(err, errlen, "unknown option '--%s'", name);
            return -1;
        }
        if (o->has_arg == required_argument && a[2 + n] != '=')
            i++; /* the value is the next word */
    }
    return 0;
}

int cli_parse_resolve(const char *spec, struct cli_resolve *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char port[8];
    if (c1 == NULL || c2 == NULL || c1 == spec || (size_t)(c1 - spec) >= sizeof out->host ||
        c2 - c1 - 1 <= 0 || (size_t)(c2 - c1 - 1) >= sizeof port)
        goto bad;
    memcpy(out->host, spec, (size_t)(c1 - spec));
    memcpy(port, c1 + 1, (size_t)(c2 - c1 - 1));
    port[c2 - c1 - 1] = '\0';
    char *end;
    unsigned long pn = port[0] >= '0' && port[0] <= '9' ? strtoul(port, &end, 10) : 0;
    if (pn == 0 || pn > 65535 || *end != '\0')
        goto bad;
    out->port = (uint16_t)pn;
    const char *a = c2 + 1;
    size_t n = strlen(a);
    if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
        a++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof out->addr)
        goto bad;
    memcpy(out->addr, a, n);
    out->addr[n] = '\0';
    unsigned char buf[16];
    if (strchr(out->addr, ',')) {
        snprintf(err, errlen, "--resolve '%s': one address per --resolve", spec);
        return -1;
    }
    if (inet_pton(AF_INET, out->addr, buf) != 1 && inet_pton(AF_INET6, out->addr, buf) != 1) {
        snprintf(err, errlen, "--resolve '%s': '%s' is not an IP address", spec, out->addr);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen,
             "--resolve '%s' is not HOST:PORT:ADDR (curl's, e.g. example.com:443:127.0.0.1)", spec);
    return -1;
}

const char *cli_resolve_find(const struct cli_resolve *r, size_t n, const char *host, uint16_t port)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].port == port && (strcmp(r[i].host, "*") == 0 || strcasecmp(r[i].host, host) == 0))
            return r[i].addr;
    return NULL;
}

int cli_curl_exit(int err, int http_status)
{
    switch (err) {
    case EVTLS_OK: return http_status >= 400 ? 22 : 0; /* CURLE_HTTP_RETURNED_ERROR (-f) */
    case EVTLS_ERR_NOMEM: return 27;                   /* CURLE_OUT_OF_MEMORY */
    case EVTLS_ERR_DNS_TIMEOUT:
    case EVTLS_ERR_CONNECT_TIMEOUT:
    case EVTLS_ERR_HANDSHAKE_TIMEOUT:
    case EVTLS_ERR_TIMEOUT:
    case EVTLS_ERR_HTTP_TTFB_TIMEOUT:
    case EVTLS_ERR_HTTP_TIMEOUT: return 28; /* CURLE_OPERATION_TIMEDOUT */
    case EVTLS_ERR_CONN_REFUSED:
    case EVTLS_ERR_HOST_UNREACH:
    case EVTLS_ERR_NET_UNREACH:
    case EVTLS_ERR_SOCKET:
    case EVTLS_ERR_PROXY_CONNECT: return 7; /* CURLE_COULDNT_CONNECT */
    case EVTLS_ERR_INTERFACE: return 45;    /* CURLE_INTERFACE_FAILED */
    case EVTLS_ERR_PIN_MISMATCH: return 90; /* CURLE_SSL_PINNEDPUBKEYNOTMATCH */
    case EVTLS_ERR_CERT_STATUS: return 91;  /* CURLE_SSL_INVALIDCERTSTATUS */
    case EVTLS_ERR_KEY_DEVICE: return 58;   /* CURLE_SSL_CERTPROBLEM: the local client key */
    case EVTLS_ERR_PEER_CLOSED:
    case EVTLS_ERR_PEER_RESET:
    case EVTLS_ERR_PROXY_REFUSED: return 56; /* CURLE_RECV_ERROR (curl's for a refused CONNECT) */
    case EVTLS_ERR_HTTP_MALFORMED:
    case EVTLS_ERR_HTTP_HEADERS_TOO_LARGE: return 8;   /* CURLE_WEIRD_SERVER_REPLY */
    case EVTLS_ERR_HTTP_BODY_TOO_LARGE: return 63;     /* CURLE_FILESIZE_EXCEEDED */
    case EVTLS_ERR_HTTP_TRUNCATED: return 18;          /* CURLE_PARTIAL_FILE */
    case EVTLS_ERR_HTTP_TOO_MANY_REDIRECTS: return 47; /* CURLE_TOO_MANY_REDIRECTS */
    case EVTLS_ERR_H2_REFUSED:
    case EVTLS_ERR_H2_CONNECTION: return 16; /* CURLE_HTTP2 */
    case EVTLS_ERR_H2_STREAM: return 92;     /* CURLE_HTTP2_STREAM */
    case EVTLS_ERR_BAD_URL: return 3;        /* CURLE_URL_MALFORMAT */
    case EVTLS_ERR_HTTP_ALPN: return 1;      /* CURLE_UNSUPPORTED_PROTOCOL */
    default: break;
    }
    switch (evtls_err_get_class(err)) {
    case EVTLS_CLASS_DNS: return 6;   /* CURLE_COULDNT_RESOLVE_HOST */
    case EVTLS_CLASS_CERT: return 60; /* CURLE_PEER_FAILED_VERIFICATION */
    case EVTLS_CLASS_TLS: return 35;  /* CURLE_SSL_CONNECT_ERROR */
    default: return 1;
    }
}

/* One HOST part of --connect-to, in brackets for IPv6, into out; *p moves
 * past it and its colon. Returns 0 or -1. */
static int connect_to_host(const char **p, char *out, size_t cap)
{
    const char *s = *p, *end;
    if (*s == '[') {
        end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        s++;
    } else {
        end = strchr(s, ':');
        if (end == NULL)
            return -1;
    }
    if ((size_t)(end - s) >= cap)
        return -1;
    memcpy(out, s, (size_t)(end - s));
    out[end - s] = '\0';
    *p = end + (*end == ']' ? 2 : 1);
    return 0;
}

/* One PORT part (empty: 0), up to the next colon or the end. */
static int connect_to_port(const char **p, uint16_t *port)
{
    char *end;
    *port = 0;
    if (**p == ':' || **p == '\0') {
        *p += **p == ':';
        return 0;
    }
    unsigned long v = **p >= '0' && **p <= '9' ? strtoul(*p, &end, 10) : 0;
    if (v == 0 || v > 65535 || (*end != ':' && *end != '\0'))
        return -1;
    *port = (uint16_t)v;
    *p = end + (*end == ':');
    return 0;
}

int cli_parse_connect_to(const char *spec, struct cli_connect_to *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = spec;
    if (connect_to_host(&p, out->from_host, sizeof out->from_host) != 0 ||
        connect_to_port(&p, &out->from_port) != 0 || strchr(p, ':') == NULL ||
        connect_to_host(&p, out->to_host, sizeof out->to_host) != 0 ||
        connect_to_port(&p, &out->to_port) != 0 || *p != '\0') {
        snprintf(err, errlen,
                 "--connect-to '%s' is not HOST1:PORT1:HOST2:PORT2 (curl's; empty parts: any "
                 "host or port, the same host or port)",
                 spec);
        return -1;
    }
    return 0;
}

const struct cli_connect_to *cli_connect_to_find(const struct cli_connect_to *c, size_t n,
                                                 const char *host, uint16_t port)
{
    for (size_t i = 0; i < n; i++)
        if ((c[i].from_host[0] == '\0' || strcasecmp(c[i].from_host, host) == 0) &&
            (c[i].from_port == 0 || c[i].from_port == port))
            return &c[i];
    return NULL;
}
