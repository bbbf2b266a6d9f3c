/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_result.c - libFuzzer harness for what `evtls-load merge` reads from
 * other machines: result files (evtls-result/3), their JSON, and the
 * HdrHistogram strings inside them.
 *
 * Input: up to three NUL-separated texts. Each is parsed as JSON (a tree
 * written back must parse to the same text), decoded as an HdrHistogram
 * string in both layouts, and added to one merge. A refusal must say why;
 * a merge that accepts must give a result whose JSON merges again (a
 * merged result is a result). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "lt_hdr.h"
#include "lt_hist.h"
#include "lt_json.h"
#include "lt_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 3

static void check_json(const char *s, size_t len)
{
    char err[256] = "";
    lt_json *j = lt_json_parse(s, len, err, sizeof err);
    if (j == NULL) {
        if (err[0] == '\0')
            abort(); /* a refusal says why */
        return;
    }
    char *text = lt_json_text(j);
    lt_json *again = text ? lt_json_parse(text, strlen(text), err, sizeof err) : NULL;
    char *text2 = again ? lt_json_text(again) : NULL;
    if (text && (again == NULL || text2 == NULL || strcmp(text, text2) != 0))
        abort(); /* what the writer writes, the reader reads back the same */
    free(text);
    free(text2);
    lt_json_free(again);
    lt_json_free(j);
}

static void check_hdr(const char *s, size_t len, unsigned b)
{
    size_t n = LT_LAYOUT_SLOTS(b);
    uint64_t *counts = calloc(n, sizeof *counts);
    char err[256] = "";
    if (counts && lt_hdr_decode(s, len, b, counts, n, err, sizeof err) != 0 && err[0] == '\0')
        abort();
    free(counts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fuzz_text(data, size); /* the parsers take C strings */
    if (buf == NULL)
        return 0;
    lt_merge *m = lt_merge_new();
    int added = 0, parts = 0;
    for (size_t off = 0; off <= size && parts < MAX_PARTS; parts++) {
        const char *part = buf + off;
        size_t len = strlen(part);
        check_json(part, len);
        check_hdr(part, len, LT_HIST_SUB_BITS);
        check_hdr(part, len, 8);
        char err[512] = "";
        if (m && lt_merge_add(m, part, len, "fuzz", err, sizeof err) == 0)
            added++;
        else if (m && err[0] == '\0')
            abort(); /* a refused result is named with its reason */
        off += len + 1;
    }
    if (m && added > 0) {
        lt_opts o;
        memset(&o, 0, sizeof o);
        const lt_result *r = lt_merge_result(m, &o, "fuzz");
        char *text = r ? lt_report_json_text(r) : NULL;
        if (text) {
            lt_merge *again = lt_merge_new();
            char err[512] = "";
            if (again && lt_merge_add(again, text, strlen(text), "merged", err, sizeof err) != 0)
                abort(); /* a merged result merges again */
            lt_merge_free(again);
        }
        free(text);
    }
    lt_merge_free(m);
    free(buf);
    return 0;
}
