/* SPDX-License-Identifier: GPL-2.0-or-later */
/* load_run.h - what test_targets.c and test_script.c share: evtls-load
 * run as a user runs it, its result read with the load tester's JSON
 * reader, and nginx locations that each log apart into one directory. */
#ifndef LOAD_RUN_H
#define LOAD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "lt_json.h"
#include "proc.h"

/* The last run's output. */
extern struct proc load_proc;

/* Makes the directory the locations log into (/tmp/NAME-PID); 0 or -1. */
int load_dir_make(const char *name);
/* Its path, and the log of location NAME in it ("DIR/NAME.log"). */
const char *load_dir(void);
const char *load_log(const char *name);
/* Removes the logs of the names given and the directory. */
void load_dir_remove(const char *const *names, size_t n);

/* Runs evtls-load (EVTLS_LOAD_PATH) with the arguments (NULL-terminated);
 * its exit status. Fails the test when it did not end in timeout_ms. */
int load_run(unsigned timeout_ms, ...);

/* The lines of location name's log once it holds want (nginx logs after
 * the response goes), its text into copy (cap bytes; NULL for none), then
 * emptied. */
int load_take_log(const char *name, int want, char *copy, size_t cap);

/* The result at path, parsed (free with lt_json_free); fails the test
 * when it is missing or not JSON. */
lt_json *load_result(const char *path);

/* The count under key in j; fails the test when there is none. */
uint64_t load_u64(const lt_json *j, const char *key);

#endif
