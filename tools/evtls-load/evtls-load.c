/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls-load - a TLS load generator on evtls.
 *
 *   evtls-load [options] URL...        one run (a shard of one with --shard)
 *   evtls-load merge [options] FILE... shards' results merged into one
 *
 * The run itself is lt_run.c's, the merge lt_merge.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_merge.h"
#include "lt_opts.h"
#include "lt_run.h"

#define PROG "evtls-load"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return lt_merge_main(argc - 1, argv + 1);
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        cli_print_version(PROG);
        return 0;
    }
    static lt_opts o;
    static char err[16384]; /* --help is written here too */
    int rc = lt_opts_parse(argc, argv, &o, err, sizeof err);
    if (rc == 1) {
        fputs(err, stdout);
        return 0;
    }
    if (rc == 0)
        rc = lt_opts_shard_env(&o, getenv("JOB_COMPLETION_INDEX"), getenv("EVTLS_SHARD_COUNT"), err,
                               sizeof err);
    static lt_targets targets;
    if (rc == 0)
        rc = lt_read_inputs(&o, &targets, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", err);
        lt_inputs_free(&o, &targets);
        return 2;
    }
    cli_tls_warn(&o.tls, PROG);
    if (o.total && o.duration_us && o.mode != LT_MODE_HOLD)
        fprintf(stderr,
                PROG ": note: -n and -d both given: the run ends at whichever comes first\n");
    char *command = lt_command_line(argc, argv);
    lt_run_out out;
    int status = lt_run(&o, command, &out);
    if (status == 0) {
        status = lt_conclude(&out.res, &o, o.json_path, o.html_path);
        /* --script's done(), after the summary (which is on stderr when the
         * result is on stdout: so is done()'s output then) */
        int on_stdout = (o.json_path && strcmp(o.json_path, "-") == 0) ||
                        (o.html_path && strcmp(o.html_path, "-") == 0);
        if (out.script && lt_script_done(out.script, &out.res, on_stdout ? stderr : stdout) != 0)
            status = 1;
        if (out.script_failed)
            status = 1;
        /* Stopped by a signal: the summary is written, and the status says
         * the run did not end (130 after Ctrl-C, as shells report it). */
        if (out.res.interrupted)
            status = 128 + out.res.interrupted;
        lt_run_out_free(&out);
    }
    free(command);
    lt_inputs_free(&o, &targets);
    return status;
}
