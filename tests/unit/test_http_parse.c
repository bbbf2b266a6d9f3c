/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_http_parse.c - the HTTP response parser, URLs and request bytes,
 * without a network: bytes in, outcome out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evtls/http.h"
#include "evtls_httpparse.h"
#include "evtls_redirect.h"

/* Feeds text in pieces of the given size; returns the parser's last answer. */
static int feed_in_pieces(evtls__httpp *pp, const char *text, size_t piece, size_t *total_used)
{
    size_t len = strlen(text), off = 0, used = 0;
    int rc = EVTLS__HTTPP_MORE;
    *total_used = 0;
    while (off < len && rc == EVTLS__HTTPP_MORE) {
        size_t n = len - off < piece ? len - off : piece;
        rc = evtls__httpp_feed(pp, (const uint8_t *)text + off, n, &used);
        *total_used += used;
        off += n;
    }
    return rc;
}

static int parse(evtls__httpp *pp, const char *text, size_t piece)
{
    size_t used;
    evtls__httpp_init(pp, 0, 0, 0, NULL);
    return feed_in_pieces(pp, text, piece, &used);
}

static const char cl_response[] = "HTTP/1.1 200 OK\r\n"
                                  "Server: test\r\n"
                                  "Content-Type: text/plain  \r\n"
                                  "X-Empty:\r\n"
                                  "Content-Length: 11\r\n"
                                  "\r\n"
                                  "hello world";

static void test_content_length_any_split(void **state)
{
    (void)state;
    /* Every piece size from 1 byte to all at once gives the same result. */
    for (size_t piece = 1; piece <= sizeof cl_response; piece++) {
        evtls__httpp pp;
        assert_int_equal(parse(&pp, cl_response, piece), EVTLS__HTTPP_COMPLETE);
        const evtls_http_resp *r = &pp.r;
        assert_int_equal(evtls_http_resp_get_status(r), 200);
        assert_string_equal(evtls_http_resp_get_reason(r), "OK");
        assert_int_equal(evtls_http_resp_get_minor_version(r), 1);
        assert_int_equal(evtls_http_resp_get_header_count(r), 4);
        const char *name, *value;
        assert_int_equal(evtls_http_resp_get_header(r, 1, &name, &value), 0);
        assert_string_equal(name, "Content-Type");
        assert_string_equal(value, "text/plain");
        assert_string_equal(evtls_http_resp_get_header_value(r, "x-empty"), "");
        assert_string_equal(evtls_http_resp_get_header_value(r, "SERVER"), "test");
        assert_null(evtls_http_resp_get_header_value(r, "Missing"));
        assert_int_equal(evtls_http_resp_get_header(r, 4, &name, &value), -1);
        size_t blen;
        const uint8_t *b = evtls_http_resp_get_body(r, &blen);
        assert_int_equal(blen, 11);
        assert_memory_equal(b, "hello world", 11);
        assert_int_equal(evtls_http_resp_get_framing(r), EVTLS_HTTP_CONTENT_LENGTH);
        assert_true(evtls_http_resp_get_keep_alive(r));
        evtls__httpp_free(&pp);
    }
}

