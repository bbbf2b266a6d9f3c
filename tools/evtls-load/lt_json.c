/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_json.c - see lt_json.h. A recursive descent over the text. */
#include "lt_json.h"

#include "evtls_cli.h" /* cli_json_string */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct parser {
    const char *s, *end, *p;
    char *err;
    size_t errlen;
    int failed;
} parser;

static lt_json *fail(parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->err, ps->errlen, "%s at byte %zu", what, (size_t)(ps->p - ps->s));
    ps->failed = 1;
    return NULL;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at ps->p (on its opening quote): its unescaped copy. */
static char *string(parser *ps)
{
    const char *q = ++ps->p;
    while (q < ps->end && *q != '"')
        q += *q == '\\' ? 2 : 1;
    if (q >= ps->end) {
        fail(ps, "unterminated string");
        return NULL;
    }
    char *out = malloc((size_t)(q - ps->p) + 1), *o = out;
    if (out == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            free(out);
            fail(ps, "control character in a string");
            return NULL;
        }
        if (c != '\\') {
            *o++ = (char)c;
            ps->p++;
            continue;
        }
        char e = ps->p[1];
        ps->p += 2;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != 0 && simple) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || q - ps->p < 4 || hex4(ps->p, &cp) != 0) {
            free(out);
            fail(ps, "bad escape in a string");
            return NULL;
        }
        ps->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' &&
            hex4(ps->p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            ps->p += 6;
        }
        o += put_utf8(o, cp);
    }
    *o = 0;
    ps->p = q + 1;
    return out;
}

static lt_json *value(parser *ps, int depth);

static lt_json *node(parser *ps, lt_jtype t)
{
    lt_json *j = calloc(1, sizeof *j);
    if (j == NULL)
        return fail(ps, "out of memory");
    j->type = t;
    return j;
}

static lt_json *number(parser *ps)
{
    const char *a = ps->p, *p = a;
    if (p < ps->end && *p == '-')
        p++;
    if (p >= ps->end || !(*p >= '0' && *p <= '9'))
        return fail(ps, "unexpected character");
    if (*p == '0')
        p++;
    else
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || !(*p >= '0' && *p <= '9'))
            return fail(ps, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || !(*p >= '0' && *p <= '9'))
            return fail(ps, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    lt_json *j = node(ps, LT_JNUM);
    if (j == NULL)
        return NULL;
    j->text = strndup(a, (size_t)(p - a));
    if (j->text == NULL) {
        free(j);
        return fail(ps, "out of memory");
    }
    ps->p = p;
    return j;
}

/* The members of an array or object, after its opening bracket. */
static lt_json *members(parser *ps, lt_jtype t, int depth)
{
    lt_json *j = node(ps, t), **tail;
    if (j == NULL)
        return NULL;
    tail = &j->child;
    char close = t == LT_JOBJ ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (t == LT_JOBJ) {
            if (ps->p >= ps->end || *ps->p != '"' || (key = string(ps)) == NULL) {
                fail(ps, "expected a member name");
                break;
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                fail(ps, "expected ':'");
                break;
            }
            ps->p++;
        }
        lt_json *v = value(ps, depth + 1);
        if (v == NULL) {
            free(key);
            break;
        }
        v->key = key;
        *tail = v;
        tail = &v->next;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return j;
        }
        fail(ps, t == LT_JOBJ ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    lt_json_free(j);
    return NULL;
}

static int word(parser *ps, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

static lt_json *value(parser *ps, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(ps, "nested too deep");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end");
    switch (*ps->p) {
    case '{': ps->p++; return members(ps, LT_JOBJ, depth);
    case '[': ps->p++; return members(ps, LT_JARR, depth);
    case '"': {
        char *s = string(ps);
        lt_json *j = s ? node(ps, LT_JSTR) : NULL;
        if (j == NULL) {
            free(s);
            return NULL;
        }
        j->text = s;
        return j;
    }
    default:
        if (word(ps, "null"))
            return node(ps, LT_JNULL);
        if (word(ps, "true"))
            return node(ps, LT_JTRUE);
        if (word(ps, "false"))
            return node(ps, LT_JFALSE);
        return number(ps);
    }
}

lt_json *lt_json_parse(const char *s, size_t len, char *err, size_t errlen)
{
    parser ps = {s, s + len, s, err, errlen, 0};
    lt_json *j = value(&ps, 0);
    if (j == NULL)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "text after the value");
        lt_json_free(j);
        return NULL;
    }
    return j;
}

void lt_json_free(lt_json *j)
{
    while (j) {
        lt_json *next = j->next;
        lt_json_free(j->child);
        free(j->key);
        free(j->text);
        free(j);
        j = next;
    }
}

const lt_json *lt_json_get(const lt_json *j, const char *key)
{
    if (j == NULL || j->type != LT_JOBJ)
        return NULL;
    for (const lt_json *m = j->child; m; m = m->next)
        if (strcmp(m->key, key) == 0)
            return m;
    return NULL;
}

int lt_json_u64(const lt_json *j, uint64_t *v)
{
    if (j == NULL || j->type != LT_JNUM || j->text[0] == '-' || strpbrk(j->text, ".eE"))
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(j->text, &end, 10);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

double lt_json_num(const lt_json *j, double dflt)
{
    return j && j->type == LT_JNUM ? strtod(j->text, NULL) : dflt;
}

const char *lt_json_str(const lt_json *j)
{
    return j && j->type == LT_JSTR ? j->text : NULL;
}

void lt_json_write(FILE *f, const lt_json *j)
{
    switch (j->type) {
    case LT_JNULL: fputs("null", f); return;
    case LT_JFALSE: fputs("false", f); return;
    case LT_JTRUE: fputs("true", f); return;
    case LT_JNUM: fputs(j->text, f); return;
    case LT_JSTR: cli_json_string(f, j->text); return;
    case LT_JARR:
    case LT_JOBJ:
        fputc(j->type == LT_JOBJ ? '{' : '[', f);
        for (const lt_json *m = j->child; m; m = m->next) {
            if (m != j->child)
                fputc(',', f);
            if (j->type == LT_JOBJ) {
                cli_json_string(f, m->key);
                fputc(':', f);
            }
            lt_json_write(f, m);
        }
        fputc(j->type == LT_JOBJ ? '}' : ']', f);
        return;
    }
}

char *lt_print(void (*write)(FILE *f, const void *arg), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    write(f, arg);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void write_json(FILE *f, const void *j)
{
    lt_json_write(f, j);
}

char *lt_json_text(const lt_json *j)
{
    return lt_print(write_json, j);
}

char *lt_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            char *b = realloc(buf, cap + 1);
            if (b == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    if (f != stdin)
        fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}
