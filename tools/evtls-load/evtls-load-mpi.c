/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls-load-mpi - evtls-load across MPI ranks: each rank is a shard.
 *
 *   mpirun -np N evtls-load-mpi [evtls-load's options] URL...
 *
 * Every rank parses the same options and takes shard RANK of N (an exact
 * share of -c, -n and --rate). Rank 0 picks the start (--start-at, or half
 * a second from now) and broadcasts it after a barrier; every rank runs
 * its share on its own loops; afterwards each rank's result (the
 * evtls-result/3 text --json writes) is gathered to rank 0, which merges
 * them exactly (lt_merge.c), prints the merged summary with the table of
 * ranks, writes --json and applies --threshold and --max-errors. No MPI
 * call runs while the event loops do: only before and after the run. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_merge.h"
#include "lt_opts.h"
#include "lt_run.h"

#define PROG "evtls-load-mpi"

/* The rank's result as text (malloc'd), NULL when it has none. */
static char *result_text(const lt_run_out *out, int ran, int *len)
{
    char *buf = ran ? lt_report_json_text(&out->res) : NULL;
    size_t n = buf ? strlen(buf) : 0;
    if (n > (size_t)0x7fffffff) { /* MPI counts are ints */
        free(buf);
        buf = NULL, n = 0;
    }
    *len = (int)n;
    return buf;
}

/* Rank 0: gathers every rank's result and concludes on their merge. */
static int merge_at_root(int size, const char *mine, int len, const lt_opts *o, const char *command)
{
    int *lens = calloc((size_t)size, sizeof *lens), *offs = calloc((size_t)size, sizeof *offs);
    if (lens == NULL || offs == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
    size_t total = 0;
    for (int i = 0; i < size; i++) {
        offs[i] = (int)total;
        total += (size_t)lens[i];
    }
    char *all = malloc(total + 1);
    if (all == NULL || total > (size_t)0x7fffffff) {
        fprintf(stderr, PROG ": results too large to gather (%zu bytes)\n", total);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Gatherv(mine, len, MPI_CHAR, all, lens, offs, MPI_CHAR, 0, MPI_COMM_WORLD);
    int status = 0;
    lt_merge *m = lt_merge_new();
    for (int i = 0; m && i < size; i++) {
        char name[32], err[1024];
        snprintf(name, sizeof name, "rank %d", i);
        if (lens[i] == 0) {
            fprintf(stderr, PROG ": rank %d has no result (its run could not start)\n", i);
            status = 1;
        } else if (lt_merge_add(m, all + offs[i], (size_t)lens[i], name, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": %s\n", err);
            status = 1;
        }
    }
    const lt_result *r = m ? lt_merge_result(m, o, command) : NULL;
    if (r == NULL) {
        fprintf(stderr, PROG ": no result to report\n");
        status = 1;
    } else {
        int s = lt_conclude(r, r->o, o->json_path, o->html_path);
        if (s)
            status = s;
    }
    lt_merge_free(m);
    free(all);
    free(lens);
    free(offs);
    return status;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    static lt_opts o;
    static char err[16384]; /* --help is written here too */
    int rc = lt_opts_parse(argc, argv, &o, err, sizeof err);
    if (rc == 1) {
        if (rank == 0)
            fputs(err, stdout);
        MPI_Finalize();
        return 0;
    }
    if (rc == 0 && o.shard_given)
        rc = lt_fail(err, sizeof err, "--shard: the MPI ranks are the shards here");
    if (rc == 0 && o.script_path)
        rc = lt_fail(err, sizeof err, "--script: run evtls-load (with --shard) for scripts");
    if (rc == 0) {
        o.shard_index = (unsigned)rank;
        o.shard_count = (unsigned)size;
        rc = lt_opts_shard_env(&o, NULL, NULL, err, sizeof err);
    }
    static lt_targets targets;
    if (rc == 0)
        rc = lt_read_inputs(&o, &targets, err, sizeof err);
    if (rc != 0) {
        /* Every rank parsed the same options: each finds the same fault. */
        if (rank == 0)
            fprintf(stderr, PROG ": %s\nTry 'evtls-load --help'.\n", err);
        MPI_Finalize();
        lt_inputs_free(&o, &targets);
        return 2;
    }
    if (rank != 0)
        o.no_progress = 1;
    static char log_path[4096];
    if (o.log_file) { /* one log per rank */
        snprintf(log_path, sizeof log_path, "%s.%d", o.log_file, rank);
        o.log_file = log_path;
    }
    if (rank == 0) {
        cli_tls_warn(&o.tls, PROG);
        if (o.total && o.duration_us && o.mode != LT_MODE_HOLD)
            fprintf(stderr,
                    PROG ": note: -n and -d both given: the run ends at whichever comes first\n");
    }
    /* One start for every rank: after a barrier, rank 0's choice. */
    uint64_t start = o.start_at_us ? o.start_at_us : lt_unix_us() + 500000;
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Bcast(&start, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    o.start_at_us = start;

    char *command = lt_command_line(argc, argv);
    lt_run_out out;
    int status = lt_run(&o, command, &out);
    int len;
    char *mine = result_text(&out, status == 0, &len);
    if (rank == 0) {
        int s = merge_at_root(size, mine, len, &o, command);
        if (s)
            status = s;
    } else {
        MPI_Gather(&len, 1, MPI_INT, NULL, 0, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Gatherv(mine, len, MPI_CHAR, NULL, NULL, NULL, MPI_CHAR, 0, MPI_COMM_WORLD);
    }
    free(mine);
    lt_run_out_free(&out); /* zeroed when the run did not start */
    free(command);
    lt_inputs_free(&o, &targets);
    MPI_Finalize();
    return status;
}
