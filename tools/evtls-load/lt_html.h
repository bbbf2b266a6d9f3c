/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_html.h - evtls-load's report as one self-contained HTML file (inline
 * CSS and SVG charts, no script, nothing fetched): --html, and merge's. */
#ifndef LT_HTML_H
#define LT_HTML_H

#include <stdio.h>

#include "lt_stats.h"

void lt_report_html(FILE *f, const lt_result *r);

#endif
