/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_httpparse.c - the HTTP/1.x response parser on libhttp-parser.
 *
 * libhttp-parser does the grammar (status line, header syntax, chunked
 * coding, Content-Length, RFC 9112 section 6.3's rules for the body length).
 * This file keeps what it reports in a bounded form and decides the outcome:
 * complete, malformed, too large, truncated. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "evtls_httpparse.h"

#define DEFAULT_MAX_HEADER (64u * 1024u)
#define PARSER_MAX_HEADER  (80u * 1024u) /* libhttp-parser's compiled-in limit */

static int fail(evtls__httpp *pp, int err, const char *detail)
{
    if (pp->err == 0) {
        pp->err = err;
        pp->detail = detail;
    }
    return -1; /* stops http_parser_execute with HPE_CB_* */
}

/* Makes room for need bytes in a buffer that doubles from first; returns 0
 * or -1 when out of memory (the buffer is then unchanged). */
static int reserve(void **buf, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    void *b = realloc(*buf, c);
    if (b == NULL)
        return -1;
    *buf = b;
    *cap = c;
    return 0;
}

/* Counts n bytes of status line, headers or trailers toward the limit. */
static int count_header(evtls__httpp *pp, size_t n)
{
    pp->header_bytes += n;
    if (pp->header_bytes > pp->max_header)
        return fail(pp, EVTLS_ERR_HTTP_HEADERS_TOO_LARGE, "headers exceed the limit");
    return 0;
}

/* Appends to the header buffer, counting toward the header limit. */
static int hbuf_add(evtls__httpp *pp, const char *s, size_t n)
{
    struct evtls_http_resp *r = &pp->r;
    if (count_header(pp, n) != 0)
        return -1;
    if (reserve((void **)&r->hbuf, &r->hcap, r->hlen + n + 1, 1024) != 0)
        return fail(pp, EVTLS_ERR_NOMEM, "header buffer");
    memcpy(r->hbuf + r->hlen, s, n);
    r->hlen += n;
    return 0;
}

/* Ends the current string (reason, name or value). */
static int hbuf_end(evtls__httpp *pp)
{
    if (hbuf_add(pp, "", 0) != 0)
        return -1;
    pp->r.hbuf[pp->r.hlen++] = '\0';
    return 0;
}

static int on_message_begin(http_parser *p)
{
    evtls__httpp *pp = p->data;
    /* The reason phrase is always the first string, even if empty. */
    return hbuf_end(pp);
}

static int on_status(http_parser *p, const char *at, size_t n)
{
    evtls__httpp *pp = p->data;
    pp->r.hlen--; /* reopen the reason string */
    if (hbuf_add(pp, at, n) != 0)
        return -1;
    return hbuf_end(pp);
}

/* Ends the current value without its trailing blanks (RFC 9110 section
 * 5.5: they are not part of it; libhttp-parser drops only leading ones). */
static int end_value(evtls__httpp *pp)
{
    struct evtls_http_resp *r = &pp->r;
    size_t start = r->hoff[2 * r->nh - 1];
    while (r->hlen > start && (r->hbuf[r->hlen - 1] == ' ' || r->hbuf[r->hlen - 1] == '\t'))
        r->hlen--;
    pp->in_value = 0;
    return hbuf_end(pp);
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    evtls__httpp *pp = p->data;
    struct evtls_http_resp *r = &pp->r;
    /* Trailer fields after a chunked body (headers_done) are kept after the
     * headers, counted toward the same limit. */
    if (pp->in_value || r->nh == 0 || pp->trailer_next) {
        pp->trailer_next = 0;
        /* A new header: end the previous value, note where the name starts. */
        if (pp->in_value && end_value(pp) != 0)
            return -1;
        if (r->nh == r->hoff_cap) {
            size_t cap = r->hoff_cap ? 2 * r->hoff_cap : 16;
            size_t *o = realloc(r->hoff, 2 * cap * sizeof *o);
            if (o == NULL)
                return fail(pp, EVTLS_ERR_NOMEM, "header index");
            r->hoff = o;
            r->hoff_cap = cap;
        }
        r->hoff[2 * r->nh] = r->hlen;
        r->hoff[2 * r->nh + 1] = (size_t)-1; /* value not started */
        r->nh++;
        pp->header_bytes += 4; /* ": " and CRLF */
    }
    return hbuf_add(pp, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    evtls__httpp *pp = p->data;
    struct evtls_http_resp *r = &pp->r;
    if (!pp->in_value) {
        if (hbuf_end(pp) != 0) /* ends the name */
            return -1;
        r->hoff[2 * r->nh - 1] = r->hlen;
        pp->in_value = 1;
    }
    return hbuf_add(pp, at, n);
}

/* Ends the last field of a block (the headers, or the trailers). */
static int end_fields(evtls__httpp *pp, size_t first)
{
    struct evtls_http_resp *r = &pp->r;
    if (r->nh > first && !pp->in_value) {
        /* A name without a value: libhttp-parser reports "Name:" this way. */
        if (hbuf_end(pp) != 0)
            return -1;
        r->hoff[2 * r->nh - 1] = r->hlen;
        pp->in_value = 1;
    }
    if (pp->in_value && end_value(pp) != 0)
        return -1;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    evtls__httpp *pp = p->data;
    struct evtls_http_resp *r = &pp->r;
    if (end_fields(pp, 0) != 0)
        return -1;
    r->n_head = r->nh;
    r->head_ended = 1;
    pp->trailer_next = 1;
    r->status = p->status_code;
    r->minor = p->http_minor;
    if (p->http_major != 1)
        return fail(pp, EVTLS_ERR_HTTP_MALFORMED, "not an HTTP/1.x response");
    if (r->status < 100 || r->status > 999) /* libhttp-parser takes 1 to 3 digits */
        return fail(pp, EVTLS_ERR_HTTP_MALFORMED, "the status code is not three digits");
    /* RFC 9112 section 6.3: HEAD, 1xx, 204 and 304 have no body. */
    if (pp->head || (r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304)
        r->framing = EVTLS_HTTP_NO_BODY;
    else if (p->flags & F_CHUNKED)
        r->framing = EVTLS_HTTP_CHUNKED;
    else if (p->flags & F_CONTENTLENGTH) {
        r->framing = EVTLS_HTTP_CONTENT_LENGTH;
        if (pp->max_body && p->content_length > pp->max_body)
            return fail(pp, EVTLS_ERR_HTTP_BODY_TOO_LARGE, "Content-Length exceeds the limit");
    } else
        r->framing = EVTLS_HTTP_CLOSE_DELIMITED;
    pp->headers_done = 1;
    if (r->status >= 100 && r->status < 200 && r->status != 101)
        return 0; /* interim response: the real one follows */
    if (pp->hooks.on_head && pp->hooks.on_head(pp->hooks.ctx) != 0)
        return fail(pp, EVTLS_ERR_CANCELLED, "stopped at the headers");
    /* 1: "no body follows", whatever Content-Length says: a 304 may carry
     * the length the 200 would have (RFC 9110 section 8.6), and a 204's is
     * an error to ignore, not bytes to wait for. */
    return r->framing == EVTLS_HTTP_NO_BODY ? 1 : 0;
}

/* A piece of the body: to the hook, or into the buffer. */
static int body_piece(evtls__httpp *pp, const char *at, size_t n)
{
    struct evtls_http_resp *r = &pp->r;
    r->body_bytes += n;
    if (pp->max_body && r->body_bytes > pp->max_body)
        return fail(pp, EVTLS_ERR_HTTP_BODY_TOO_LARGE, "body exceeds the limit");
    if (pp->hooks.on_body) {
        if (pp->hooks.on_body(pp->hooks.ctx, (const uint8_t *)at, n) != 0)
            return fail(pp, EVTLS_ERR_CANCELLED, "stopped in the body");
        return 0;
    }
    if (reserve((void **)&r->body, &r->bcap, r->blen + n, 4096) != 0)
        return fail(pp, EVTLS_ERR_NOMEM, "body buffer");
    memcpy(r->body + r->blen, at, n);
    r->blen += n;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    return body_piece(p->data, at, n);
}

static void reset_message(evtls__httpp *pp)
{
    struct evtls_http_resp *r = &pp->r;
    r->hlen = 0;
    r->nh = 0;
    r->n_head = 0;
    r->head_ended = 0;
    r->status = 0;
    pp->headers_done = 0;
    pp->trailer_next = 0;
    pp->header_bytes = 0;
    pp->in_value = 0;
}

static int on_message_complete(http_parser *p)
{
    evtls__httpp *pp = p->data;
    struct evtls_http_resp *r = &pp->r;
    if (r->status >= 100 && r->status < 200 && r->status != 101) {
        reset_message(pp); /* 100 Continue and friends: keep reading */
        return 0;
    }
    if (end_fields(pp, r->n_head) != 0) /* the last trailer */
        return -1;
    pp->complete = 1;
    r->keep_alive =
        http_should_keep_alive(p) && r->framing != EVTLS_HTTP_CLOSE_DELIMITED && r->status != 101;
    http_parser_pause(p, 1); /* anything after this response is not ours */
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void evtls__httpp_init(evtls__httpp *pp, size_t max_header, uint64_t max_body, int head,
                       const evtls__httpp_hooks *hooks)
{
    memset(pp, 0, sizeof *pp);
    http_parser_init(&pp->p, HTTP_RESPONSE);
    pp->p.data = pp;
    pp->max_header = max_header ? max_header : DEFAULT_MAX_HEADER;
    pp->max_body = max_body;
    pp->head = head;
    if (hooks)
        pp->hooks = *hooks;
    pp->r.buffer_body = pp->hooks.on_body == NULL;
}

static int parser_error(evtls__httpp *pp)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&pp->p);
    if (pp->err)
        return pp->err;
    if (e == HPE_HEADER_OVERFLOW) {
        pp->detail = "headers exceed the parser's 80 KiB limit";
        return pp->err = EVTLS_ERR_HTTP_HEADERS_TOO_LARGE;
    }
    pp->detail = http_errno_description(e);
    return pp->err = EVTLS_ERR_HTTP_MALFORMED;
}

int evtls__httpp_feed(evtls__httpp *pp, const uint8_t *data, size_t n, size_t *used)
{
    *used = 0;
    if (pp->err)
        return pp->err;
    if (pp->complete)
        return EVTLS_ERR_STATE;
    if (n == 0)
        return EVTLS__HTTPP_MORE;
    pp->got_bytes = 1;
    size_t k = http_parser_execute(&pp->p, &settings, (const char *)data, n);
    *used = k;
    if (pp->complete) {
        if (k < n)
            pp->r.keep_alive = 0; /* bytes nobody asked for */
        return EVTLS__HTTPP_COMPLETE;
    }
    if (HTTP_PARSER_ERRNO(&pp->p) != HPE_OK || pp->err)
        return parser_error(pp);
    return EVTLS__HTTPP_MORE;
}

int evtls__httpp_eof(evtls__httpp *pp, int clean)
{
    if (pp->complete)
        return EVTLS__HTTPP_COMPLETE;
    if (pp->err)
        return pp->err;
    if (clean && pp->headers_done && pp->r.framing == EVTLS_HTTP_CLOSE_DELIMITED) {
        http_parser_execute(&pp->p, &settings, NULL, 0);
        if (pp->complete)
            return EVTLS__HTTPP_COMPLETE;
    }
    pp->detail = !pp->got_bytes      ? "the connection ended before any response byte"
                 : !pp->headers_done ? "the connection ended inside the headers"
                 : pp->r.framing == EVTLS_HTTP_CLOSE_DELIMITED
                     ? "the connection ended without close_notify (possible truncation)"
                     : "the connection ended inside the body";
    return pp->err = EVTLS_ERR_HTTP_TRUNCATED;
}

uint64_t evtls__httpp_body_left(const evtls__httpp *pp)
{
    if (!pp->headers_done || pp->complete || pp->r.framing != EVTLS_HTTP_CONTENT_LENGTH)
        return 0;
    return pp->p.content_length; /* http_parser counts it down as the body goes by */
}

/* ---- a response in HTTP/2's framing: the same buffers, limits and hooks */

int evtls__httpp_h2_status(evtls__httpp *pp, int status)
{
    struct evtls_http_resp *r = &pp->r;
    if (r->head_ended)
        return fail(pp, EVTLS_ERR_HTTP_MALFORMED, "a second final status"), pp->err;
    r->hlen = 0;
    r->nh = 0;
    pp->header_bytes = 0;
    r->status = status;
    r->minor = 0;
    r->h2 = 1;
    if (status < 200 || status > 999)
        return fail(pp, EVTLS_ERR_HTTP_MALFORMED, "the status code is not three digits"), pp->err;
    return hbuf_end(pp) == 0 ? 0 : pp->err; /* the reason phrase: none in HTTP/2 */
}

int evtls__httpp_h2_field(evtls__httpp *pp, int trailer, const char *name, size_t nlen,
                          const char *value, size_t vlen)
{
    struct evtls_http_resp *r = &pp->r;
    if (r->hbuf == NULL || (!trailer && r->head_ended))
        return fail(pp, EVTLS_ERR_HTTP_MALFORMED, "a field outside a header block"), pp->err;
    if (r->nh == r->hoff_cap) {
        size_t cap = r->hoff_cap ? 2 * r->hoff_cap : 16;
        size_t *o = realloc(r->hoff, 2 * cap * sizeof *o);
        if (o == NULL)
            return fail(pp, EVTLS_ERR_NOMEM, "header index"), pp->err;
        r->hoff = o;
        r->hoff_cap = cap;
    }
    pp->header_bytes += 4; /* counted as HTTP/1.1 would: ": " and CRLF */
    size_t at = r->hlen;
    if (hbuf_add(pp, name, nlen) != 0 || hbuf_end(pp) != 0)
        return pp->err;
    size_t vat = r->hlen;
    if (hbuf_add(pp, value, vlen) != 0 || hbuf_end(pp) != 0)
        return pp->err;
    r->hoff[2 * r->nh] = at;
    r->hoff[2 * r->nh + 1] = vat;
    r->nh++;
    return 0;
}

void evtls__httpp_h2_end_head(evtls__httpp *pp)
{
    struct evtls_http_resp *r = &pp->r;
    r->n_head = r->nh;
    r->head_ended = 1;
    pp->headers_done = 1;
    pp->header_bytes = 0; /* the trailers have a limit of their own */
    if (pp->head || r->status == 204 || r->status == 304)
        r->framing = EVTLS_HTTP_NO_BODY;
    else
        r->framing = EVTLS_HTTP_STREAM_END;
}

int evtls__httpp_h2_body(evtls__httpp *pp, const uint8_t *data, size_t n)
{
    return body_piece(pp, (const char *)data, n) == 0 ? 0 : pp->err;
}

void evtls__httpp_h2_complete(evtls__httpp *pp, int reusable)
{
    pp->complete = 1;
    pp->r.keep_alive = reusable;
}

void evtls__httpp_free(evtls__httpp *pp)
{
    free(pp->r.hbuf);
    free(pp->r.hoff);
    free(pp->r.body);
    memset(&pp->r, 0, sizeof pp->r);
}

/* ---- response accessors (public) */

int evtls_http_resp_get_status(const evtls_http_resp *r)
{
    return r ? r->status : 0;
}

const char *evtls_http_resp_get_reason(const evtls_http_resp *r)
{
    return r && r->hbuf ? r->hbuf : "";
}

int evtls_http_resp_get_minor_version(const evtls_http_resp *r)
{
    return r ? r->minor : 0;
}

const char *evtls_http_resp_get_protocol(const evtls_http_resp *r)
{
    if (r == NULL)
        return "";
    if (r->h2)
        return "HTTP/2";
    return r && r->minor == 0 && r->status ? "HTTP/1.0" : "HTTP/1.1";
}

uint32_t evtls_http_resp_get_h2_error(const evtls_http_resp *r)
{
    return r ? r->h2_error : 0;
}

/* Fields of [first, nh) whose value started: after a failure inside a
 * block, the last one may have none. */
static size_t fields_from(const evtls_http_resp *r, size_t first)
{
    if (r->nh <= first)
        return 0;
    return r->nh - first - (r->hoff[2 * r->nh - 1] == (size_t)-1);
}

size_t evtls_http_resp_get_header_count(const evtls_http_resp *r)
{
    if (r == NULL)
        return 0;
    return r->head_ended ? r->n_head : fields_from(r, 0);
}

size_t evtls_http_resp_get_trailer_count(const evtls_http_resp *r)
{
    return r && r->head_ended ? fields_from(r, r->n_head) : 0;
}

/* Field first + i of a block of count (the headers from 0, the trailers
 * from n_head), as get_header / get_trailer give it. */
static int field_at(const evtls_http_resp *r, size_t first, size_t count, size_t i,
                    const char **name, const char **value)
{
    if (i >= count)
        return -1;
    if (name)
        *name = r->hbuf + r->hoff[2 * (first + i)];
    if (value)
        *value = r->hbuf + r->hoff[2 * (first + i) + 1];
    return 0;
}

/* The value of the block's first field called name (any case), or NULL. */
static const char *value_in(const evtls_http_resp *r, size_t first, size_t count, const char *name)
{
    const char *n, *v;
    for (size_t i = 0; name && field_at(r, first, count, i, &n, &v) == 0; i++)
        if (strcasecmp(n, name) == 0)
            return v;
    return NULL;
}

int evtls_http_resp_get_trailer(const evtls_http_resp *r, size_t i, const char **name,
                                const char **value)
{
    return r ? field_at(r, r->n_head, evtls_http_resp_get_trailer_count(r), i, name, value) : -1;
}

const char *evtls_http_resp_get_trailer_value(const evtls_http_resp *r, const char *name)
{
    return r ? value_in(r, r->n_head, evtls_http_resp_get_trailer_count(r), name) : NULL;
}

int evtls_http_resp_get_header(const evtls_http_resp *r, size_t i, const char **name,
                               const char **value)
{
    return r ? field_at(r, 0, evtls_http_resp_get_header_count(r), i, name, value) : -1;
}

const char *evtls_http_resp_get_header_value(const evtls_http_resp *r, const char *name)
{
    return r ? value_in(r, 0, evtls_http_resp_get_header_count(r), name) : NULL;
}

evtls_http_framing evtls_http_resp_get_framing(const evtls_http_resp *r)
{
    return r ? r->framing : EVTLS_HTTP_NO_BODY;
}

const uint8_t *evtls_http_resp_get_body(const evtls_http_resp *r, size_t *len)
{
    if (len)
        *len = r && r->buffer_body ? r->blen : 0;
    return r && r->buffer_body ? r->body : NULL;
}

uint64_t evtls_http_resp_get_body_bytes(const evtls_http_resp *r)
{
    return r ? r->body_bytes : 0;
}

int evtls_http_resp_get_keep_alive(const evtls_http_resp *r)
{
    return r ? r->keep_alive : 0;
}

uint64_t evtls_http_resp_get_ttfb_us(const evtls_http_resp *r)
{
    return r ? r->ttfb_us : 0;
}

uint64_t evtls_http_resp_get_total_us(const evtls_http_resp *r)
{
    return r ? r->total_us : 0;
}
