/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_cli.h - small pieces shared by the command-line programs
 * (examples/evtls-poll.c, bench/evtls-load.c): option values and JSON
 * output. Not part of the library. */
#ifndef EVTLS_CLI_H
#define EVTLS_CLI_H

#include <stdio.h>

/* "1.2" or "1.3" -> 12 or 13. Returns 0, or -1 for anything else. */
int cli_parse_tls_version(const char *s, int *version);

/* "any", "4" or "6" -> 0, 4 or 6. Returns 0, or -1 for anything else. */
int cli_parse_family(const char *s, int *family);

/* Writes s as a JSON string (escaped, quoted), or null for NULL. */
void cli_json_string(FILE *f, const char *s);

#endif