static void test_chunked_with_extensions_and_trailers(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t  \r\n"
                       "Server-Timing: db;dur=53\r\nX-Empty:\r\n\r\n";
    for (size_t piece = 1; piece <= strlen(text); piece += 3) {
        evtls__httpp pp;
        assert_int_equal(parse(&pp, text, piece), EVTLS__HTTPP_COMPLETE);
        size_t blen;
        const uint8_t *b = evtls_http_resp_get_body(&pp.r, &blen);
        assert_int_equal(blen, 11);
        assert_memory_equal(b, "hello world", 11);
        assert_int_equal(evtls_http_resp_get_framing(&pp.r), EVTLS_HTTP_CHUNKED);
        assert_true(evtls_http_resp_get_keep_alive(&pp.r));
        /* The trailers are kept apart and leave the headers intact (a
         * trailer once took over the last header's value, unterminated:
         * the fuzzer's first find). */
        assert_int_equal(evtls_http_resp_get_header_count(&pp.r), 1);
        assert_string_equal(evtls_http_resp_get_header_value(&pp.r, "Transfer-Encoding"),
                            "chunked");
        assert_null(evtls_http_resp_get_header_value(&pp.r, "X-Trailer"));
        assert_int_equal(evtls_http_resp_get_trailer_count(&pp.r), 3);
        assert_string_equal(evtls_http_resp_get_trailer_value(&pp.r, "x-trailer"), "t");
        assert_string_equal(evtls_http_resp_get_trailer_value(&pp.r, "Server-Timing"),
                            "db;dur=53");
        const char *n, *v;
        assert_int_equal(evtls_http_resp_get_trailer(&pp.r, 2, &n, &v), 0);
        assert_string_equal(n, "X-Empty");
        assert_string_equal(v, "");
        assert_int_equal(evtls_http_resp_get_trailer(&pp.r, 3, &n, &v), -1);
        assert_null(evtls_http_resp_get_trailer_value(&pp.r, "Transfer-Encoding"));
        evtls__httpp_free(&pp);
    }
    /* Trailers count toward the header limit. */
    evtls__httpp pp;
    evtls__httpp_init(&pp, 100, 0, 0, NULL);
    size_t used;
    const char *big =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        "X-T: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    assert_int_equal(feed_in_pieces(&pp, big, 7, &used), EVTLS_ERR_HTTP_HEADERS_TOO_LARGE);
    evtls__httpp_free(&pp);
    /* No trailers: none; a response without headers at all has no header
     * taken for a trailer. */
    assert_int_equal(parse(&pp, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 5),
                     EVTLS__HTTPP_COMPLETE);
    assert_int_equal(evtls_http_resp_get_trailer_count(&pp.r), 0);
    evtls__httpp_free(&pp);
    assert_int_equal(parse(&pp, "HTTP/1.1 204 No Content\r\n\r\n", 5), EVTLS__HTTPP_COMPLETE);
    assert_int_equal(evtls_http_resp_get_header_count(&pp.r), 0);
    assert_int_equal(evtls_http_resp_get_trailer_count(&pp.r), 0);
    evtls__httpp_free(&pp);
}

static void test_close_delimited_needs_close_notify(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ";
    evtls__httpp pp;
    assert_int_equal(parse(&pp, text, 7), EVTLS__HTTPP_MORE);
    size_t used;
    assert_int_equal(evtls__httpp_feed(&pp, (const uint8_t *)"part two", 8, &used),
                     EVTLS__HTTPP_MORE);
    assert_int_equal(evtls_http_resp_get_framing(&pp.r), EVTLS_HTTP_CLOSE_DELIMITED);
    assert_int_equal(evtls__httpp_eof(&pp, 1), EVTLS__HTTPP_COMPLETE);
    assert_int_equal(evtls_http_resp_get_body_bytes(&pp.r), 18);
    assert_false(evtls_http_resp_get_keep_alive(&pp.r));
    evtls__httpp_free(&pp);

    /* The same bytes ended by a bare TCP close: possibly truncated. */
    assert_int_equal(parse(&pp, text, 100), EVTLS__HTTPP_MORE);
    assert_int_equal(evtls__httpp_eof(&pp, 0), EVTLS_ERR_HTTP_TRUNCATED);
    assert_non_null(strstr(pp.detail, "close_notify"));
    evtls__httpp_free(&pp);
}

