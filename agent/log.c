/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include "diag.h"
#include "metrics.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

static enum log_level log_max = LOG_LEVEL_INFO;

void log_set_level(enum log_level max)
{
	log_max = max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char stamp[40];
	va_list ap;

	if (level > log_max)
		return;
	/* The same UTC stamp as status and the decision log. */
	metrics_format_time(metrics_now_ns(), stamp, sizeof(stamp));
	/* One write per line: lines from a crash-looping agent never interleave. */
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s netseg: %s: ", stamp, names[level]);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

void log_diag(const struct diag_list *d, enum log_level level)
{
	char *text = NULL, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	diag_print(d, f);
	fclose(f);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_msg(level, "%s", line);
	free(text);
}
