/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_cli.h - small pieces shared by the command-line programs
 * (tools/evtls-poll, tools/evtls-load): option values and JSON
 * output. Not part of the library. */
#ifndef EVTLS_CLI_H
#define EVTLS_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <evtls/evtls.h>

/* The value of a hex digit, or -1. */
int cli_hex_digit(int c);

/* RFC 4648 base64 (with padding) of len bytes into out (cap bytes, NUL
 * included). Returns the text's length, or -1 when it does not fit. */
int cli_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* The bytes of n characters of padded base64 into out (cap bytes).
 * Returns how many, or -1 for text that is not base64 or does not fit. */
int cli_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* --version: prog's line with the library's version and its build's
 * features (evtls_get_build_info), on stdout. */
void cli_print_version(const char *prog);

/* "1.2" or "1.3" -> 12 or 13. Returns 0, or -1 for anything else. */
int cli_parse_tls_version(const char *s, int *version);

/* "any", "4" or "6" -> 0, 4 or 6. Returns 0, or -1 for anything else. */
int cli_parse_family(const char *s, int *family);

/* A duration as both programs take it: a number (fractions allowed) with
 * a unit, us, ms, s, m or h; a bare number is in bare_unit_us (each
 * option's documented unit). Returns 0 with *us set, or -1. */
int cli_parse_duration(const char *s, double bare_unit_us, uint64_t *us);

/* A timeout option's value: a time from 1 ms to 1 h, a bare number in
 * seconds (as curl's). Returns 0 with *ms set, or -1. */
int cli_parse_timeout_ms(const char *s, unsigned *ms);

/* A request body as curl's --data takes it: TEXT, or @FILE for the file's
 * bytes (at most 64 MiB). Returns 0 with a malloc'd *buf (NUL-terminated)
 * and *len, or -1 with a message in err. Not for the event loop: it reads
 * the file at once. */
int cli_data(const char *arg, char **buf, size_t *len, char *err, size_t errlen);

/* Writes s as a JSON string (escaped, quoted), or null for NULL. */
void cli_json_string(FILE *f, const char *s);

/* Checks each option of argv (up to "--") against opts and shortopts
 * before getopt_long reads them: a long option must be written whole (no
 * abbreviation: getopt_long would take any unique prefix, so a later
 * option could change what an old command line means). An unknown one is
 * refused naming the closest option ("did you mean"). Returns 0, or -1
 * with err set. */
int cli_check_options(int argc, char *const argv[], const struct option *opts,
                      const char *shortopts, char *err, size_t errlen);

/* curl's --resolve HOST:PORT:ADDR: connections to HOST:PORT go to the
 * address ADDR (IPv4, or IPv6 with or without brackets), while the name
 * sent and verified stays HOST. HOST "*" is any host. */
struct cli_resolve {
    char host[256];
    uint16_t port;
    char addr[64];
};

/* Parses one --resolve value. Returns 0, or -1 with err saying why. */
int cli_parse_resolve(const char *spec, struct cli_resolve *out, char *err, size_t errlen);

/* The address for host:port among r[0..n) (the first that matches, host
 * compared without case), or NULL when none does (curl ignores entries
 * for other hosts). */
const char *cli_resolve_find(const struct cli_resolve *r, size_t n, const char *host,
                             uint16_t port);

/* curl's --connect-to HOST1:PORT1:HOST2:PORT2: a connection to HOST1:PORT1
 * (empty: any host, any port) goes to HOST2:PORT2 instead (empty: the
 * same host, the same port), a name or an address (IPv6 in brackets);
 * the name sent and verified stays HOST1. */
struct cli_connect_to {
    char from_host[256], to_host[256];
    uint16_t from_port, to_port; /* 0: any / the same */
};

/* Parses one --connect-to value. Returns 0, or -1 with err saying why. */
int cli_parse_connect_to(const char *spec, struct cli_connect_to *out, char *err, size_t errlen);

/* The first entry of c[0..n) for host:port, or NULL. */
const struct cli_connect_to *cli_connect_to_find(const struct cli_connect_to *c, size_t n,
                                                 const char *host, uint16_t port);

/* curl's exit status for the same failure: an evtls error, or (err 0) an
 * HTTP status of 400 or above, which is curl -f's 22. 0 for success. */
int cli_curl_exit(int err, int http_status);

/* The options both programs take for what esp-tls and curl users set:
 * TLS-PSK, a proxy, key pins, revocation lists, an interface. */
struct cli_net {
    const char *psk_identity, *psk_key_hex;
    const char *proxy;   /* --proxy; "" turns the environment's off */
    const char *noproxy; /* --noproxy: hosts that go direct ("*": all) */
    const char *pins;    /* --pinnedpubkey */
    const char *interface;
    const char *crl_file; /* --crlfile */
    int cert_status;      /* --cert-status: a stapled OCSP response is required */
};

/* Their entries in a getopt_long table, all returning code. */
#define CLI_NET_LONG_OPTIONS(code)                                                                 \
    {"psk-identity", required_argument, 0, (code)}, {"psk-key", required_argument, 0, (code)},     \
        {"proxy", required_argument, 0, (code)}, {"noproxy", required_argument, 0, (code)},        \
        {"pinnedpubkey", required_argument, 0, (code)}, {"crlfile", required_argument, 0, (code)}, \
        {"cert-status", no_argument, 0, (code)},                                                   \
    {                                                                                              \
        "interface", required_argument, 0, (code)                                                  \
    }

/* The help lines for those options. */
extern const char cli_net_usage[];

/* Handles one of those long options (name without "--"). Returns 1 when
 * it was one (value stored in n), 0 when not. */
int cli_net_option(struct cli_net *n, const char *name, const char *value);

/* The proxy for a URL as curl picks it: --proxy wins; else for https
 * https_proxy or HTTPS_PROXY, for http http_proxy (lower case only, as
 * curl); unless host matches --noproxy or else no_proxy / NO_PROXY (a
 * comma-separated list of host names, domain suffixes and addresses; "*"
 * matches every host). Returns the proxy URL or NULL for a direct
 * connection. */
const char *cli_proxy_for(const struct cli_net *n, int plain, const char *host);

/* Applies n to cfg for a URL (plain: http://, host). Returns 0, or an
 * evtls error with a message in err naming the option. */
int cli_net_apply(const struct cli_net *n, evtls_cfg *cfg, int plain, const char *host, char *err,
                  size_t errlen);

#endif
