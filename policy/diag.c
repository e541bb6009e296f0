/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct diag_list *diag_list_new(void)
{
	return calloc(1, sizeof(struct diag_list));
}

void diag_list_free(struct diag_list *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].message);
		free(d->items[i].hint);
	}
	free(d->items);
	for (size_t i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	free(d->files);
	free(d);
}

const char *diag_intern_file(struct diag_list *d, const char *name)
{
	char **files;
	char *copy;

	for (size_t i = 0; i < d->nfiles; i++)
		if (strcmp(d->files[i], name) == 0)
			return d->files[i];
	copy = strdup(name);
	if (!copy)
		return NULL;
	files = realloc(d->files, (d->nfiles + 1) * sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	d->files = files;
	d->files[d->nfiles++] = copy;
	return copy;
}

static int diag_grow(struct diag_list *d)
{
	return GROW(d->items, d->cap, d->n + 1, 16);
}

static void diag_add(struct diag_list *d, enum diag_severity severity, struct loc loc,
		     const char *hint, const char *fmt, va_list ap)
{
	char *message = NULL, *hint_copy = NULL;

	/* Count the error even when it cannot be stored: a caller testing nerrors must never
	 * mistake an out-of-memory for success. */
	if (severity == DIAG_ERROR)
		d->nerrors++;
	if (vasprintf(&message, fmt, ap) < 0)
		return;
	if (hint && !(hint_copy = strdup(hint)))
		goto fail;
	if (diag_grow(d) < 0)
		goto fail;
	d->items[d->n++] = (struct diag){severity, loc, message, hint_copy};
	return;
fail:
	free(message);
	free(hint_copy);
}

void diag_error(struct diag_list *d, struct loc loc, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, DIAG_ERROR, loc, hint, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag_list *d, struct loc loc, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, DIAG_WARNING, loc, hint, fmt, ap);
	va_end(ap);
}

/* Files sort in interning order, which is the order they were read; names not interned here
 * (or NULL) go last, by name. */
static size_t diag_file_rank(const struct diag_list *d, const char *file)
{
	for (size_t i = 0; i < d->nfiles; i++)
		if (d->files[i] == file)
			return i;
	return SIZE_MAX;
}

struct diag_sort_key {
	const struct diag *diag;
	size_t file_rank;
	size_t index; /* insertion order: makes qsort stable */
};

static int diag_cmp_int(long a, long b)
{
	return (a > b) - (a < b);
}

static int diag_sort_cmp(const void *pa, const void *pb)
{
	const struct diag_sort_key *a = pa, *b = pb;
	const struct loc *la = &a->diag->loc, *lb = &b->diag->loc;
	int c;

	if (a->file_rank != b->file_rank)
		return a->file_rank < b->file_rank ? -1 : 1;
	if (a->file_rank == SIZE_MAX && la->file != lb->file) {
		c = strcmp(la->file ? la->file : "", lb->file ? lb->file : "");
		if (c)
			return c;
	}
	if ((c = diag_cmp_int(la->line, lb->line)) || (c = diag_cmp_int(la->col, lb->col)))
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

static void diag_print_one(const struct diag *g, FILE *out)
{
	const char *file = g->loc.file ? g->loc.file : "<input>";
	const char *severity = g->severity == DIAG_ERROR ? "error" : "warning";

	/* Every line has the FILE:LINE:COL shape tools parse; a whole-file or whole-line
	 * problem points at where that file or line starts. */
	fprintf(out, "%s:%d:%d: %s: %s\n", file, g->loc.line > 0 ? g->loc.line : 1,
		g->loc.line > 0 && g->loc.col > 0 ? g->loc.col : 1, severity, g->message);
	if (g->hint)
		fprintf(out, "  hint: %s\n", g->hint);
}

void diag_print(const struct diag_list *d, FILE *out)
{
	struct diag_sort_key *keys;

	if (!d || d->n == 0)
		return;
	keys = calloc(d->n, sizeof(*keys));
	if (!keys) {
		/* Unsorted beats silent. */
		for (size_t i = 0; i < d->n; i++)
			diag_print_one(&d->items[i], out);
		return;
	}
	for (size_t i = 0; i < d->n; i++)
		keys[i] = (struct diag_sort_key){&d->items[i],
						 diag_file_rank(d, d->items[i].loc.file), i};
	qsort(keys, d->n, sizeof(*keys), diag_sort_cmp);
	for (size_t i = 0; i < d->n; i++)
		diag_print_one(keys[i].diag, out);
	free(keys);
}

static size_t diag_min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Optimal string alignment distance (Levenshtein plus adjacent transposition), which is what
 * typos look like: "prots" for "ports". Returns early with LIMIT + 1 once every cell of a row
 * exceeds LIMIT, so long candidates cost little.
 */
static size_t diag_edit_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), result;
	size_t *prev2, *prev, *cur, *rows;

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	rows = calloc(3 * (lb + 1), sizeof(*rows));
	if (!rows)
		return limit + 1;
	prev2 = rows, prev = rows + lb + 1, cur = rows + 2 * (lb + 1);
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t row_min;
		size_t *tmp;

		cur[0] = row_min = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = diag_min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
			if (cur[j] < row_min)
				row_min = cur[j];
		}
		if (row_min > limit) {
			free(rows);
			return limit + 1;
		}
		tmp = prev2, prev2 = prev, prev = cur, cur = tmp;
	}
	result = prev[lb];
	free(rows);
	return result;
}

const char *diag_closest(const char *word, const char *const *candidates, size_t n)
{
	const size_t max_distance = 2;
	size_t len = strlen(word), best_distance = SIZE_MAX;
	const char *best = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t dist = diag_edit_distance(word, candidates[i], max_distance);

		/* "< len": a one-letter word is within 2 of every short name; that's no hint. */
		if (dist <= max_distance && dist < len && dist < best_distance) {
			best = candidates[i];
			best_distance = dist;
		}
	}
	return best;
}
