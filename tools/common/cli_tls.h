/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli_tls.h - the configuration and the request both tools build from
 * their options, in one place (on the public API): the same option gives
 * the same setting, the same header the same bytes, in evtls-poll and in
 * evtls-load. */
#ifndef EVTLS_CLI_TLS_H
#define EVTLS_CLI_TLS_H

#include <getopt.h>
#include <stddef.h>

#include <evtls/evtls.h>

#include "evtls_cli.h"

/* The TLS and connection options as the tools take them. NULL and 0 leave
 * the library's default. */
struct cli_tls {
    const char *cacert, *capath;           /* --cacert, --capath */
    const char *cert, *key, *key_password; /* --cert, --key, --key-password */
    const char *pkcs11_module, *pin_file;  /* --pkcs11-module, --pin-file: a pkcs11: --key */
    int insecure, no_verify_name;          /* --insecure, --no-verify-name */
    const char *servername;                /* --servername */
    const char *alpn, *ciphers, *groups;   /* --alpn, --ciphers, --groups */
    int tls_min, tls_max;                  /* 12 or 13; 0: the defaults */
    int family;                            /* 0, 4 or 6 */
    int race_limit;                        /* < 0: the default */
    unsigned connect_ms, handshake_ms;     /* --connect-timeout, --handshake-timeout */
    unsigned retries;                      /* --retries: backoff, this many more tries */
    int http2;                             /* an evtls_http2_mode: --http2 (AUTO),
                                              --http2-prior-knowledge */
    unsigned max_streams;                  /* streams per HTTP/2 connection (0: 100) */
    size_t early_data;                     /* TLS 1.3 early data allowed, bytes (0: none) */
    const char *const *sources;            /* --source addresses */
    size_t n_sources;
    const struct cli_net *net; /* PSK, proxy, pins, interface, revocation */
};

/* The long options that fill a struct cli_tls, the same in both tools: each
 * gives code to getopt_long, and cli_tls_option tells them apart by name. */
/* clang-format off */
#define CLI_TLS_LONG_OPTIONS(code)                                                              \
    {"cacert", required_argument, 0, (code)}, {"capath", required_argument, 0, (code)},         \
    {"cert", required_argument, 0, (code)}, {"key", required_argument, 0, (code)},              \
    {"key-password", required_argument, 0, (code)}, {"insecure", no_argument, 0, (code)},       \
    {"no-verify-name", no_argument, 0, (code)}, {"servername", required_argument, 0, (code)},   \
    {"alpn", required_argument, 0, (code)}, {"tls-min", required_argument, 0, (code)},          \
    {"tls-max", required_argument, 0, (code)}, {"ciphers", required_argument, 0, (code)},       \
    {"groups", required_argument, 0, (code)}, {"family", required_argument, 0, (code)},         \
    {"connect-timeout", required_argument, 0, (code)},                                          \
    {"handshake-timeout", required_argument, 0, (code)},                                        \
    {"retries", required_argument, 0, (code)}, {"http2", no_argument, 0, (code)},               \
    {"http2-prior-knowledge", no_argument, 0, (code)},                                          \
    {"pkcs11-module", required_argument, 0, (code)}, {"pin-file", required_argument, 0, (code)}
/* clang-format on */

/* The help lines for those options. */
extern const char cli_tls_usage[];

/* Empties t: every setting the library's default. */
void cli_tls_init(struct cli_tls *t);

/* Stores one of those options (name without "--") in t. Returns 1 when
 * it was one, 0 when not, -1 with err saying why on a bad value. A time
 * is a number with a unit (ms, s, m, h); a bare number is in seconds, as
 * curl's --connect-timeout. */
int cli_tls_option(struct cli_tls *t, const char *name, const char *value, char *err,
                   size_t errlen);

/* The checks across those options, once all are read. Returns 0, or -1
 * with err naming the options that disagree. */
int cli_tls_check(const struct cli_tls *t, char *err, size_t errlen);

/* Warns on stderr, once, for each option that weakens verification
 * (--insecure, --no-verify-name); prog leads each line. */
void cli_tls_warn(const struct cli_tls *t, const char *prog);

/* A built configuration for host (the URL's; plain for http://) from t,
 * in *out. Returns 0, or -1 with err saying which option and why (nothing
 * is left to free). */
int cli_tls_build(const struct cli_tls *t, int plain, const char *host, evtls_cfg **out, char *err,
                  size_t errlen);

/* Adds each "Name: value" of headers (blanks after the colon skipped) to
 * req. Returns 0, or -1 with err naming the header. */
int cli_request_headers(evtls_http_req *req, const char *const *headers, size_t n, char *err,
                        size_t errlen);

#endif
