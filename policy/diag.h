/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DIAG_H
#define NETSEG_DIAG_H

/*
 * Located diagnostics. Library code never prints: it appends here and the CLI renders
 * "FILE:LINE:COL: error: MESSAGE" (plus an optional "  hint: ..." line).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct loc {
	const char *file; /* borrowed; outlives the diagnostics (owned by the diag list) */
	int line;	  /* 1-based; 0 = whole file (rendered as 1:1) */
	int col;	  /* 1-based; 0 = whole line (rendered as column 1) */
};

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_severity severity;
	struct loc loc;
	char *message;
	char *hint; /* NULL when there is none */
};

struct diag_list {
	struct diag *items;
	size_t n, cap;
	size_t nerrors;
	char **files; /* interned file names, so struct loc can borrow them */
	size_t nfiles;
};

struct diag_list *diag_list_new(void);
void diag_list_free(struct diag_list *d);

/* Interns NAME and returns a pointer that lives as long as D. NULL on OOM. */
const char *diag_intern_file(struct diag_list *d, const char *name);

__attribute__((format(printf, 4, 5))) void diag_error(struct diag_list *d, struct loc loc,
						      const char *hint, const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void diag_warning(struct diag_list *d, struct loc loc,
							const char *hint, const char *fmt, ...);

/* Renders every diagnostic in insertion order, sorted stably by file/line/col. */
void diag_print(const struct diag_list *d, FILE *out);

/* "did you mean" helper: the candidate within a small edit distance of WORD, or NULL. */
const char *diag_closest(const char *word, const char *const *candidates, size_t n);

#endif
