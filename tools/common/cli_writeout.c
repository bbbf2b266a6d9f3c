/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli_writeout.c - curl's -w variables from a round's figures (see
 * cli_writeout.h). */
#include "cli_writeout.h"

#include <string.h>

/* Seconds with curl's six decimals. */
static void secs(FILE *f, uint64_t us)
{
    fprintf(f, "%llu.%06llu", (unsigned long long)(us / 1000000u),
            (unsigned long long)(us % 1000000u));
}

/* curl's times count from the start, each phase ending where the next
 * begins; a phase not reached is 0, as curl prints it. */
static uint64_t upto(const struct cli_round *r, int phase)
{
    uint64_t t = r->dns_us;
    if (phase >= 1)
        t = r->tcp_us ? t + r->tcp_us : 0;
    if (phase >= 2 && t)
        t = strcmp(r->scheme ? r->scheme : "", "http") == 0 ? 0 : r->tls_us ? t + r->tls_us : 0;
    return t;
}

/* When the request could go out: the connection ready (TCP for http://). */
static uint64_t ready_at(const struct cli_round *r)
{
    return upto(r, strcmp(r->scheme ? r->scheme : "", "http") == 0 ? 1 : 2);
}

/* Writes the variable name (n bytes) of r; returns 0, or -1 when unknown. */
static int variable(FILE *f, const char *name, size_t n, const struct cli_round *r)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    if (IS("http_code") || IS("response_code"))
        fprintf(f, "%03d", r->http_code);
    else if (IS("http_version"))
        fprintf(f, "%s", !r->http_code ? "0" : r->http2 ? "2" : r->http_minor ? "1.1" : "1.0");
    else if (IS("time_namelookup"))
        secs(f, r->dns_us);
    else if (IS("time_connect"))
        secs(f, upto(r, 1));
    else if (IS("time_appconnect"))
        secs(f, upto(r, 2));
    else if (IS("time_pretransfer"))
        secs(f, ready_at(r));
    else if (IS("time_starttransfer"))
        secs(f, r->http_code ? ready_at(r) + r->ttfb_us : 0);
    else if (IS("time_total"))
        secs(f, r->total_us);
    else if (IS("size_download"))
        fprintf(f, "%llu", (unsigned long long)r->size_download);
    else if (IS("speed_download")) /* bytes a second, as curl's integer */
        fprintf(f, "%llu",
                r->total_us ? (unsigned long long)(r->size_download * 1000000u / r->total_us) : 0);
    else if (IS("remote_ip"))
        fprintf(f, "%s", r->remote_ip ? r->remote_ip : "");
    else if (IS("remote_port"))
        fprintf(f, "%u", r->remote_ip && r->remote_ip[0] ? r->remote_port : 0);
    else if (IS("url") || IS("url_effective"))
        fprintf(f, "%s", r->url ? r->url : "");
    else if (IS("scheme"))
        fprintf(f, "%s", r->scheme ? r->scheme : "");
    else if (IS("num_connects"))
        fprintf(f, "%d", r->num_connects);
    else if (IS("tls_earlydata"))
        fprintf(f, "%ld", r->tls_earlydata);
    else if (IS("exitcode"))
        fprintf(f, "%d", r->exitcode);
    else if (IS("errormsg"))
        fprintf(f, "%s", r->errormsg ? r->errormsg : "");
    else if (IS("ssl_verify_result"))
        fprintf(f, "%d", r->ssl_verify_result);
    else
        return -1;
    return 0;
#undef IS
}

int cli_write_out(FILE *f, const char *fmt, const struct cli_round *r, const char **unknown)
{
    int rc = 0;
    for (const char *p = fmt; *p; p++) {
        if (p[0] == '%' && p[1] == '%') {
            fputc('%', f);
            p++;
        } else if (p[0] == '%' && p[1] == '{' && strchr(p + 2, '}')) {
            const char *name = p + 2, *end = strchr(name, '}');
            if (variable(f, name, (size_t)(end - name), r) != 0) {
                fwrite(p, 1, (size_t)(end + 1 - p), f); /* as curl: left as written */
                if (rc == 0 && unknown)
                    *unknown = p;
                rc = -1;
            }
            p = end;
        } else if (p[0] == '\\' && (p[1] == 'n' || p[1] == 'r' || p[1] == 't')) {
            fputc(p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' : '\t', f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
    return rc;
}
