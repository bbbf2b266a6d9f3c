/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_merge.h - evtls-load results (format evtls-result/3) read back and
 * merged exactly: counters and histogram buckets summed, the per-second
 * series aligned on the wall clock, the time a union of the shards' times,
 * a table of the shards kept. Merging is associative: a merged result
 * merges again. Results of different tests (fingerprints that differ) or
 * with a shard twice are refused, naming the difference. */
#ifndef LT_MERGE_H
#define LT_MERGE_H

#include <stddef.h>

#include "lt_opts.h"
#include "lt_stats.h"

typedef struct lt_merge lt_merge;

lt_merge *lt_merge_new(void);

/* Adds one result: len bytes of text, called name in messages. Returns 0,
 * or -1 with the reason in err (not a result, a damaged one, another test,
 * a shard already merged); m is unchanged then. */
int lt_merge_add(lt_merge *m, const char *text, size_t len, const char *name, char *err,
                 size_t errlen);

/* The merged result of what was added (NULL before any, or out of
 * memory), valid until m is freed or another result is added. opts
 * carries the thresholds and error limit to apply; the returned result's
 * o is a copy of it completed from the fingerprint. */
const lt_result *lt_merge_result(lt_merge *m, const lt_opts *opts, const char *command);

/* Shards of the test that no added result holds (printed by the summary). */
size_t lt_merge_missing(const lt_merge *m, unsigned *out, size_t n);

void lt_merge_free(lt_merge *m);

/* evtls-load merge [--json OUT] [--max-errors N] [--threshold T] FILE... */
int lt_merge_main(int argc, char **argv);

#endif