static void test_keep_alive_rules(void **state)
{
    (void)state;
    evtls__httpp pp;
    assert_int_equal(parse(&pp, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 100),
                     EVTLS__HTTPP_COMPLETE);
    assert_false(evtls_http_resp_get_keep_alive(&pp.r));
    assert_int_equal(evtls_http_resp_get_minor_version(&pp.r), 0);
    evtls__httpp_free(&pp);
    assert_int_equal(
        parse(&pp, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 100),
        EVTLS__HTTPP_COMPLETE);
    assert_true(evtls_http_resp_get_keep_alive(&pp.r));
    evtls__httpp_free(&pp);
    assert_int_equal(
        parse(&pp, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 100),
        EVTLS__HTTPP_COMPLETE);
    assert_false(evtls_http_resp_get_keep_alive(&pp.r));
    evtls__httpp_free(&pp);
    /* Bytes after the response: not ours, the connection is not reusable. */
    size_t used;
    evtls__httpp_init(&pp, 0, 0, 0, NULL);
    const char *two = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
    assert_int_equal(evtls__httpp_feed(&pp, (const uint8_t *)two, strlen(two), &used),
                     EVTLS__HTTPP_COMPLETE);
    assert_int_equal(used, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
    assert_false(evtls_http_resp_get_keep_alive(&pp.r));
    assert_int_equal(evtls_http_resp_get_framing(&pp.r), EVTLS_HTTP_NO_BODY);
    evtls__httpp_free(&pp);
}

static void test_headers_too_large(void **state)
{
    (void)state;
    char *big = malloc(1100000);
    strcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ");
    size_t n = strlen(big);
    memset(big + n, 'a', 1048576);
    strcpy(big + n + 1048576, "\r\nContent-Length: 0\r\n\r\n");
    evtls__httpp pp;
    size_t used;
    /* Our limit (default 64 KiB) stops it, however the bytes arrive. */
    evtls__httpp_init(&pp, 0, 0, 0, NULL);
    assert_int_equal(feed_in_pieces(&pp, big, 16384, &used), EVTLS_ERR_HTTP_HEADERS_TOO_LARGE);
    assert_true(used < 100000); /* stopped long before the 1 MiB */
    evtls__httpp_free(&pp);
    /* A small limit, many small headers. */
    char many[4096] = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 100; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "X-%d: v\r\n", i);
    strcat(many, "\r\n");
    evtls__httpp_init(&pp, 512, 0, 0, NULL);
    assert_int_equal(feed_in_pieces(&pp, many, 4096, &used), EVTLS_ERR_HTTP_HEADERS_TOO_LARGE);
    evtls__httpp_free(&pp);
    free(big);
}

static void test_body_too_large(void **state)
{
    (void)state;
    evtls__httpp pp;
    size_t used;
    evtls__httpp_init(&pp, 0, 10, 0, NULL);
    assert_int_equal(
        feed_in_pieces(&pp, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 100, &used),
        EVTLS_ERR_HTTP_BODY_TOO_LARGE);
    evtls__httpp_free(&pp);
    evtls__httpp_init(&pp, 0, 10, 0, NULL);
    assert_int_equal(feed_in_pieces(&pp,
                                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
                                    100, &used),
                     EVTLS_ERR_HTTP_BODY_TOO_LARGE);
    evtls__httpp_free(&pp);
}

static void test_truncated(void **state)
{
    (void)state;
    evtls__httpp pp;
    assert_int_equal(parse(&pp, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", 100),
                     EVTLS__HTTPP_MORE);
    assert_int_equal(evtls__httpp_eof(&pp, 1), EVTLS_ERR_HTTP_TRUNCATED);
    assert_string_equal(pp.detail, "the connection ended inside the body");
    evtls__httpp_free(&pp);
    assert_int_equal(parse(&pp, "HTTP/1.1 200 OK\r\nContent-Le", 100), EVTLS__HTTPP_MORE);
    assert_int_equal(evtls__httpp_eof(&pp, 1), EVTLS_ERR_HTTP_TRUNCATED);
    assert_string_equal(pp.detail, "the connection ended inside the headers");
    evtls__httpp_free(&pp);
    evtls__httpp_init(&pp, 0, 0, 0, NULL);
    assert_int_equal(evtls__httpp_eof(&pp, 0), EVTLS_ERR_HTTP_TRUNCATED);
    assert_string_equal(pp.detail, "the connection ended before any response byte");
    evtls__httpp_free(&pp);
    /* A chunked body cut between chunks. */
    assert_int_equal(
        parse(&pp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 100),
        EVTLS__HTTPP_MORE);
    assert_int_equal(evtls__httpp_eof(&pp, 1), EVTLS_ERR_HTTP_TRUNCATED);
    evtls__httpp_free(&pp);
}

static void test_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x16\x03\x01\x02\x00garbage",
        "SSH-2.0-OpenSSH_9.2\r\n",
        "HTTP/1.1 2OO OK\r\n\r\n",
        "HTTP/1.1 2\r\nContent-Length: 0\r\n\r\n", /* libhttp-parser takes it; we do not */
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "<html>hello</html>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        evtls__httpp pp;
        int rc = parse(&pp, bad[i], 4);
        assert_int_equal(rc, EVTLS_ERR_HTTP_MALFORMED);
        assert_non_null(pp.detail);
        /* Once failed, it stays failed. */
        size_t used;
        assert_int_equal(evtls__httpp_feed(&pp, (const uint8_t *)"x", 1, &used), rc);
        evtls__httpp_free(&pp);
    }
}

