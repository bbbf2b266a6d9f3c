/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli_writeout.h - curl's -w / --write-out: a format with %{variable}
 * names, filled from one round's figures (evtls-poll). */
#ifndef EVTLS_CLI_WRITEOUT_H
#define EVTLS_CLI_WRITEOUT_H

#include <stdint.h>
#include <stdio.h>

/* What a round measured, as -w reads it. Times are in microseconds, each
 * phase's own (curl's variables add them up from the start). */
struct cli_round {
    int http_code;  /* 0 when no status line came */
    int http_minor; /* 1 for HTTP/1.1 */
    int http2;      /* 1 for HTTP/2 */
    uint64_t dns_us, tcp_us, tls_us, ttfb_us, total_us;
    uint64_t size_download; /* body bytes */
    const char *remote_ip;  /* NULL or "" when not connected */
    unsigned remote_port;
    const char *url;
    const char *scheme;    /* "https" or "http" */
    int num_connects;      /* 0 or 1 */
    int exitcode;          /* curl's exit status for the round (cli_curl_exit) */
    const char *errormsg;  /* "" when none */
    int ssl_verify_result; /* 0 verified (or plain), 1 not */
    long tls_earlydata;    /* bytes sent as TLS 1.3 early data: negative when rejected */
};

/* The variables curl documents that evtls-poll measures: http_code,
 * response_code, http_version, time_namelookup, time_connect,
 * time_appconnect, time_pretransfer, time_starttransfer, time_total,
 * size_download, speed_download, remote_ip, remote_port, url,
 * url_effective, scheme, num_connects, exitcode, errormsg,
 * ssl_verify_result, tls_earlydata. */

/* Writes fmt to f with each %{name} replaced by the round's value, \n, \r
 * and \t as escapes and %% as %, as curl does. An unknown %{name} is
 * written as it is. Returns 0, or -1 when fmt names a variable that is
 * not one of these (written as is, and *unknown points at it). */
int cli_write_out(FILE *f, const char *fmt, const struct cli_round *r, const char **unknown);

#endif
