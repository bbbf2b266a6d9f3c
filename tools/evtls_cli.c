/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_cli.c - pieces shared by the command-line programs. */
#include "evtls_cli.h"

#include <string.h>

int cli_parse_tls_version(const char *s, int *version)
{
    if (strcmp(s, "1.2") == 0)
        *version = 12;
    else if (strcmp(s, "1.3") == 0)
        *version = 13;
    else
        return -1;
    return 0;
}

int cli_parse_family(const char *s, int *family)
{
    if (strcmp(s, "any") == 0)
        *family = 0;
    else if (strcmp(s, "4") == 0)
        *family = 4;
    else if (strcmp(s, "6") == 0)
        *family = 6;
    else
        return -1;
    return 0;
}

void cli_json_string(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}