static void test_bodiless_responses(void **state)
{
    (void)state;
    evtls__httpp pp;
    size_t used;
    /* HEAD: Content-Length describes the GET's body, none follows. */
    evtls__httpp_init(&pp, 0, 0, 1, NULL);
    assert_int_equal(
        feed_in_pieces(&pp, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 100, &used),
        EVTLS__HTTPP_COMPLETE);
    assert_int_equal(evtls_http_resp_get_framing(&pp.r), EVTLS_HTTP_NO_BODY);
    assert_true(evtls_http_resp_get_keep_alive(&pp.r));
    evtls__httpp_free(&pp);
    assert_int_equal(parse(&pp, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 100),
                     EVTLS__HTTPP_COMPLETE);
    assert_int_equal(evtls_http_resp_get_status(&pp.r), 304);
    evtls__httpp_free(&pp);
    /* 204 and 304 with a Content-Length (a 304 may carry the length of the
     * 200 it stands for): complete at the blank line, kept alive, and the
     * next response's bytes are left for it, not eaten as a body. */
    const char *with_len[] = {
        "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 10\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"};
    for (size_t i = 0; i < 2; i++) {
        char both[256];
        snprintf(both, sizeof both, "%sHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                 with_len[i]);
        evtls__httpp_init(&pp, 0, 0, 0, NULL);
        assert_int_equal(feed_in_pieces(&pp, with_len[i], 100, &used), EVTLS__HTTPP_COMPLETE);
        assert_int_equal(evtls_http_resp_get_framing(&pp.r), EVTLS_HTTP_NO_BODY);
        assert_true(evtls_http_resp_get_keep_alive(&pp.r));
        evtls__httpp_free(&pp);
        evtls__httpp_init(&pp, 0, 0, 0, NULL);
        assert_int_equal(evtls__httpp_feed(&pp, (const uint8_t *)both, strlen(both), &used),
                         EVTLS__HTTPP_COMPLETE);
        assert_int_equal(used, strlen(with_len[i]));
        evtls__httpp_free(&pp);
    }
    /* An interim 100 Continue is skipped. */
    assert_int_equal(parse(&pp,
                           "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                           "Content-Length: 2\r\n\r\nok",
                           5),
                     EVTLS__HTTPP_COMPLETE);
    assert_int_equal(evtls_http_resp_get_status(&pp.r), 201);
    assert_string_equal(evtls_http_resp_get_reason(&pp.r), "Created");
    assert_int_equal(evtls_http_resp_get_header_count(&pp.r), 1);
    evtls__httpp_free(&pp);
}

struct sink {
    char buf[64];
    size_t len;
    int heads;
    int stop_after;
};

static int sink_head(void *ctx)
{
    struct sink *s = ctx;
    s->heads++;
    return 0;
}

static int sink_body(void *ctx, const uint8_t *d, size_t n)
{
    struct sink *s = ctx;
    memcpy(s->buf + s->len, d, n);
    s->len += n;
    return s->stop_after && s->len >= (size_t)s->stop_after;
}

static void test_streamed_body_and_stop(void **state)
{
    (void)state;
    struct sink s = {0};
    evtls__httpp_hooks hooks = {sink_head, sink_body, &s};
    evtls__httpp pp;
    size_t used;
    evtls__httpp_init(&pp, 0, 0, 0, &hooks);
    assert_int_equal(feed_in_pieces(&pp, cl_response, 3, &used), EVTLS__HTTPP_COMPLETE);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.len, 11);
    assert_memory_equal(s.buf, "hello world", 11);
    size_t blen;
    assert_null(evtls_http_resp_get_body(&pp.r, &blen)); /* streamed, not buffered */
    assert_int_equal(blen, 0);
    assert_int_equal(evtls_http_resp_get_body_bytes(&pp.r), 11);
    evtls__httpp_free(&pp);

    struct sink s2 = {.stop_after = 4};
    hooks.ctx = &s2;
    evtls__httpp_init(&pp, 0, 0, 0, &hooks);
    assert_int_equal(feed_in_pieces(&pp, cl_response, 2, &used), EVTLS_ERR_CANCELLED);
    assert_true(s2.len >= 4 && s2.len < 11);
    evtls__httpp_free(&pp);
}

/* RFC 3986 section 5.4's examples (the http scheme for its "http:"),
 * the method after each status, and what counts as another origin. */
