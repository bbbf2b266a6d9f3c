/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_targets.h - evtls-load's targets file (--targets FILE) and the draw
 * that picks each operation's target by weight (pure: the text is given,
 * files named in it are read by the caller).
 *
 * Two formats, told apart by the first line that is not blank or a
 * comment:
 * - JSON Lines: one object a line, {"name", "method", "url", "headers",
 *   "body" or "body_file", "weight", "expect_status", "connections"}; only
 *   "url" is needed; an unknown key is an error (a typo is not ignored).
 * - vegeta's plain format: "METHOD URL", then "Name: value" header lines
 *   and an optional "@FILE" body line; targets apart by blank lines or by
 *   the next "METHOD URL"; lines starting with '#' are comments. */
#ifndef LT_TARGETS_H
#define LT_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#define LT_MAX_TARGETS        64
#define LT_TARGET_HEADERS     32
#define LT_TARGETS_MAX_WEIGHT 100000u /* the weights' sum */

typedef struct lt_target {
    char *name;   /* unique; "METHOD URL" when not given */
    char *method; /* NULL: GET, or POST with a body */
    char *url;
    char *headers[LT_TARGET_HEADERS]; /* "Name: value" */
    unsigned n_headers;
    char *body; /* the body's bytes ("body", or body_file's once read) */
    size_t body_len;
    char *body_file; /* to read ("body_file", vegeta's @FILE), NULL when none */
    unsigned weight; /* >= 1 (default 1) */
    unsigned conns;  /* "connections": this target's share of -c given, 0 by weight */
    uint8_t expect_status[600];
    int expect_status_given;
    unsigned line; /* where it was defined */
} lt_target;

typedef struct lt_targets {
    lt_target t[LT_MAX_TARGETS];
    unsigned n;
    int vegeta; /* the file was in vegeta's format */
} lt_targets;

/* Parses a targets file's text. Returns 0 with *out filled (free it with
 * lt_targets_free, after a failure too), or -1 with the reason (and the
 * line) in err. */
int lt_targets_parse(const char *text, size_t len, lt_targets *out, char *err, size_t errlen);

void lt_targets_free(lt_targets *ts);

/* --expect-status's list (codes, classes like 2xx, ranges like 200-299,
 * comma separated) into ok. Returns 0 or -1. */
int lt_parse_status_list(const char *s, uint8_t ok[600]);

/* The weighted draw: the operation numbered g (over every shard and
 * thread) goes to target lt_draw_at(d, g). The sequence is cut in cycles
 * of W operations (W the weights' sum); each cycle holds every target
 * exactly its weight's times, in an order shuffled by the seed and the
 * cycle's number: reproducible, exact over each whole cycle, and the same
 * sequence whatever the shards and threads (each takes its operations of
 * it). Each reader (an origin's slots look for their own operations in
 * it, each at its own place) keeps its own lt_draw. */
typedef struct lt_draw {
    unsigned n;                   /* targets drawn among */
    unsigned idx[LT_MAX_TARGETS]; /* their indices (in the targets file) */
    unsigned weight[LT_MAX_TARGETS];
    uint32_t W; /* the weights' sum */
    uint64_t seed;
    uint64_t cycle; /* the cycle perm holds, UINT64_MAX for none */
    uint8_t *perm;  /* W entries, positions into idx */
} lt_draw;

/* Sets d up over n targets with those indices and weights. Returns 0, or
 * -1 when out of memory. */
int lt_draw_init(lt_draw *d, const unsigned *idx, const unsigned *weight, unsigned n,
                 uint64_t seed);
unsigned lt_draw_at(lt_draw *d, uint64_t g);
void lt_draw_free(lt_draw *d);

#endif
