/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_json.h - a small JSON reader (RFC 8259) for evtls-load's result
 * files: the whole text into a tree, numbers kept as text so that 64-bit
 * counters read back exactly. Pure, bounded in depth, fuzzed. */
#ifndef LT_JSON_H
#define LT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum lt_jtype {
    LT_JNULL,
    LT_JFALSE,
    LT_JTRUE,
    LT_JNUM,
    LT_JSTR,
    LT_JARR,
    LT_JOBJ
} lt_jtype;

typedef struct lt_json {
    lt_jtype type;
    char *key;  /* the member's name, in an object */
    char *text; /* a string's value (unescaped, NUL-terminated) or a number's text */
    struct lt_json *child, *next;
} lt_json;

/* Parses len bytes of s (one value, surrounded by white space only).
 * Returns the tree, or NULL with the reason and its byte offset in err. */
lt_json *lt_json_parse(const char *s, size_t len, char *err, size_t errlen);

void lt_json_free(lt_json *j);

/* An object's member, NULL when j is no object or has none by that name. */
const lt_json *lt_json_get(const lt_json *j, const char *key);

/* A non-negative integer: 0 with *v set, -1 when j is not one. */
int lt_json_u64(const lt_json *j, uint64_t *v);

/* A number as a double, dflt when j is not a number. */
double lt_json_num(const lt_json *j, double dflt);

/* A string's value, NULL when j is not a string. */
const char *lt_json_str(const lt_json *j);

/* Writes j back as compact JSON (numbers as they were written). */
void lt_json_write(FILE *f, const lt_json *j);

/* The same into a malloc'd string (NULL when out of memory). */
char *lt_json_text(const lt_json *j);

/* What write prints, as a malloc'd string (NULL when out of memory). */
char *lt_print(void (*write)(FILE *f, const void *arg), const void *arg);

/* Not pure, the one piece here that is not: a whole file's bytes (stdin
 * for "-"), NUL-terminated, malloc'd, with their number in *len; NULL with
 * errno set when it cannot be read (results, targets files and bodies). */
char *lt_read_file(const char *path, size_t *len);

#endif