static void test_redirects(void **state)
{
    (void)state;
    evtls_url base, other;
    assert_int_equal(evtls_url_parse("http://a/b/c/d;p?q", 0, &base), 0);
    static const char *const cases[][2] = {
        {"g", "http://a/b/c/g"},          {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},        {"/g", "http://a/g"},
        {"//g", "http://g"},              {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},      {"#s", "http://a/b/c/d;p?q"},
        {"g#s", "http://a/b/c/g"},        {"g?y#s", "http://a/b/c/g?y"},
        {";x", "http://a/b/c/;x"},        {"g;x?y#s", "http://a/b/c/g;x?y"},
        {"", "http://a/b/c/d;p?q"},       {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},          {"..", "http://a/b/"},
        {"../", "http://a/b/"},           {"../g", "http://a/b/g"},
        {"../..", "http://a/"},           {"../../", "http://a/"},
        {"../../g", "http://a/g"},        {"../../../g", "http://a/g"},
        {"/./g", "http://a/g"},           {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},       {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},    {"g/../h", "http://a/b/c/h"},
        {"https://x.test:8443/y", "https://x.test:8443/y"},
    };
    char out[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(evtls__redirect_resolve(&base, cases[i][0], out, sizeof out), 0);
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("'%s' resolved to '%s', not '%s'", cases[i][0], out, cases[i][1]);
    }
    assert_int_equal(evtls__redirect_resolve(&base, "/a-long-path", out, 10), -1);
    assert_string_equal(evtls__redirect_method(303, "POST"), "GET");
    assert_string_equal(evtls__redirect_method(303, "PUT"), "GET");
    assert_string_equal(evtls__redirect_method(303, "HEAD"), "HEAD");
    assert_string_equal(evtls__redirect_method(302, "POST"), "GET");
    assert_string_equal(evtls__redirect_method(301, "PUT"), "PUT");
    assert_string_equal(evtls__redirect_method(307, "POST"), "POST");
    assert_string_equal(evtls__redirect_method(308, "DELETE"), "DELETE");
    assert_true(evtls__redirect_status(308) && !evtls__redirect_status(304));
    assert_int_equal(evtls_url_parse("http://A:80/x", 0, &other), 0);
    assert_int_equal(evtls__redirect_cross_origin(&base, &other), 0);
    assert_int_equal(evtls_url_parse("https://a/x", 0, &other), 0);
    assert_int_equal(evtls__redirect_cross_origin(&base, &other), 1);
    assert_int_equal(evtls_url_parse("http://a:8080/x", 0, &other), 0);
    assert_int_equal(evtls__redirect_cross_origin(&base, &other), 1);
}

