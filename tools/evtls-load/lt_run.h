/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_run.h - one evtls-load run in this process (its share when sharded),
 * and what follows a run: the summary, the result file, the thresholds and
 * the exit status. evtls-load and evtls-load-mpi share both. */
#ifndef LT_RUN_H
#define LT_RUN_H

#include <stdint.h>

#include "lt_opts.h"
#include "lt_script.h"
#include "lt_stats.h"

typedef struct lt_run_out {
    lt_result res;     /* res.st is total */
    lt_stats *total;   /* every thread's counters, merged */
    char host[64];     /* this machine's name */
    char *fingerprint; /* lt_fingerprint(o) */
    lt_stats *targets; /* --targets: each target's, merged (n_targets) */
    lt_target_info *target_info;
    unsigned n_targets;
    lt_script *script; /* --script: the main state, for done() (lt_script_done) */
    int script_failed; /* a script error ended the run */
} lt_run_out;

/* Reads what the options name: --data's bytes, the --targets file and
 * the bodies it names (then lt_opts_use_targets). Returns 0, or -1 with
 * err set (a usage error). Free with lt_inputs_free, after a failure too. */
int lt_read_inputs(lt_opts *o, lt_targets *ts, char *err, size_t errlen);
void lt_inputs_free(lt_opts *o, lt_targets *ts);

/* Runs the load o describes (o's data already read, the shard set), from
 * o->start_at_us when given. Returns 0 with out filled (free it with
 * lt_run_out_free), 1 when the run could not be set up, 2 for an option
 * found wrong only now (the message printed). */
int lt_run(const lt_opts *o, const char *command, lt_run_out *out);

void lt_run_out_free(lt_run_out *out);

/* After a run or a merge: prints the text summary (on stdout, or stderr
 * when the result goes to stdout), writes the result to json_path and the
 * HTML report to html_path (NULL for none), checks o's thresholds and error limits. Returns the
 * exit status: 0, or 1 for a threshold not met, too many errors, none succeeded, or a file not
 * written. */
int lt_conclude(const lt_result *r, const lt_opts *o, const char *json_path, const char *html_path);

/* CLOCK_REALTIME in µs. */
uint64_t lt_unix_us(void);

/* The command line, space-separated (malloc'd; NULL when out of memory). */
char *lt_command_line(int argc, char **argv);

#endif
