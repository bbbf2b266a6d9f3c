/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_targets.c - the targets file and the weighted draw (pure). */
#include "lt_targets.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lt_json.h"

static int fail(char *err, size_t errlen, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, unsigned line, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "line %u: ", line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int lt_parse_status_list(const char *s, uint8_t ok[600])
{
    memset(ok, 0, 600);
    if (*s == '\0')
        return -1;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char tok[16];
        if (n == 0 || n >= sizeof tok)
            return -1;
        memcpy(tok, s, n);
        tok[n] = '\0';
        unsigned lo, hi;
        char x1, x2, extra;
        if (sscanf(tok, "%1u%c%c%c", &lo, &x1, &x2, &extra) == 3 && (x1 == 'x' || x1 == 'X') &&
            (x2 == 'x' || x2 == 'X') && lo >= 1 && lo <= 5) {
            hi = lo * 100 + 99;
            lo *= 100;
        } else if (sscanf(tok, "%u-%u%c", &lo, &hi, &extra) == 2) {
        } else if (sscanf(tok, "%u%c", &lo, &extra) == 1) {
            hi = lo;
        } else {
            return -1;
        }
        if (lo < 100 || hi > 599 || lo > hi)
            return -1;
        for (unsigned c = lo; c <= hi; c++)
            ok[c] = 1;
        s += n + (comma != NULL);
        if (comma && *s == '\0')
            return -1;
    }
    return 0;
}