static void test_url_parse(void **state)
{
    (void)state;
    evtls_url u;
    assert_int_equal(evtls_url_parse("https://example.test/a/b?x=1#frag", 0, &u), 0);
    assert_string_equal(u.host, "example.test");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.authority, "example.test");
    assert_string_equal(u.target, "/a/b?x=1");
    assert_int_equal(u.host_is_ip, 0);
    assert_int_equal(evtls_url_parse("HTTPS://127.0.0.1:8443", 0, &u), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.target, "/");
    assert_string_equal(u.authority, "127.0.0.1:8443");
    assert_int_equal(u.host_is_ip, 4);
    assert_int_equal(evtls_url_parse("https://[::1]:9/?q", 0, &u), 0);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.authority, "[::1]:9");
    assert_string_equal(u.target, "/?q");
    assert_int_equal(u.host_is_ip, 6);
    /* International names: A-labels (IDNA 2008, UTS #46 mapping: case and
     * width folded), in host and authority; a bad label is named. */
    assert_int_equal(evtls_url_parse("https://b\xc3\xbc"
                                     "cher.example.test:8443/p",
                                     0, &u),
                     0);
    assert_string_equal(u.host, "xn--bcher-kva.example.test");
    assert_string_equal(u.authority, "xn--bcher-kva.example.test:8443");
    assert_string_equal(u.target, "/p");
    assert_int_equal(evtls_url_parse("https://B\xc3\x9c"
                                     "CHER.example.test/",
                                     0, &u),
                     0);
    assert_string_equal(u.host, "xn--bcher-kva.example.test");
    assert_int_equal(evtls_url_parse("b\xc3\xbc"
                                     "cher.test:4433",
                                     1, &u),
                     0);
    assert_string_equal(u.host, "xn--bcher-kva.test");
    assert_int_equal(evtls_url_parse("https://a\xe2\x82\xac\xc3\xbc--.test/", 0, &u),
                     EVTLS_ERR_BAD_URL);
    assert_non_null(strstr(u.error, "is not a valid international host name"));
    assert_int_equal(evtls_url_parse("https://\xff\xfe.test/", 0, &u), EVTLS_ERR_BAD_URL);
    /* Outside the host, non-ASCII is no name to convert (fuzz_url_opts
     * found this recursing for ever). */
    assert_int_equal(evtls_url_parse("https://a.test:\xb1/", 0, &u), EVTLS_ERR_BAD_URL);
    assert_int_equal(evtls_url_parse("::\xb1", 1, &u), EVTLS_ERR_BAD_URL);
    assert_int_equal(evtls_url_parse("localhost:4433", 1, &u), 0);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 4433);
    assert_int_equal(evtls_url_parse("[::1]:4433", 1, &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.plain, 0);
    /* http://: plain TCP, port 80 unless named. */
    assert_int_equal(evtls_url_parse("http://example.test/x", 0, &u), 0);
    assert_int_equal(u.plain, 1);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.target, "/x");
    assert_int_equal(evtls_url_parse("HTTP://example.test:8080", 0, &u), 0);
    assert_int_equal(u.port, 8080);
    assert_int_equal(u.plain, 1);

    static const struct {
        const char *url;
        int bare;
        const char *why;
    } bad[] = {
        {"", 0, "empty"},
        {"ftp://example.test/", 0, "unsupported scheme"},
        {"example.test", 0, "no scheme"},
        {"https://user:pw@example.test/", 0, "user info"},
        {"https://example.test:0/", 0, "out of range"},
        {"https://example.test:65536/", 0, "malformed"},
        {"https://example.test:/", 0, "port is empty"},
        {"https:///path", 0, "malformed"},
        {"https://exa mple.test/", 0, "space"},
        {"https://example.test/\r\nX: y", 0, "control"},
        {"example.test:443/path", 1, "HOST:PORT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(evtls_url_parse(bad[i].url, bad[i].bare, &u), EVTLS_ERR_BAD_URL);
        if (strstr(u.error, bad[i].why) == NULL)
            fail_msg("%s: '%s' does not say '%s'", bad[i].url, u.error, bad[i].why);
    }
    char longhost[400] = "https://";
    memset(longhost + 8, 'a', 300);
    assert_int_equal(evtls_url_parse(longhost, 0, &u), EVTLS_ERR_BAD_URL);
    assert_non_null(strstr(u.error, "255"));
}

static void test_request_bytes(void **state)
{
    (void)state;
    evtls_http_req *r = evtls_http_req_new("POST", "example.test:8443", "/submit?a=1");
    assert_non_null(r);
    assert_int_equal(evtls_http_req_add_header(r, "X-Trace", "abc"), 0);
    assert_int_equal(evtls_http_req_add_header(r, "User-Agent", "poll/1"), 0);
    assert_int_equal(evtls_http_req_set_body(r, "k=v", 3), 0);
    /* Header injection and framing headers are refused. */
    assert_int_equal(evtls_http_req_add_header(r, "X-Bad", "a\r\nInjected: 1"),
                     EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_http_req_add_header(r, "Bad Name", "v"), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_http_req_add_header(r, "Content-Length", "5"), EVTLS_ERR_INVALID_ARG);
    size_t len;
    const uint8_t *b = evtls_http_req_get_bytes(r, &len);
    const char *want = "POST /submit?a=1 HTTP/1.1\r\nHost: example.test:8443\r\n"
                       "X-Trace: abc\r\nUser-Agent: poll/1\r\nAccept: */*\r\n"
                       "Content-Length: 3\r\n\r\nk=v";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(b, want, len);
    evtls_http_req_free(r);

    r = evtls_http_req_new("GET", "h", "/");
    b = evtls_http_req_get_bytes(r, &len);
    want = "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: evtls/0.1\r\nAccept: */*\r\n\r\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(b, want, len);
    evtls_http_req_free(r);

    assert_null(evtls_http_req_new("BREW", "h", "/"));
    assert_null(evtls_http_req_new("GET", "h", "/a b"));
    assert_null(evtls_http_req_new("GET", "h\r\n", "/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length_any_split),
        cmocka_unit_test(test_chunked_with_extensions_and_trailers),
        cmocka_unit_test(test_close_delimited_needs_close_notify),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_headers_too_large),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_bodiless_responses),
        cmocka_unit_test(test_streamed_body_and_stop),
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_request_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
