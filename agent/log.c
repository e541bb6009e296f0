/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

static enum log_level log_max = LOG_LEVEL_INFO;

void log_set_level(enum log_level max)
{
	log_max = max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	va_list ap;

	if (level > log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One write per line: lines from a crash-looping agent never interleave. */
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s.%03ldZ netseg: %s: ", stamp, ts.tv_nsec / 1000000,
			 names[level]);
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