void lt_targets_free(lt_targets *ts)
{
    for (unsigned i = 0; i < ts->n; i++) {
        lt_target *t = &ts->t[i];
        free(t->name);
        free(t->method);
        free(t->url);
        for (unsigned h = 0; h < t->n_headers; h++)
            free(t->headers[h]);
        free(t->body);
        free(t->body_file);
    }
    memset(ts, 0, sizeof *ts);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* A method token (RFC 9110: tchar, here letters, digits and '-'). */
static int is_method(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

/* A header line "Name: value": a token, a colon, a value without control
 * characters. */
static int check_header(const char *h, unsigned line, char *err, size_t errlen)
{
    const char *colon = strchr(h, ':');
    if (colon == NULL || colon == h)
        return fail(err, errlen, line, "header '%s' is not 'Name: value'", h);
    for (const char *p = h; p < colon; p++)
        if (!isgraph((unsigned char)*p))
            return fail(err, errlen, line, "header name in '%s' has a space or control character",
                        h);
    for (const char *p = colon + 1; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return fail(err, errlen, line, "header '%.40s' has a control character", h);
    return 0;
}

static int add_header(lt_target *t, const char *name, size_t nl, const char *value, unsigned line,
                      char *err, size_t errlen)
{
    if (t->n_headers == LT_TARGET_HEADERS)
        return fail(err, errlen, line, "more than %d headers", LT_TARGET_HEADERS);
    size_t vl = strlen(value);
    char *h = malloc(nl + 2 + vl + 1);
    if (h == NULL)
        return fail(err, errlen, line, "out of memory");
    snprintf(h, nl + 2 + vl + 1, "%.*s: %s", (int)nl, name, value);
    t->headers[t->n_headers++] = h;
    return check_header(h, line, err, errlen);
}

/* ---- JSON Lines */

static int json_headers(lt_target *t, const lt_json *h, unsigned line, char *err, size_t errlen)
{
    if (h->type == LT_JOBJ) { /* {"Name": "value"} or {"Name": ["v1", "v2"]} (vegeta's) */
        for (const lt_json *m = h->child; m; m = m->next) {
            if (m->type == LT_JSTR) {
                if (add_header(t, m->key, strlen(m->key), m->text, line, err, errlen) != 0)
                    return -1;
                continue;
            }
            if (m->type != LT_JARR)
                return fail(err, errlen, line, "headers: \"%s\" is not a string or a list", m->key);
            for (const lt_json *v = m->child; v; v = v->next)
                if (v->type != LT_JSTR ||
                    add_header(t, m->key, strlen(m->key), v->text, line, err, errlen) != 0)
                    return v->type != LT_JSTR
                               ? fail(err, errlen, line, "headers: \"%s\" has a non-string", m->key)
                               : -1;
        }
        return 0;
    }
    if (h->type == LT_JARR) { /* ["Name: value", ...] */
        for (const lt_json *v = h->child; v; v = v->next) {
            const char *colon = v->type == LT_JSTR ? strchr(v->text, ':') : NULL;
            if (colon == NULL)
                return fail(err, errlen, line, "headers: each entry is \"Name: value\"");
            const char *val = colon + 1;
            while (*val == ' ' || *val == '\t')
                val++;
            if (add_header(t, v->text, (size_t)(colon - v->text), val, line, err, errlen) != 0)
                return -1;
        }
        return 0;
    }
    return fail(err, errlen, line, "headers: an object or a list");
}

static int json_uint(const lt_json *v, const char *key, unsigned lo, unsigned hi, unsigned *out,
                     unsigned line, char *err, size_t errlen)
{
    uint64_t x;
    if (lt_json_u64(v, &x) != 0 || x < lo || x > hi)
        return fail(err, errlen, line, "\"%s\": an integer from %u to %u", key, lo, hi);
    *out = (unsigned)x;
    return 0;
}

static int json_status(lt_target *t, const lt_json *v, unsigned line, char *err, size_t errlen)
{
    char list[512];
    size_t n = 0;
    if (v->type == LT_JSTR) {
        n = (size_t)snprintf(list, sizeof list, "%s", v->text);
    } else if (v->type == LT_JNUM) {
        n = (size_t)snprintf(list, sizeof list, "%s", v->text);
    } else if (v->type == LT_JARR) {
        for (const lt_json *e = v->child; e && n < sizeof list; e = e->next) {
            if (e->type != LT_JNUM && e->type != LT_JSTR)
                return fail(err, errlen, line, "\"expect_status\": codes or classes");
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? "," : "", e->text);
        }
    }
    if (n == 0 || n >= sizeof list || lt_parse_status_list(list, t->expect_status) != 0)
        return fail(err, errlen, line,
                    "\"expect_status\": a list of codes, classes (2xx) or ranges (200-299)");
    t->expect_status_given = 1;
    return 0;
}

static int json_member(lt_target *t, const lt_json *m, unsigned line, char *err, size_t errlen)
{
    const char *k = m->key;
    int str = m->type == LT_JSTR;
    if (strcmp(k, "name") == 0 || strcmp(k, "method") == 0 || strcmp(k, "url") == 0 ||
        strcmp(k, "body") == 0 || strcmp(k, "body_file") == 0) {
        if (!str)
            return fail(err, errlen, line, "\"%s\": a string", k);
        char **dst = k[0] == 'n'   ? &t->name
                     : k[0] == 'm' ? &t->method
                     : k[0] == 'u' ? &t->url
                     : k[4] == '_' ? &t->body_file
                                   : &t->body;
        if (*dst)
            return fail(err, errlen, line, "\"%s\" given twice", k);
        if ((*dst = strdup(m->text)) == NULL)
            return fail(err, errlen, line, "out of memory");
        if (dst == &t->body)
            t->body_len = strlen(m->text);
        return 0;
    }
    if (strcmp(k, "headers") == 0 || strcmp(k, "header") == 0)
        return json_headers(t, m, line, err, errlen);
    if (strcmp(k, "weight") == 0)
        return json_uint(m, k, 1, LT_TARGETS_MAX_WEIGHT, &t->weight, line, err, errlen);
    if (strcmp(k, "connections") == 0)
        return json_uint(m, k, 1, 1000000, &t->conns, line, err, errlen);
    if (strcmp(k, "expect_status") == 0)
        return json_status(t, m, line, err, errlen);
    return fail(err, errlen, line,
                "unknown key \"%s\" (a target has name, method, url, headers, body, body_file, "
                "weight, expect_status, connections)",
                k);
}

static int json_line(lt_target *t, const char *s, size_t n, unsigned line, char *err, size_t errlen)
{
    char jerr[160];
    lt_json *j = lt_json_parse(s, n, jerr, sizeof jerr);
    if (j == NULL)
        return fail(err, errlen, line, "not JSON: %s", jerr);
    int rc = 0;
    if (j->type != LT_JOBJ)
        rc = fail(err, errlen, line, "a target is a JSON object");
    for (const lt_json *m = j->type == LT_JOBJ ? j->child : NULL; m && rc == 0; m = m->next)
        rc = json_member(t, m, line, err, errlen);
    lt_json_free(j);
    if (rc == 0 && t->url == NULL)
        rc = fail(err, errlen, line, "a target needs \"url\"");
    if (rc == 0 && t->body && t->body_file)
        rc = fail(err, errlen, line, "\"body\" and \"body_file\": give one");
    return rc;
}

/* ---- vegeta's plain format */

static int vegeta_line(lt_targets *ts, lt_target **cur, const char *s, size_t n, unsigned line,
                       char *err, size_t errlen)
{
    const char *sp = memchr(s, ' ', n), *u = sp;
    while (u && u < s + n && *u == ' ')
        u++;
    size_t ul = u ? n - (size_t)(u - s) : 0;
    if (sp && is_method(s, (size_t)(sp - s)) &&
        ((ul > 7 && strncasecmp(u, "http://", 7) == 0) ||
         (ul > 8 && strncasecmp(u, "https://", 8) == 0))) { /* METHOD URL: a new target */
        if (ts->n == LT_MAX_TARGETS)
            return fail(err, errlen, line, "more than %d targets", LT_MAX_TARGETS);
        lt_target *t = *cur = &ts->t[ts->n++];
        t->line = line;
        t->method = dup_n(s, (size_t)(sp - s));
        t->url = dup_n(u, n - (size_t)(u - s));
        if (t->method == NULL || t->url == NULL)
            return fail(err, errlen, line, "out of memory");
        if (strchr(t->url, ' '))
            return fail(err, errlen, line, "'%s': one METHOD and one URL", t->url);
        return 0;
    }
    if (*cur == NULL)
        return fail(err, errlen, line, "a target starts with 'METHOD URL'");
    if (s[0] == '@') { /* the body's file */
        if ((*cur)->body_file)
            return fail(err, errlen, line, "a second body line");
        if (n < 2 || ((*cur)->body_file = dup_n(s + 1, n - 1)) == NULL)
            return fail(err, errlen, line, n < 2 ? "'@' without a file" : "out of memory");
        return 0;
    }
    const char *colon = memchr(s, ':', n);
    if (colon == NULL || (*cur)->body_file)
        return fail(err, errlen, line, "'%.*s' is neither 'METHOD URL', a header nor '@FILE'",
                    (int)(n > 60 ? 60 : n), s);
    char *val = dup_n(colon + 1, n - (size_t)(colon + 1 - s));
    if (val == NULL)
        return fail(err, errlen, line, "out of memory");
    char *v = val;
    while (*v == ' ' || *v == '\t')
        v++;
    int rc = add_header(*cur, s, (size_t)(colon - s), v, line, err, errlen);
    free(val);
    return rc;
}

/* ---- the file */

/* After parsing: defaults, names, uniqueness, the weights' sum. */
static int finish(lt_targets *ts, char *err, size_t errlen)
{
    if (ts->n == 0)
        return fail(err, errlen, 1, "no target in the file");
    uint64_t sum = 0;
    for (unsigned i = 0; i < ts->n; i++) {
        lt_target *t = &ts->t[i];
        if (t->weight == 0)
            t->weight = 1;
        sum += t->weight;
        if (t->method && !is_method(t->method, strlen(t->method)))
            return fail(err, errlen, t->line, "'%s' is not a method", t->method);
        if (t->name == NULL) {
            const char *m = t->method ? t->method : t->body || t->body_file ? "POST" : "GET";
            size_t n = strlen(m) + 1 + strlen(t->url) + 1;
            if ((t->name = malloc(n)) == NULL)
                return fail(err, errlen, t->line, "out of memory");
            snprintf(t->name, n, "%s %s", m, t->url);
        }
        if (t->name[0] == '\0')
            return fail(err, errlen, t->line, "an empty name");
        for (unsigned j = 0; j < i; j++)
            if (strcmp(ts->t[j].name, t->name) == 0)
                return fail(err, errlen, t->line,
                            "the name '%s' is line %u's too (give each target its own \"name\")",
                            t->name, ts->t[j].line);
    }
    if (sum > LT_TARGETS_MAX_WEIGHT)
        return fail(err, errlen, ts->t[0].line, "the weights add up to more than %u",
                    LT_TARGETS_MAX_WEIGHT);
    return 0;
}

int lt_targets_parse(const char *text, size_t len, lt_targets *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int format = 0; /* 1 JSON Lines, 2 vegeta's */
    lt_target *cur = NULL;
    unsigned line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        line++;
        if (memchr(s, '\0', n))
            return fail(err, errlen, line, "a NUL byte");
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        while (n > 0 && (*s == ' ' || *s == '\t'))
            s++, n--;
        if (n == 0) { /* a blank line ends a vegeta target */
            cur = NULL;
            continue;
        }
        if (s[0] == '#' || (n >= 2 && s[0] == '/' && s[1] == '/'))
            continue;
        if (format == 0)
            format = s[0] == '{' ? 1 : 2;
        if (format == 1) {
            if (out->n == LT_MAX_TARGETS)
                return fail(err, errlen, line, "more than %d targets", LT_MAX_TARGETS);
            lt_target *t = &out->t[out->n++];
            t->line = line;
            if (json_line(t, s, n, line, err, errlen) != 0)
                return -1;
        } else if (vegeta_line(out, &cur, s, n, line, err, errlen) != 0) {
            return -1;
        }
    }
    out->vegeta = format == 2;
    return finish(out, err, errlen);
}

/* ---- the weighted draw */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int lt_draw_init(lt_draw *d, const unsigned *idx, const unsigned *weight, unsigned n, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->seed = seed;
    d->cycle = UINT64_MAX;
    for (unsigned i = 0; i < n; i++) {
        d->idx[i] = idx[i];
        d->weight[i] = weight[i];
        d->W += weight[i];
    }
    d->perm = d->W ? malloc(d->W) : NULL;
    return d->W && d->perm == NULL ? -1 : 0;
}

unsigned lt_draw_at(lt_draw *d, uint64_t g)
{
    if (d->n <= 1)
        return d->n ? d->idx[0] : 0;
    uint64_t cycle = g / d->W;
    if (cycle != d->cycle) { /* the cycle's order: each target its weight's times, shuffled */
        uint32_t k = 0;
        for (unsigned i = 0; i < d->n; i++)
            for (unsigned j = 0; j < d->weight[i]; j++)
                d->perm[k++] = (uint8_t)i;
        uint64_t x = d->seed ^ (cycle * 0xd1342543de82ef95ull);
        for (uint32_t i = d->W - 1; i > 0; i--) { /* Fisher-Yates */
            uint32_t j = (uint32_t)(splitmix64(&x) % (i + 1));
            uint8_t tmp = d->perm[i];
            d->perm[i] = d->perm[j];
            d->perm[j] = tmp;
        }
        d->cycle = cycle;
    }
    return d->idx[d->perm[g % d->W]];
}

void lt_draw_free(lt_draw *d)
{
    free(d->perm);
    d->perm = NULL;
}
