/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hdr_tool - HdrHistogram strings for the test against an independent
 * decoder (tests/tools/hdr/HdrDecode.java, run by tests/tools/shards.sh):
 *
 *   hdr_tool sample SEED N   records N long-tailed values (a fixed
 *                            generator) and prints the encoded histogram,
 *                            then "VALUE COUNT" per bucket
 *   hdr_tool decode DIGITS STRING...   decodes each string (DIGITS 3 for
 *                            the phases, 2 for the series) and prints
 *                            "total N" and "VALUE COUNT" per bucket
 *
 * VALUE is the bucket's highest equivalent value, as HdrHistogram's
 * recorded-values iteration reports it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_hdr.h"
#include "lt_hist.h"

static void buckets(unsigned b, const uint64_t *counts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (counts[i])
            printf("%llu %llu\n", (unsigned long long)lt_layout_high(b, (unsigned)i),
                   (unsigned long long)counts[i]);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "sample") == 0) {
        static lt_hist h;
        lt_hist_reset(&h);
        uint64_t x = strtoull(argv[2], NULL, 10) * 2654435761u + 1;
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            uint64_t r = x >> 33;
            /* Mostly 100 µs to 5 ms, one in fifty up to 10 s. */
            uint64_t v = 100 + r % 5000 + (i % 50 == 0 ? (r * 7919) % 10000000 : 0);
            lt_hist_record(&h, v);
        }
        char *s = lt_hdr_encode(LT_HIST_SUB_BITS, h.slot, LT_HIST_SLOTS);
        if (s == NULL)
            return 1;
        printf("%s\n", s);
        free(s);
        buckets(LT_HIST_SUB_BITS, h.slot, LT_HIST_SLOTS);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "decode") == 0) {
        unsigned b = strcmp(argv[2], "2") == 0 ? LT_SERIES_SUB_BITS : LT_HIST_SUB_BITS;
        size_t n = LT_LAYOUT_SLOTS(b);
        uint64_t *counts = malloc(n * sizeof *counts);
        if (counts == NULL)
            return 1;
        for (int i = 3; i < argc; i++) {
            char err[256];
            if (lt_hdr_decode(argv[i], strlen(argv[i]), b, counts, n, err, sizeof err) != 0) {
                fprintf(stderr, "hdr_tool: %s\n", err);
                free(counts);
                return 1;
            }
            uint64_t total = 0;
            for (size_t k = 0; k < n; k++)
                total += counts[k];
            printf("total %llu\n", (unsigned long long)total);
            buckets(b, counts, n);
        }
        free(counts);
        return 0;
    }
    fprintf(stderr, "usage: hdr_tool sample SEED N | hdr_tool decode 3|2 STRING...\n");
    return 2;
}
